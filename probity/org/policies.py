"""Who may see and change the organisation, and the jurisdiction filter every app uses.

Jurisdiction is a ``Q``: a user's assignments give them units' subtrees, and a row is
visible when its unit lies in one of them. Lists built on these filters cannot leak rows.
"""

from django.db.models import Q

from probity.accounts.roles import roles_with_permission

NOTHING = Q(pk__in=[])


def jurisdiction_q(user, *, roles, unit_field: str = "") -> Q:
    """Rows whose unit (``unit_field``, e.g. ``"unit"`` or ``"employment__unit"``) lies in
    a subtree where ``user`` holds one of ``roles``. The empty field means the Unit itself."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    paths = user.unit_paths(*roles)
    if paths is None:
        return Q()
    if not paths:
        return NOTHING
    lookup = f"{unit_field}__path__startswith" if unit_field else "path__startswith"
    q = Q()
    for path in outermost(paths):
        q |= Q(**{lookup: path})
    return q


def outermost(paths: list[str]) -> list[str]:
    """Drop paths that lie inside another path of the list."""
    kept: list[str] = []
    for path in sorted(paths, key=len):
        if not any(path.startswith(outer) for outer in kept):
            kept.append(path)
    return kept


def _paths_for(user, perm: str) -> list[str] | None:
    """Subtree paths where ``user`` holds a role granting ``perm``; ``None`` is everywhere."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    return user.unit_paths(*roles_with_permission(perm))


def _within(user, perm: str, unit) -> bool:
    paths = _paths_for(user, perm)
    return paths is None or any(unit.path.startswith(p) for p in paths)


def units_visible_to(user) -> Q:
    return jurisdiction_q(user, roles=roles_with_permission("org.view_unit"))


def units_changeable_by(user) -> Q:
    return jurisdiction_q(user, roles=roles_with_permission("org.change_unit"))


def can_view_unit(user, unit) -> bool:
    return _within(user, "org.view_unit", unit)


def can_browse_units(user) -> bool:
    """May open the organisation pages at all (some roles only see laboratories)."""
    return bool(user.is_authenticated and user.has_perm("org.view_unit"))


def can_change_unit(user, unit) -> bool:
    return _within(user, "org.change_unit", unit)


def can_create_unit(user, parent) -> bool:
    """A sub-unit under ``parent``; a new root (``parent`` None) needs the whole installation."""
    if parent is None:
        return _paths_for(user, "org.change_unit") is None
    return can_change_unit(user, parent)


def can_move_unit(user, unit, new_parent) -> bool:
    """Both ends of a move must be within the user's reach."""
    return can_change_unit(user, unit) and can_create_unit(user, new_parent)


def can_view_laboratories(user) -> bool:
    return bool(user.is_authenticated and user.has_perm("org.view_laboratory"))


def can_manage_laboratories(user) -> bool:
    return bool(user.is_authenticated and user.has_perm("org.change_laboratory"))


def can_manage_reference_data(user) -> bool:
    """Agencies and ranks are installation-wide reference data."""
    return bool(user.is_authenticated and user.has_perm("org.change_agency"))
