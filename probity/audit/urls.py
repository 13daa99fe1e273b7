from django.urls import path

from probity.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.log, name="log"),
    path("entries/<int:seq>/", views.entry, name="entry"),
    path("verify/", views.verify, name="verify"),
    path("access/", views.access_log, name="access_log"),
]
