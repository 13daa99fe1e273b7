"""Reads of the registry, always through the caller's jurisdiction."""

from datetime import date

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone

from probity.core.khmer import normalise
from probity.personnel.models import Employment, StatusChange
from probity.personnel.policies import employments_visible_to

SORTS = {
    "name": ("person__family_name", "person__given_name", "service_number"),
    "-name": ("-person__family_name", "-person__given_name", "-service_number"),
    "service_number": ("service_number",),
    "-service_number": ("-service_number",),
    "unit": ("unit__code", "service_number"),
    "-unit": ("-unit__code", "-service_number"),
    # People without a rank (or not yet started: no status) come last either way, on SQLite
    # and PostgreSQL alike (their default places for NULL differ).
    "rank": (F("rank__order").desc(nulls_last=True), "service_number"),
    "-rank": (F("rank__order").asc(nulls_last=True), "service_number"),
    "status": (F("current_status").asc(nulls_last=True), "service_number"),
    "-status": (F("current_status").desc(nulls_last=True), "service_number"),
}


def status_on(on: date | None = None) -> Subquery:
    """The status in force on a day (today by default), computed from the history."""
    on = on or timezone.localdate()
    latest = StatusChange.objects.filter(
        employment=OuterRef("pk"), effective_date__lte=on
    ).order_by("-effective_date", "-id")
    return Subquery(latest.values("status")[:1])


def employment_status_on(employment: Employment, on: date) -> str | None:
    """One employment's status in force on a day (``None`` before its first status)."""
    return (
        StatusChange.objects.filter(employment=employment, effective_date__lte=on)
        .order_by("-effective_date", "-id")
        .values_list("status", flat=True)
        .first()
    )


def employments_for(
    user,
    *,
    q: str = "",
    unit=None,
    rank: str = "",
    status: str = "",
    sort: str = "name",
    on: date | None = None,
):
    """Employments (with their person) within the caller's jurisdiction, filtered."""
    qs = (
        Employment.objects.filter(employments_visible_to(user))
        .select_related("person", "unit", "rank", "agency")
        .annotate(current_status=status_on(on))
    )
    needle = normalise(q)
    if needle:
        # A service number by its beginning, or a name: every word typed (in either script,
        # in any order: "Dara Sok" finds Sok Dara) must occur in the person's names.
        by_name = Q()
        for word in needle.lower().split():
            by_name &= Q(person__search_text__contains=word)
        qs = qs.filter(Q(service_number__istartswith=needle) | by_name)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    if rank:
        qs = qs.filter(rank__code=rank)
    if status:
        qs = qs.filter(current_status=status)
    return qs.order_by(*SORTS.get(sort, SORTS["name"]))


def employment_get(user, pk: int) -> Employment | None:
    return employments_for(user).filter(pk=pk).first()


def status_history(employment: Employment):
    return employment.status_changes.select_related("recorded_by", "import_batch").order_by(
        "effective_date", "id"
    )


def employment_timeline(employment: Employment):
    return employment.events.select_related("recorded_by", "import_batch").order_by(
        "effective_date", "id"
    )


def headcount_by_status(user, unit) -> dict[str, int]:
    """People in ``unit``'s subtree by their current status (within the caller's scope)."""
    rows = (
        employments_for(user, unit=unit).order_by().values("current_status").annotate(n=Count("pk"))
    )
    return {row["current_status"]: row["n"] for row in rows}
