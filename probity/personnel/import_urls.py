from django.urls import path

from probity.personnel import import_views

urlpatterns = [
    path("", import_views.import_start, name="import"),
]
