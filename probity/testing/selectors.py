"""Reads for testing, always through the caller's scope (``policies``).

``eligible_pool`` is the one unscoped read: the pool of a campaign is a fact about the
campaign, computed only after the caller's right to see or draw has been checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter

from django.db import connection
from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from probity.org.models import Unit
from probity.personnel import rules as personnel_rules
from probity.personnel.models import Employment, StatusChange
from probity.personnel.selectors import status_on
from probity.testing import policies, rules
from probity.testing.models import (
    Campaign,
    Collection,
    CollectionSession,
    CustodyEvent,
    Draw,
    Panel,
    PanelVersion,
    Selection,
    SessionEntry,
)

# --- panels ---------------------------------------------------------------------------------


def panel_for_agency(agency) -> Panel | None:
    """The agency's current panel: one it has chosen, else the installation default."""
    chosen = Panel.objects.filter(agencies=agency).order_by("code").first()
    return chosen or Panel.objects.filter(is_default=True).first()


def panel_version_on(panel: Panel, on: date) -> PanelVersion | None:
    """The version of ``panel`` in force on a day (the latest effective by then)."""
    return (
        panel.versions.filter(effective_from__lte=on)
        .order_by("-effective_from", "-version")
        .first()
    )


def panels():
    return Panel.objects.select_related("specimen_type").prefetch_related(
        Prefetch("versions", queryset=PanelVersion.objects.order_by("-version")), "agencies"
    )


# --- campaigns ------------------------------------------------------------------------------


def campaigns_for(user, *, state: str = "", agency=None, q: str = ""):
    qs = Campaign.objects.filter(policies.campaigns_visible_to(user)).select_related(
        "agency", "unit", "depends_on"
    )
    if state:
        qs = qs.filter(state=state)
    if agency is not None:
        qs = qs.filter(agency=agency)
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name_en__icontains=q) | Q(name_km__icontains=q))
    return qs


def campaign_get(user, pk: int) -> Campaign | None:
    return campaigns_for(user).filter(pk=pk).first()


def _scope_q(campaign: Campaign, unit: str = "") -> Q:
    """The campaign's units: in the subtrees of its scope units (or of its organising unit),
    and in its provinces when it names some. ``unit`` prefixes the lookups ("unit__" from
    an employment)."""
    scope = list(campaign.scope_units.values_list("path", flat=True)) or [campaign.unit.path]
    unit_q = Q()
    for path in scope:
        unit_q |= Q(**{f"{unit}path__startswith": path})
    provinces = list(campaign.provinces.values_list("pk", flat=True))
    if provinces:
        unit_q &= Q(**{f"{unit}province_id__in": provinces})
    return unit_q


def eligible_pool(campaign: Campaign, on: date | None = None):
    """Employments eligible on a day: in the campaign's agency, in its units' subtrees (and
    provinces, when it names some), and in service that day (``personnel.rules.IN_SERVICE``:
    active, suspended, removed from position or demoted, all still on the force's list).

    For counts and aggregates; the draw reads the same people with ``pool_entries``."""
    on = on or timezone.localdate()
    qs = Employment.objects.filter(agency_id=campaign.agency_id).filter(
        _scope_q(campaign, "unit__")
    )
    return qs.annotate(status_then=status_on(on)).filter(
        status_then__in=sorted(personnel_rules.IN_SERVICE)
    )


#: Below this many units in scope the pool query names them (the database then reads only
#: their people); above it every employment of the agency is read and the units are checked
#: here, which costs less than a long ``IN`` list.
_UNITS_NAMED_IN_SQL = 500

#: Rows of the pool query read at a time.
_POOL_CHUNK = 100_000


