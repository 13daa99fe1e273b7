from ninja.security import HttpBearer, SessionAuth

from probity.accounts.services import token_authenticate
from probity.accounts.twofactor import needs_second_factor


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``; the token's user acts with their own roles."""

    openapi_description = "An API token created by an administrator."

    def authenticate(self, request, token):
        user = token_authenticate(token)
        if user is None:
            return None
        request.user = user
        return user


class VerifiedSessionAuth(SessionAuth):
    """The browser session (with CSRF). Where two-factor is required, only once verified."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is None:
            return None
        if needs_second_factor(request):
            return None
        return user
