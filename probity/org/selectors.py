"""Reads of the organisation, always through the caller's jurisdiction."""

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from probity.accounts.roles import roles_with_permission
from probity.org.models import Agency, District, Laboratory, Province, Rank, Unit
from probity.org.policies import outermost, units_changeable_by, units_visible_to


def _with_child_count(qs):
    children = (
        Unit.objects.filter(parent=OuterRef("pk"))
        .order_by()
        .values("parent")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return qs.annotate(child_count=Coalesce(Subquery(children, output_field=IntegerField()), 0))


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
        q = q.strip()
        qs = qs.filter(Q(code__icontains=q) | Q(name_en__icontains=q) | Q(name_km__icontains=q))
    return qs.order_by("path")


def unit_get(user, code: str) -> Unit | None:
    """The unit with ``code`` if the user may see it; ``None`` whether or not it exists."""
    return units_for(user).filter(code=code).first()


def unit_roots_for(user):
    """The topmost units the user can see: their assignments' units (or every agency root),
    ordered by agency, each with its number of sub-units."""
    paths = user.unit_paths(*roles_with_permission("org.view_unit"))
    visible = units_for(user)
    if paths is None:
        roots = visible.filter(parent__isnull=True)
    else:
        roots = visible.filter(path__in=outermost(paths))
    return _with_child_count(roots).order_by("agency__code", "code")


CHILD_ORDER = (F("province__mef_code").asc(nulls_first=True), "code")


def unit_children(user, unit: Unit):
    """Direct sub-units, in the provinces' order (then by code), with their own counts."""
    return _with_child_count(units_for(user).filter(parent=unit)).order_by(*CHILD_ORDER)


def unit_ancestors(user, unit: Unit):
    """The parent chain from the top down, leaving out what the user may not see."""
    return unit.ancestors().filter(units_visible_to(user)).exclude(pk=unit.pk)


def unit_changeable(user, code: str, *, agency: Agency | None = None) -> Unit | None:
    """A unit the user may change (e.g. a new parent), found by code."""
    qs = Unit.objects.filter(units_changeable_by(user)).filter(code=code)
    if agency is not None:
        qs = qs.filter(agency=agency)
    return qs.select_related("agency").first()


def agencies_for(user, *, include_all: bool = False):
    """Agencies with units the user can see (administrators of reference data see all)."""
    if include_all:
        return Agency.objects.order_by("code")
    return Agency.objects.filter(
        pk__in=Unit.objects.filter(units_visible_to(user)).values("agency")
    ).order_by("code")


def ranks_for(user, *, agency: str = "", include_all: bool = False):
    agencies = agencies_for(user, include_all=include_all)
    qs = Rank.objects.filter(agency__in=agencies).select_related("agency")
    if agency:
        qs = qs.filter(agency__code=agency)
    return qs.order_by("agency__code", "-order", "code")


def laboratories_for(user, *, active_only: bool = False):
    if not user.has_perm("org.view_laboratory"):
        return Laboratory.objects.none()
    qs = Laboratory.objects.select_related("province")
    if active_only:
        qs = qs.filter(active=True)
    return qs.order_by("code")


def provinces():
    return Province.objects.order_by("mef_code")


def provinces_with_district_counts():
    return provinces().annotate(district_count=Count("districts"))


def province_get(code: str) -> Province | None:
    return Province.objects.filter(code=code).first()


def districts_of(province: Province):
    return District.objects.filter(province=province).order_by("code")


def districts_by_province():
    """Every district, grouped by province in the provinces' order (for choosers)."""
    return District.objects.select_related("province").order_by("province__mef_code", "code")
