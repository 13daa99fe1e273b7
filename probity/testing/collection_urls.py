"""Pages of sessions, collections, specimens and custody (see collection_views)."""

from django.urls import path

from probity.testing import collection_views as views

urlpatterns = [
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/add/", views.session_add, name="session_add"),
    path("sessions/<int:pk>/", views.session, name="session"),
    path("sessions/<int:pk>/draw/", views.session_add_draw, name="session_add_draw"),
    path("sessions/<int:pk>/people/", views.session_add_people, name="session_add_people"),
    path("sessions/<int:pk>/state/", views.session_state, name="session_state"),
    path("sessions/<int:pk>/collect/<int:entry>/", views.collect, name="collect"),
    path("sessions/<int:pk>/refuse/<int:entry>/", views.refuse, name="refuse"),
    path("specimens/", views.specimens, name="specimens"),
    path("specimens/<str:specimen_id>/", views.specimen, name="specimen"),
    path("specimens/<str:specimen_id>/custody/", views.custody_add, name="custody_add"),
    path("specimens/<str:specimen_id>/labels.pdf", views.labels_pdf, name="labels_pdf"),
    path(
        "specimens/<str:specimen_id>/custody-form.pdf",
        views.custody_form_pdf,
        name="custody_form_pdf",
    ),
]
