"""When a user must present a second factor (TOTP) before using Probity."""

from django.conf import settings

from probity.accounts.roles import TWO_FACTOR_ROLES


def requires_two_factor(user) -> bool:
    if not settings.PROBITY_REQUIRE_2FA or not user.is_authenticated:
        return False
    return user.is_superuser or bool(user.roles() & TWO_FACTOR_ROLES)


def needs_second_factor(request) -> bool:
    """True when the logged-in user must still verify (or enrol) a TOTP device."""
    user = request.user
    if not requires_two_factor(user):
        return False
    is_verified = getattr(user, "is_verified", None)
    return not (callable(is_verified) and is_verified())
