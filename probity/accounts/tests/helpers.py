"""Small helpers shared by the accounts tests."""

from django_otp.oath import TOTP

from probity.accounts.models import Assignment, User
from probity.audit.models import AuditEntry


def current_code(device) -> str:
    """The code an authenticator app would show now for ``device``."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def make_user(username: str, *, unit=None, role: str = "collector", **fields) -> User:
    user = User.objects.create_user(username=username, password="Test-pass-2026!", **fields)
    if unit is not None:
        Assignment.objects.create(user=user, role=role, unit=unit)
    return user


def actions(**filters) -> list[str]:
    return list(AuditEntry.objects.filter(**filters).values_list("action", flat=True))