def pool_entries(campaign: Campaign, on: date | None = None) -> list[rules.PoolEntry]:
    """The people of ``eligible_pool(campaign, on)`` as pool entries (employment id, service
    number, unit code), sorted by employment id: exactly the same people (the tests compare
    the two), read the fast way for a draw of up to millions.

    ``eligible_pool`` asks the database for each employment's latest status with a
    correlated subquery, one index search per person (seconds at a million, on SQLite and on
    PostgreSQL alike). Here one ordered pass reads every employment of the agency with its
    status history up to the day, ``ORDER BY employment, effective_date, id``; the last row
    of each employment is then its status on the day (the same tie-break, by id, as
    ``personnel.selectors.status_on``). Employments without any status by then are not in
    service, as there. The scope's units are read with the ORM, with ``eligible_pool``'s
    own filter."""
    on = on or timezone.localdate()
    codes = dict(Unit.objects.filter(_scope_q(campaign)).values_list("pk", "code"))
    if not codes:
        return []
    quote = connection.ops.quote_name
    employment = quote(Employment._meta.db_table)
    history = quote(StatusChange._meta.db_table)
    # SQLite would walk the agency's index (a search per row, three times slower than
    # reading the table in id order when the agency holds most of the rows): the unary
    # plus keeps it off that index. PostgreSQL chooses by its statistics.
    agency = "+e.agency_id" if connection.vendor == "sqlite" else "e.agency_id"
    params: list = [campaign.agency_id, connection.ops.adapt_datefield_value(on)]
    units = ""
    if len(codes) <= _UNITS_NAMED_IN_SQL:
        units = f" AND e.unit_id IN ({', '.join(['%s'] * len(codes))})"
        params.extend(codes)
    sql = (
        f"SELECT e.id, e.service_number, e.unit_id, s.status FROM {employment} e "  # noqa: S608 - names quoted, values are parameters
        f"JOIN {history} s ON s.employment_id = e.id "
        f"WHERE {agency} = %s AND s.effective_date <= %s{units} "
        "ORDER BY e.id, s.effective_date, s.id"
    )
    in_service = personnel_rules.IN_SERVICE
    make, entry = tuple.__new__, rules.PoolEntry  # PoolEntry(...) runs a Python __new__
    key = itemgetter(0)
    entries: list[rules.PoolEntry] = []

    def add(rows: list) -> None:
        # One entry per employment, its last row winning: its status on the day. A dict
        # keeps the order in which employments first appear, that is by id.
        last = dict(zip(map(key, rows), rows, strict=True))
        entries.extend(
            [
                make(entry, (pk, number, codes[unit]))
                for pk, number, unit, status in last.values()
                if status in in_service and unit in codes
            ]
        )

    with rules.gc_paused(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        # In chunks, so that only the chunk's rows (a million people have more) are alive
        # besides the entries. The rows of the chunk's last employment may go on in the
        # next chunk: they wait for it.
        waiting: list = []
        while chunk := cursor.fetchmany(_POOL_CHUNK):
            rows = waiting + chunk
            tail = len(rows) - 1
            while tail > 0 and rows[tail - 1][0] == rows[-1][0]:
                tail -= 1
            waiting = rows[tail:]
            del rows[tail:]
            add(rows)
        add(waiting)
    return entries


@dataclass
class Progress:
    eligible: int = 0
    selected: int = 0
    excused: int = 0
    collected: int = 0
    refused: int = 0
    rejected: int = 0
    closed_screen: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    by_unit: list[dict] = field(default_factory=list)
    target_percent: float = 0.0

    @property
    def tested(self) -> int:
        """Collections and refusals: everyone the campaign has dealt with."""
        return self.collected + self.refused + self.rejected + self.closed_screen

    @property
    def coverage_percent(self) -> float:
        return round(100 * self.tested / self.eligible, 1) if self.eligible else 0.0


def campaign_progress(campaign: Campaign) -> Progress:
    """Eligible, selected, collected and outcomes, overall and by unit. Constant queries."""
    progress = Progress(target_percent=float(campaign.target_coverage_percent))
    pool = eligible_pool(campaign)
    progress.eligible = pool.count()
    eligible_by_unit = dict(
        pool.order_by()
        .values_list("unit__code")
        .annotate(n=Count("pk"))
        .values_list("unit__code", "n")
    )
    if campaign.mode == Campaign.Mode.CENSUS:
        selected_by_unit = dict(eligible_by_unit)
        progress.selected = progress.eligible
    else:
        to_test = Selection.objects.filter(draw__campaign=campaign, excused=False).filter(
            Q(kind=Selection.Kind.SELECTED) | Q(replaces__isnull=False)
        )
        progress.selected = to_test.values("employment").distinct().count()
        progress.excused = Selection.objects.filter(draw__campaign=campaign, excused=True).count()
        selected_by_unit = dict(
            to_test.order_by()
            .values_list("unit__code")
            .annotate(n=Count("employment", distinct=True))
            .values_list("unit__code", "n")
        )
    rows = (
        Collection.objects.filter(campaign=campaign)
        .order_by()
        .values_list("unit__code", "state")
        .annotate(n=Count("pk"))
    )
    by_unit_state: dict[str, dict[str, int]] = {}
    for unit_code, state, n in rows:
        by_unit_state.setdefault(unit_code, {})[state] = n
        progress.by_state[state] = progress.by_state.get(state, 0) + n
    progress.collected = progress.by_state.get(Collection.State.COLLECTED, 0)
    progress.refused = progress.by_state.get(Collection.State.REFUSED, 0)
    progress.rejected = progress.by_state.get(Collection.State.REJECTED, 0)
    progress.closed_screen = progress.by_state.get(Collection.State.CLOSED_SCREEN, 0)
    codes = sorted(set(eligible_by_unit) | set(selected_by_unit) | set(by_unit_state))
    for code in codes:
        states = by_unit_state.get(code, {})
        progress.by_unit.append(
            {
                "unit": code,
                "eligible": eligible_by_unit.get(code, 0),
                "selected": selected_by_unit.get(code, 0),
                "collected": states.get(Collection.State.COLLECTED, 0),
                "refused": states.get(Collection.State.REFUSED, 0),
                "rejected": states.get(Collection.State.REJECTED, 0),
                "closed_screen": states.get(Collection.State.CLOSED_SCREEN, 0),
            }
        )
    return progress


# --- draws ----------------------------------------------------------------------------------


def draws_for(user, campaign: Campaign):
    return Draw.objects.filter(policies.draws_visible_to(user), campaign=campaign).order_by(
        "number"
    )


def draw_get(user, pk: int) -> Draw | None:
    return (
        Draw.objects.filter(policies.draws_visible_to(user))
        .select_related("campaign", "campaign__unit", "committed_by", "drawn_by")
        .filter(pk=pk)
        .first()
    )


def draw_selections(draw: Draw):
    return draw.selections.select_related(
        "employment", "employment__person", "unit", "replaces", "excused_by"
    ).order_by("kind", "position")


def pool_of(draw: Draw) -> bytes:
    """The frozen pool's canonical text, decompressed."""
    import gzip

    return gzip.decompress(bytes(draw.pool_snapshot)) if draw.pool_snapshot else b""


@dataclass
class Verification:
    ok: bool
    checks: list[tuple[str, bool, str]]  # (what, passed, detail)
    selected: list[rules.PoolEntry] = field(default_factory=list)
    alternates: list[rules.PoolEntry] = field(default_factory=list)


def draw_verify(draw: Draw) -> Verification:
    """Re-run a draw from its revealed seed and frozen pool and compare with what was stored
    and with the audit log's record of the draw."""
    from probity.audit.models import AuditEntry

    checks: list[tuple[str, bool, str]] = []
    if draw.state != Draw.State.DRAWN:
        return Verification(False, [("drawn", False, _("The draw has not taken place yet."))])
    commitment_ok = rules.seed_commitment(draw.seed) == draw.seed_hash
    checks.append(
        (
            "seed",
            commitment_ok,
            _("The revealed seed matches the commitment published before the draw."),
        )
    )
    committed = (
        AuditEntry.objects.filter(
            action="testing.draw_commit", object_type="testing.draw", object_id=str(draw.pk)
        )
        .values_list("after", flat=True)
        .first()
    )
    logged_hash = (committed or {}).get("seed_hash")
    checks.append(
        (
            "commitment_logged",
            logged_hash == draw.seed_hash,
            _("The commitment is the one written in the audit log before the draw."),
        )
    )
    try:
        text = pool_of(draw)
        pool = rules.pool_parse(text)
        digest_ok = rules.pool_digest(text) == draw.pool_digest
    except (OSError, ValueError, EOFError) as exc:
        checks.append(("pool", False, str(exc)))
        return Verification(False, checks)
    checks.append(("pool", digest_ok, _("The frozen pool matches its digest.")))
    performed = (
        AuditEntry.objects.filter(
            action="testing.draw_perform", object_type="testing.draw", object_id=str(draw.pk)
        )
        .values_list("after", flat=True)
        .first()
    ) or {}
    checks.append(
        (
            "pool_logged",
            performed.get("pool_digest") == draw.pool_digest
            and performed.get("pool_size") == len(pool) == draw.pool_size,
            _("The pool's digest and size are those written in the audit log at the draw."),
        )
    )
    checks.append(
        (
            "parameters",
            _parameters_as_committed(draw, committed, len(pool)),
            _(
                "The sample size, alternates and kind of draw are those committed before the "
                "draw (a rate gives pool x rate / 100, rounded half up, at least 1)."
            ),
        )
    )
    with rules.gc_paused():  # the pool's million entries are alive until the end
        outcome = rules.draw(
            draw.seed, pool, draw.sample_size or 0, alternates=draw.alternates, by_unit=draw.by_unit
        )
        del pool
    stored = list(draw.selections.order_by("kind", "position").values_list("kind", "employment_id"))
    stored_selected = [e for k, e in stored if k == Selection.Kind.SELECTED]
    stored_alternates = [e for k, e in stored if k == Selection.Kind.ALTERNATE]
    rerun_selected = [e.key for e in outcome.selected]
    rerun_alternates = [e.key for e in outcome.alternates]
    same = stored_selected == rerun_selected and stored_alternates == rerun_alternates
    checks.append(
        ("selection", same, _("Re-running the draw gives the same people in the same order."))
    )
    digest = selection_digest(rerun_selected, rerun_alternates)
    checks.append(
        (
            "selection_logged",
            performed.get("selection_digest") == digest == draw.selection_digest,
            _("The selection's digest is the one written in the audit log at the draw."),
        )
    )
    return Verification(
        all(passed for _, passed, _ in checks),
        checks,
        selected=outcome.selected,
        alternates=outcome.alternates,
    )


def _parameters_as_committed(draw: Draw, committed: dict | None, pool_size: int) -> bool:
    """The draw's rate or sample size, alternates and stages equal the audit log's record of
    the commitment, and the sample size follows from them and the pool."""
    from decimal import Decimal, InvalidOperation

    if not committed:
        return False
    try:
        logged_rate = committed.get("rate_percent")
        logged_rate = None if logged_rate is None else Decimal(str(logged_rate))
    except InvalidOperation:
        return False
    n = committed.get("sample_size") or (
        rules.sample_size(pool_size, logged_rate) if logged_rate is not None else None
    )
    return (
        logged_rate == draw.rate_percent
        and committed.get("sample_size") == (None if draw.rate_percent is not None else n)
        and committed.get("alternates") == draw.alternates
        and committed.get("by_unit") == draw.by_unit
        and n is not None
        and n == draw.sample_size
    )


def selection_digest(selected: list[int], alternates: list[int]) -> str:
    import hashlib

    text = (
        "selected:" + ",".join(map(str, selected)) + ";alternates:" + ",".join(map(str, alternates))
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()


# --- sessions and collections ---------------------------------------------------------------


def sessions_for(user, *, campaign=None, state: str = "", mine: bool = False):
    qs = (
        CollectionSession.objects.filter(policies.sessions_visible_to(user))
        .select_related("campaign", "unit")
        .annotate(listed=Count("entries", distinct=True), done=Count("collections", distinct=True))
    )
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if state:
        qs = qs.filter(state=state)
    if mine:
        qs = qs.filter(team=user)
    return qs.order_by("-date", "-id")


def session_get(user, pk: int) -> CollectionSession | None:
    return (
        CollectionSession.objects.filter(policies.sessions_visible_to(user))
        .select_related("campaign", "unit", "created_by")
        .filter(pk=pk)
        .first()
    )


def session_list(session: CollectionSession):
    """The people to test, each with the collection made (if any), in list order."""
    done = {
        c.employment_id: c
        for c in session.collections.select_related("specimen_type").order_by("collected_at")
    }
    entries = session.entries.select_related(
        "employment", "employment__person", "employment__unit", "employment__rank"
    ).order_by("employment__unit__code", "employment__person__family_name", "id")
    return [(entry, done.get(entry.employment_id)) for entry in entries]


def collections_for(user, *, campaign=None, session=None, state: str = "", q: str = ""):
    qs = (
        Collection.objects.filter(
            pk__in=Collection.objects.filter(policies.collections_visible_to(user)).values("pk")
        )
        .select_related("unit", "specimen_type", "panel_version__panel", "campaign")
        .order_by("-collected_at", "-id")
    )
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if session is not None:
        qs = qs.filter(session=session)
    if state:
        qs = qs.filter(state=state)
    if q:
        qs = qs.filter(specimen_id__icontains=rules.normalise_specimen_id(q))
    return qs


def collection_by_specimen(user, specimen_id: str) -> Collection | None:
    return (
        collections_for(user)
        .select_related("employment__person", "collected_by", "session", "recorded_by")
        .filter(specimen_id=rules.normalise_specimen_id(specimen_id))
        .first()
    )


def specimen_exists(specimen_id: str) -> bool:
    return Collection.objects.filter(specimen_id=rules.normalise_specimen_id(specimen_id)).exists()


def custody_timeline(collection: Collection):
    """Every custody event of every bottle of a collection, in time order."""
    return (
        CustodyEvent.objects.filter(bottle__collection=collection)
        .select_related("bottle", "actor", "counter_signer", "laboratory")
        .order_by("at", "id")
    )


def session_entries_to_add(session: CollectionSession, draw: Draw):
    """Selections of a draw to put on a session's list: to be tested, in the session's unit
    subtree, not yet on the list."""
    listed = SessionEntry.objects.filter(session=session).values("employment")
    return (
        Selection.objects.filter(draw=draw, excused=False, unit__path__startswith=session.unit.path)
        .filter(Q(kind=Selection.Kind.SELECTED) | Q(replaces__isnull=False))
        .exclude(employment__in=listed)
        .select_related("employment")
    )
