from django.urls import include, path

from probity import views
from probity.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("accounts/", include("probity.accounts.urls")),
    path("org/", include("probity.org.urls")),
    path("audit/", include("probity.audit.urls")),
    path("people/", include("probity.personnel.urls")),
    path("testing/", include("probity.testing.urls")),
    path("api/v1/", api.urls),
]

handler400 = "probity.core.views.bad_request"
handler403 = "probity.core.views.permission_denied"
handler404 = "probity.core.views.page_not_found"
handler500 = "probity.core.views.server_error"
