from django.urls import path

from probity.org import views

app_name = "org"

urlpatterns = [
    path("", views.tree, name="tree"),
    path("new/", views.unit_create_root, name="unit_create_root"),
    path("units/<str:code>/", views.unit_detail, name="unit"),
    path("units/<str:code>/children/", views.unit_children, name="unit_children"),
    path("units/<str:code>/new/", views.unit_create, name="unit_create"),
    path("units/<str:code>/edit/", views.unit_edit, name="unit_edit"),
    path("laboratories/", views.laboratories, name="laboratories"),
    path("laboratories/new/", views.laboratory_create, name="laboratory_create"),
    path("agencies/", views.agencies, name="agencies"),
    path("agencies/new/", views.agency_create, name="agency_create"),
    path("agencies/ranks/new/", views.rank_create, name="rank_create"),
    path("provinces/", views.provinces, name="provinces"),
    path("provinces/<str:code>/", views.province_detail, name="province"),
]
