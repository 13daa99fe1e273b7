"""Every write to accounts: users, assignments, API tokens. Atomic and audited."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from probity.accounts.models import ApiToken, Assignment, User, hash_token, new_raw_token
from probity.accounts.roles import Role
from probity.audit.services import audit_record, snapshot

_USER_FIELDS = ["username", "first_name", "last_name", "email", "is_active", "language"]


@transaction.atomic
def user_create(
    *,
    actor,
    username: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    language: str = "",
) -> User:
    user = User(
        username=username.strip(),
        first_name=first_name,
        last_name=last_name,
        email=email,
        language=language,
    )
    if User.objects.filter(username__iexact=user.username).exists():
        raise ValidationError({"username": _("A user with this username already exists.")})
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(
        actor=actor, action="accounts.user_create", obj=user, after=snapshot(user, _USER_FIELDS)
    )
    return user


@transaction.atomic
def user_update(*, actor, user: User, **changes) -> User:
    unknown = set(changes) - {"first_name", "last_name", "email", "is_active", "language"}
    if unknown:
        raise ValidationError(
            _("Cannot change %(fields)s of a user.") % {"fields": ", ".join(sorted(unknown))}
        )
    before = snapshot(user, _USER_FIELDS)
    for name, value in changes.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(
        actor=actor,
        action="accounts.user_update",
        obj=user,
        before=before,
        after=snapshot(user, _USER_FIELDS),
    )
    return user


@transaction.atomic
def user_set_password(*, actor, user: User, password: str) -> None:
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=actor, action="accounts.user_set_password", obj=user)


@transaction.atomic
def user_set_language(*, actor, user: User, language: str) -> None:
    if user.language == language:
        return
    before = {"language": user.language}
    user.language = language
    user.save(update_fields=["language"])
    audit_record(
        actor=actor,
        action="accounts.user_set_language",
        obj=user,
        before=before,
        after={"language": language},
    )


@transaction.atomic
def assignment_grant(*, actor, user: User, role: str, unit) -> Assignment:
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role %(role)s.") % {"role": role}})
    existing = Assignment.objects.filter(
        user=user, role=role, unit=unit, revoked_at__isnull=True
    ).first()
    if existing:
        raise ValidationError({"role": _("This user already holds this role over this unit.")})
    assignment = Assignment.objects.create(user=user, role=role, unit=unit, granted_by=actor)
    audit_record(
        actor=actor,
        action="accounts.assignment_grant",
        obj=assignment,
        after=snapshot(assignment, ["user", "role", "unit"]),
    )
    return assignment


@transaction.atomic
def assignment_revoke(*, actor, assignment: Assignment) -> Assignment:
    if assignment.revoked_at is not None:
        raise ValidationError(_("This assignment is already revoked."))
    assignment.revoked_at = timezone.now()
    assignment.revoked_by = actor
    assignment.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action="accounts.assignment_revoke",
        obj=assignment,
        before={"revoked_at": None},
        after={"revoked_at": assignment.revoked_at.isoformat()},
    )
    return assignment


@transaction.atomic
def token_create(*, actor, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns it with the raw token, which is never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name that says what uses it.")})
    if not user.is_active:
        raise ValidationError({"user": _("Tokens can only be created for active users.")})
    raw = new_raw_token()
    token = ApiToken.objects.create(
        user=user, name=name[:100], token_hash=hash_token(raw), hint=raw[:10], created_by=actor
    )
    audit_record(
        actor=actor,
        action="accounts.token_create",
        obj=token,
        after={"user": user.pk, "name": token.name, "hint": token.hint},
    )
    return token, raw


@transaction.atomic
def token_revoke(*, actor, token: ApiToken) -> ApiToken:
    if token.revoked_at is not None:
        raise ValidationError(_("This token is already revoked."))
    token.revoked_at = timezone.now()
    token.revoked_by = actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action="accounts.token_revoke",
        obj=token,
        before={"revoked_at": None},
        after={"revoked_at": token.revoked_at.isoformat()},
    )
    return token


def token_authenticate(raw: str) -> User | None:
    """The active user behind an active token, noting when the token was last used."""
    if not raw or not raw.startswith("prb_"):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- log-in, log-out and two-factor events ----------------------------------------------


def login_record(*, user: User) -> None:
    """A successful password log-in."""
    with transaction.atomic():
        audit_record(actor=user, action="accounts.login", obj=user)


def logout_record(*, user: User) -> None:
    with transaction.atomic():
        audit_record(actor=user, action="accounts.logout", obj=user)


def login_failure_record(*, username: str) -> None:
    """A refused log-in: only the username that was tried, never the password."""
    username = (username or "")[:150]
    with transaction.atomic():
        audit_record(
            actor=None,
            action="accounts.login_failed",
            object_type="accounts.user",
            object_repr=username,
            after={"username": username},
        )


def lockout_record(*, username: str) -> None:
    """Too many refused log-ins: the username is locked for the cool-off period."""
    username = (username or "")[:150]
    with transaction.atomic():
        audit_record(
            actor=None,
            action="accounts.lockout",
            object_type="accounts.user",
            object_repr=username,
            after={"username": username},
        )


def totp_device_start(*, user: User):
    """The user's pending (unconfirmed) authenticator, created when there is none.

    An unconfirmed device grants nothing, so it is not audited; its confirmation is.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)
        return device


def _clean_code(code: str) -> str:
    return "".join((code or "").split())


def two_factor_enrol(*, user: User, device, code: str) -> bool:
    """Confirm the pending authenticator when ``code`` is right; audited either way."""
    from django_otp import verify_token
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if device.user_id != user.pk:
        raise ValidationError(_("This authenticator belongs to another user."))
    with transaction.atomic():
        if verify_token(user, device.persistent_id, _clean_code(code)) is None:
            audit_record(
                actor=user, action="accounts.2fa_failed", obj=user, after={"stage": "enrol"}
            )
            return False
        device.refresh_from_db()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).exclude(pk=device.pk).delete()
        audit_record(
            actor=user,
            action="accounts.2fa_enrol",
            obj=user,
            after={"device": device.persistent_id},
        )
    return True


def two_factor_verify(*, user: User, code: str):
    """The confirmed device that accepts ``code``, or ``None``; audited either way.

    Each device is checked on its own, inside a transaction, so that django-otp's throttling
    (a growing delay after each wrong code) holds.
    """
    from django_otp import devices_for_user, verify_token

    code = _clean_code(code)
    with transaction.atomic():
        matched = None
        if code:
            for device in list(devices_for_user(user, confirmed=True)):
                matched = verify_token(user, device.persistent_id, code)
                if matched is not None:
                    break
        audit_record(
            actor=user,
            action="accounts.2fa_verify" if matched else "accounts.2fa_failed",
            obj=user,
            after={"stage": "verify"},
        )
    return matched


def two_factor_throttled(user: User) -> bool:
    """Whether wrong codes have made every confirmed device wait before the next try."""
    from django_otp import devices_for_user

    devices = list(devices_for_user(user, confirmed=True))
    return bool(devices) and all(not d.verify_is_allowed()[0] for d in devices)


@transaction.atomic
def two_factor_reset(*, actor, user: User) -> int:
    """Remove a user's authenticators (a lost phone); they enrol again at next log-in."""
    from django_otp import devices_for_user

    removed = 0
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
        removed += 1
    audit_record(actor=actor, action="accounts.2fa_reset", obj=user, after={"removed": removed})
    return removed
