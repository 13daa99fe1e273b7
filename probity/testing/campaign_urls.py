"""Pages of panels, campaigns and draws (see campaign_views)."""

from django.urls import path

from probity.testing import campaign_views as views

urlpatterns = [
    path("panels/", views.panels, name="panels"),
    path("panels/new/", views.panel_add, name="panel_add"),
    path("panels/<int:pk>/", views.panel, name="panel"),
    path("panels/<int:pk>/versions/new/", views.panel_version_add, name="panel_version_add"),
    path("panels/<int:pk>/agencies/", views.panel_assign, name="panel_assign"),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/new/", views.campaign_add, name="campaign_add"),
    path("campaigns/<int:pk>/", views.campaign, name="campaign"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/progress/", views.campaign_progress, name="campaign_progress"),
    path("campaigns/<int:pk>/start/", views.campaign_start, name="campaign_start"),
    path("campaigns/<int:pk>/complete/", views.campaign_complete, name="campaign_complete"),
    path("campaigns/<int:pk>/cancel/", views.campaign_cancel, name="campaign_cancel"),
    path("campaigns/<int:pk>/draws/new/", views.draw_commit, name="draw_commit"),
    path("draws/<int:pk>/", views.draw, name="draw"),
    path("draws/<int:pk>/perform/", views.draw_perform, name="draw_perform"),
    path("draws/<int:pk>/verify/", views.draw_verify, name="draw_verify"),
    path("draws/<int:pk>/pool.txt", views.draw_pool, name="draw_pool"),
    path("selections/<int:pk>/excuse/", views.selection_excuse, name="selection_excuse"),
    path("laboratory-staff/", views.lab_staff, name="lab_staff"),
    path("laboratory-staff/<int:pk>/remove/", views.lab_staff_remove, name="lab_staff_remove"),
]
