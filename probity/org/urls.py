from django.urls import path

from probity.org import views

app_name = "org"

urlpatterns = [
    path("", views.tree, name="tree"),
    path("laboratories/", views.laboratories, name="laboratories"),
]
