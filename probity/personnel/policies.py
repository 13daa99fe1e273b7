"""Who may see and change people. Jurisdiction: the person's current unit of employment
lies in a subtree where the user holds a role with the permission."""

from django.db.models import Q

from probity.accounts.roles import roles_with_permission
from probity.org.policies import jurisdiction_q


def _scope(user, perm: str, unit_field: str) -> Q:
    if not user.is_authenticated or not user.has_perm(perm):
        return Q(pk__in=[])
    return jurisdiction_q(user, roles=roles_with_permission(perm), unit_field=unit_field)


def employments_visible_to(user) -> Q:
    """A filter on ``Employment``."""
    return _scope(user, "personnel.view_person", "unit")


def people_visible_to(user) -> Q:
    """A filter on ``Person``: any of their employments lies within the user's scope."""
    return _scope(user, "personnel.view_person", "employments__unit")


def units_importable_by(user) -> Q:
    """A filter on ``Unit``: where the user may create or change people."""
    return _scope(user, "personnel.import_people", "")


def _within(user, perm: str, unit) -> bool:
    if not user.is_authenticated or not user.has_perm(perm):
        return False
    paths = user.unit_paths(*roles_with_permission(perm))
    return paths is None or any(unit.path.startswith(p) for p in paths)


def can_view_employment(user, employment) -> bool:
    return _within(user, "personnel.view_person", employment.unit)


def can_change_employment(user, employment) -> bool:
    return _within(user, "personnel.change_person", employment.unit)


def can_add_person_in(user, unit) -> bool:
    return _within(user, "personnel.change_person", unit)


def can_record_status(user, employment) -> bool:
    return _within(user, "personnel.record_status", employment.unit)


def can_import_into(user, unit) -> bool:
    return _within(user, "personnel.import_people", unit)


def can_import(user) -> bool:
    return user.is_authenticated and user.has_perm("personnel.import_people")
