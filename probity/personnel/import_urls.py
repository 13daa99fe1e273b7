from django.urls import path

from probity.personnel import import_views

urlpatterns = [
    path("", import_views.import_start, name="import"),
    path("template.xlsx", import_views.import_template, name="import_template"),
    path("<int:pk>/", import_views.import_batch, name="import_batch"),
    path("<int:pk>/errors.csv", import_views.import_errors_csv, name="import_errors_csv"),
    path("<int:pk>/confirm/", import_views.import_confirm, name="import_confirm"),
]
