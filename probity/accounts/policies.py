"""Who may see and change users, their assignments and API tokens.

Jurisdiction for accounts follows the organisation tree like everywhere else, but
accounts is a low layer and does not import ``probity.org``: units are reached through
``Assignment.unit`` and their materialised ``path`` (``/1/5/``).

* **See a user** (``accounts.view_user``: administrators, auditors): the user holds at
  least one active assignment within the viewer's subtrees, or holds no active assignment
  at all (a new or unplaced account, so that it can be found and given a role).
* **Change an account** (edit, password, activate, two-factor reset, tokens): the user's
  active assignments *all* lie within the actor's subtrees, so that a provincial
  administrator can never take over an account that acts at national level. Superusers
  are changed only by superusers.
* **Grant or revoke a role**: the unit lies within the actor's subtrees and the user is
  one the actor may see.

The superuser acts everywhere. Every list is built on these filters, so it cannot leak.
"""

from django.db.models import Q

from probity.accounts.models import ApiToken, Assignment, User
from probity.accounts.roles import roles_with_permission

VIEW_USERS = "accounts.view_user"
MANAGE_USERS = "accounts.manage_users"
MANAGE_TOKENS = "accounts.manage_tokens"

NOTHING = Q(pk__in=[])


def _outermost(paths: list[str]) -> list[str]:
    kept: list[str] = []
    for path in sorted(paths, key=len):
        if not any(path.startswith(outer) for outer in kept):
            kept.append(path)
    return kept


def scope_paths(user, perm: str) -> list[str] | None:
    """The subtrees (unit paths) where ``user`` holds a role carrying ``perm``.

    ``None`` means everywhere (the superuser); an empty list means nowhere.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return None
    return _outermost(user.unit_paths(*roles_with_permission(perm)))


def _within(path: str, paths: list[str] | None) -> bool:
    return paths is None or any(path.startswith(p) for p in paths)


def _path_q(paths: list[str], lookup: str = "unit__path__startswith") -> Q:
    q = Q()
    for path in paths:
        q |= Q(**{lookup: path})
    return q


def _active_assignments():
    return Assignment.objects.filter(revoked_at__isnull=True)


def _unplaced_q() -> Q:
    return ~Q(pk__in=_active_assignments().values("user"))


def _users_seen_q(paths: list[str] | None) -> Q:
    if paths is None:
        return Q()
    if not paths:
        return NOTHING
    in_scope = _active_assignments().filter(_path_q(paths)).values("user")
    return Q(pk__in=in_scope) | _unplaced_q()


def _users_changeable_q(paths: list[str] | None) -> Q:
    if paths is None:
        return Q()
    if not paths:
        return NOTHING
    outside = _active_assignments().exclude(_path_q(paths)).values("user")
    return ~Q(pk__in=outside) & Q(is_superuser=False)


# --- users ------------------------------------------------------------------------------


def can_view_users(user) -> bool:
    return user.is_authenticated and user.has_perm(VIEW_USERS)


def can_manage_users(user) -> bool:
    return user.is_authenticated and user.has_perm(MANAGE_USERS)


def visible_to(user) -> Q:
    """Users that ``user`` may see in the users pages."""
    if not can_view_users(user):
        return NOTHING
    return _users_seen_q(scope_paths(user, VIEW_USERS))


def changeable_by(actor, perm: str = MANAGE_USERS) -> Q:
    """Accounts that ``actor`` may change (``perm``: manage_users, or manage_tokens)."""
    if not (actor.is_authenticated and actor.has_perm(perm)):
        return NOTHING
    return _users_changeable_q(scope_paths(actor, perm))


def can_view_user(user, target: User) -> bool:
    return User.objects.filter(visible_to(user), pk=target.pk).exists()


def can_change_user(actor, target: User, perm: str = MANAGE_USERS) -> bool:
    if not (actor.is_authenticated and actor.has_perm(perm)):
        return False
    paths = scope_paths(actor, perm)
    if paths is None:
        return True
    if target.is_superuser or not paths:
        return False
    target_paths = _active_assignments().filter(user=target).values_list("unit__path", flat=True)
    return all(_within(path, paths) for path in target_paths)


def can_deactivate_user(actor, target: User) -> bool:
    """Nobody switches off their own account (they would lock themselves out)."""
    return target.pk != actor.pk and can_change_user(actor, target)


def grantable_units_q(actor) -> Q:
    """A ``Q`` over ``org.Unit``: the units ``actor`` may grant roles over."""
    if not can_manage_users(actor):
        return NOTHING
    paths = scope_paths(actor, MANAGE_USERS)
    if paths is None:
        return Q()
    if not paths:
        return NOTHING
    return _path_q(paths, "path__startswith")


def can_grant(actor, target: User, unit) -> bool:
    if not can_manage_users(actor) or target.is_superuser or not target.is_active:
        return False
    paths = scope_paths(actor, MANAGE_USERS)
    if not _within(unit.path, paths):
        return False
    return User.objects.filter(_users_seen_q(paths), pk=target.pk).exists()


def can_grant_any(actor, target: User) -> bool:
    """Whether to offer the grant form at all."""
    if not can_manage_users(actor) or target.is_superuser or not target.is_active:
        return False
    paths = scope_paths(actor, MANAGE_USERS)
    return User.objects.filter(_users_seen_q(paths), pk=target.pk).exists()


def can_revoke(actor, assignment: Assignment) -> bool:
    return (
        assignment.is_active
        and can_manage_users(actor)
        and _within(assignment.unit.path, scope_paths(actor, MANAGE_USERS))
    )


# --- API tokens -------------------------------------------------------------------------


def can_manage_tokens(user) -> bool:
    return user.is_authenticated and user.has_perm(MANAGE_TOKENS)


def tokens_visible_to(user) -> Q:
    """Tokens of the users that ``user`` may see with the token-manager's role."""
    if not can_manage_tokens(user):
        return NOTHING
    paths = scope_paths(user, MANAGE_TOKENS)
    if paths is None:
        return Q()
    return Q(user__in=User.objects.filter(_users_seen_q(paths)))


def can_create_token_for(actor, target: User) -> bool:
    """A token acts as its user, so it is only made for an account the actor may change."""
    return target.is_active and can_change_user(actor, target, MANAGE_TOKENS)


def can_revoke_token(actor, token: ApiToken) -> bool:
    visible = ApiToken.objects.filter(tokens_visible_to(actor), pk=token.pk)
    return token.is_active and visible.exists()
