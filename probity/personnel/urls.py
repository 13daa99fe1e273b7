from django.urls import include, path

from probity.personnel import views

app_name = "personnel"

urlpatterns = [
    path("", views.people, name="people"),
    path("import/", include("probity.personnel.import_urls")),
]
