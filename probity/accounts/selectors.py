"""Reads of users, assignments and tokens, always through the caller's scope."""

from django.apps import apps
from django.db.models import F, Prefetch, Q
from django_otp import user_has_device

from probity.accounts import policies
from probity.accounts.models import ApiToken, Assignment, User


def _unit_model():
    # Accounts sits below org: reach the model by name rather than by import.
    return apps.get_model("org", "Unit")


def _current_assignments():
    return Prefetch(
        "assignments",
        queryset=Assignment.objects.filter(revoked_at__isnull=True)
        .select_related("unit")
        .order_by("role", "unit__path"),
        to_attr="current_assignments",
    )


def users_for(viewer, *, q: str = ""):
    """The users ``viewer`` may see, optionally searched by username, name or e-mail."""
    qs = User.objects.filter(policies.visible_to(viewer))
    q = q.strip()
    if q:
        for word in q.split():
            qs = qs.filter(
                Q(username__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
            )
    return qs.prefetch_related(_current_assignments()).order_by("username")


def user_get(viewer, username: str) -> User | None:
    return User.objects.filter(policies.visible_to(viewer), username=username).first()


def assignments_of(user: User):
    """All of a user's assignments, current first, then the revoked ones newest first."""
    qs = Assignment.objects.filter(user=user).select_related("unit", "granted_by", "revoked_by")
    current = qs.filter(revoked_at__isnull=True).order_by("role", "unit__path")
    past = qs.filter(revoked_at__isnull=False).order_by("-revoked_at")
    return list(current), list(past)


def grantable_units(actor):
    """Active units within the actor's jurisdiction to manage users, in tree order."""
    Unit = _unit_model()
    return (
        Unit.objects.filter(policies.grantable_units_q(actor), active=True)
        .select_related("agency")
        .order_by("path")
    )


def has_two_factor(user: User) -> bool:
    return user_has_device(user, confirmed=True)


def tokens_for(viewer, *, q: str = "", include_revoked: bool = True):
    qs = ApiToken.objects.filter(policies.tokens_visible_to(viewer)).select_related(
        "user", "created_by", "revoked_by"
    )
    if not include_revoked:
        qs = qs.filter(revoked_at__isnull=True)
    q = q.strip()
    if q:
        qs = qs.filter(
            Q(name__icontains=q) | Q(user__username__icontains=q) | Q(hint__startswith=q)
        )
    return qs.order_by(F("revoked_at").asc(nulls_first=True), "-created_at")


def token_get(viewer, pk: int) -> ApiToken | None:
    return ApiToken.objects.filter(policies.tokens_visible_to(viewer), pk=pk).first()


def token_owners_for(actor):
    """Active accounts the actor may create tokens for."""
    return User.objects.filter(
        policies.changeable_by(actor, policies.MANAGE_TOKENS), is_active=True
    ).order_by("username")
