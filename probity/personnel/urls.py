from django.urls import include, path

from probity.personnel import views

app_name = "personnel"

urlpatterns = [
    path("", views.people, name="people"),
    path("export.csv", views.people_export_csv, name="people_export_csv"),
    path("export.xlsx", views.people_export_xlsx, name="people_export_xlsx"),
    path("new/", views.person_add, name="person_add"),
    path("<int:pk>/", views.person, name="person"),
    path("<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("<int:pk>/employment/", views.employment_change, name="employment_change"),
    path("<int:pk>/status/", views.status_record, name="status_record"),
    path("units/<str:code>/headcount/", views.unit_headcount, name="unit_headcount"),
    path("import/", include("probity.personnel.import_urls")),
]
