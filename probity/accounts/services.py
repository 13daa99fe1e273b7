"""Every write to accounts: users, assignments, API tokens. Atomic and audited."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

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
        raise ValidationError({"username": "A user with this username already exists."})
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
        raise ValidationError(f"Cannot change {', '.join(sorted(unknown))} of a user.")
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
        raise ValidationError({"role": f"Unknown role {role!r}."})
    existing = Assignment.objects.filter(
        user=user, role=role, unit=unit, revoked_at__isnull=True
    ).first()
    if existing:
        raise ValidationError({"role": "This user already holds this role over this unit."})
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
        raise ValidationError("This assignment is already revoked.")
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
        raise ValidationError({"name": "Give the token a name that says what uses it."})
    if not user.is_active:
        raise ValidationError({"user": "Tokens can only be created for active users."})
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
        raise ValidationError("This token is already revoked.")
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
