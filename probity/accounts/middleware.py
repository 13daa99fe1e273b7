from urllib.parse import quote

from django.shortcuts import redirect
from django.urls import reverse

from probity.accounts.twofactor import needs_second_factor
from probity.core.api import error_response

_OPEN_PREFIXES = ("/static/", "/i18n/", "/accounts/login/", "/accounts/logout/")


class TwoFactorMiddleware:
    """Sends users who must use two-factor authentication to enrol or verify first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if (
            not path.startswith(_OPEN_PREFIXES)
            and not path.startswith("/accounts/2fa/")
            and needs_second_factor(request)
        ):
            if path.startswith("/api/"):
                if request.headers.get("Authorization", "").lower().startswith("bearer "):
                    return self.get_response(request)
                return error_response(
                    403, "Two-factor authentication is required: verify your code first."
                )
            from django_otp import user_has_device

            target = (
                "accounts:2fa_verify" if user_has_device(request.user) else "accounts:2fa_setup"
            )
            next_url = request.get_full_path() if request.method == "GET" else path
            return redirect(f"{reverse(target)}?next={quote(next_url, safe='/')}")
        return self.get_response(request)
