"""Reads of the organisation, always through the caller's jurisdiction."""

from django.db.models import Count, Q

from probity.accounts.roles import roles_with_permission
from probity.org.models import Agency, Laboratory, Province, Unit
from probity.org.policies import outermost, units_visible_to


def units_for(user, *, agency: str = "", parent: str = "", q: str = "", province: str = ""):
    qs = Unit.objects.filter(units_visible_to(user)).select_related(
        "agency", "parent", "province", "district"
    )
    if agency:
        qs = qs.filter(agency__code=agency)
    if parent:
        qs = qs.filter(parent__code=parent)
    if province:
        qs = qs.filter(province__code=province)
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name_en__icontains=q) | Q(name_km__icontains=q))
    return qs.order_by("path")


def unit_get(user, code: str) -> Unit | None:
    return units_for(user).filter(code=code).first()


def unit_roots_for(user):
    """The topmost units the user can see: their assignments' units (or every agency root)."""
    paths = user.unit_paths(*roles_with_permission("org.view_unit"))
    visible = units_for(user)
    if paths is None:
        return visible.filter(parent__isnull=True)
    return visible.filter(path__in=outermost(paths))


def unit_children(user, unit: Unit):
    return (
        units_for(user).filter(parent=unit).annotate(child_count=Count("children")).order_by("code")
    )


def agencies_for(user):
    return Agency.objects.filter(
        pk__in=Unit.objects.filter(units_visible_to(user)).values("agency")
    ).order_by("code")


def laboratories_for(user, *, active_only: bool = False):
    if not user.has_perm("org.view_laboratory"):
        return Laboratory.objects.none()
    qs = Laboratory.objects.select_related("province")
    if active_only:
        qs = qs.filter(active=True)
    return qs.order_by("code")


def provinces():
    return Province.objects.order_by("mef_code")
