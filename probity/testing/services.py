"""Every write in testing: atomic, checked against ``rules``, audited.

Views, the API, commands and the demo call these functions; nothing else writes. Policy
(who may) is checked by the callers; these functions check what the records allow.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from probity.audit.services import audit_record, snapshot
from probity.personnel import rules as personnel_rules
from probity.personnel import selectors as personnel_selectors
from probity.testing import rules, selectors
from probity.testing.models import (
    Bottle,
    Campaign,
    Collection,
    CollectionSession,
    CustodyEvent,
    Draw,
    LaboratoryStaff,
    Panel,
    PanelVersion,
    Reason,
    Selection,
    SessionEntry,
    SpecimenType,
)

# --- panels ---------------------------------------------------------------------------------


def _check_definition(definition) -> None:
    errors = rules.panel_definition_errors(definition)
    if errors:
        raise ValidationError({"definition": errors})


@transaction.atomic
def panel_create(
    *,
    actor,
    code: str,
    name_en: str,
    specimen_type: SpecimenType,
    definition: dict,
    effective_from: date,
    name_km: str = "",
    source: str = "",
    is_default: bool = False,
    agencies=(),
) -> Panel:
    """A new panel with its first version."""
    code = code.strip()
    if Panel.objects.filter(code=code).exists():
        raise ValidationError(
            {"code": _("A panel with code %(code)s already exists.") % {"code": code}}
        )
    _check_definition(definition)
    if is_default:
        Panel.objects.filter(is_default=True).update(is_default=False)
    panel = Panel(
        code=code,
        name_en=name_en.strip(),
        name_km=name_km.strip(),
        specimen_type=specimen_type,
        is_default=is_default,
    )
    panel.full_clean()
    panel.save()
    if agencies:
        panel.agencies.set(agencies)
    version = PanelVersion.objects.create(
        panel=panel,
        version=1,
        effective_from=effective_from,
        definition=definition,
        source=source.strip(),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="testing.panel_create",
        obj=panel,
        after={
            **snapshot(panel),
            "agencies": sorted(a.code for a in panel.agencies.all()),
            "version": 1,
            "effective_from": effective_from,
            "definition": definition,
        },
    )
    return version.panel


@transaction.atomic
def panel_version_add(
    *, actor, panel: Panel, definition: dict, effective_from: date, source: str = ""
) -> PanelVersion:
    """A new version of a panel from a date. Earlier versions stay as they were: every
    collection keeps the version it will be judged by."""
    _check_definition(definition)
    panel = Panel.objects.select_for_update().get(pk=panel.pk)
    latest = panel.versions.order_by("-version").first()
    if latest is not None and effective_from < latest.effective_from:
        raise ValidationError(
            {
                "effective_from": _(
                    "A new version cannot take effect before version %(version)s (%(date)s)."
                )
                % {"version": latest.version, "date": f"{latest.effective_from:%Y-%m-%d}"}
            }
        )
    version = PanelVersion.objects.create(
        panel=panel,
        version=(latest.version + 1) if latest else 1,
        effective_from=effective_from,
        definition=definition,
        source=source.strip(),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="testing.panel_version_add",
        obj=version,
        after=snapshot(version),
    )
    return version


@transaction.atomic
def panel_assign(*, actor, panel: Panel, agencies, is_default: bool | None = None) -> Panel:
    """Which agencies use ``panel`` as their current panel (and whether it is the default).

    The installation always keeps a default panel: it moves by making another panel the
    default, never by unticking the current one."""
    if is_default is False and panel.is_default:
        raise ValidationError(
            {
                "is_default": _(
                    "This is the installation's default panel: make another panel the default "
                    "instead, so that every agency keeps a panel."
                )
            }
        )
    before = {
        "agencies": sorted(a.code for a in panel.agencies.all()),
        "is_default": panel.is_default,
    }
    for agency in agencies:
        for other in Panel.objects.filter(agencies=agency).exclude(pk=panel.pk):
            other.agencies.remove(agency)
    panel.agencies.set(agencies)
    if is_default is not None and is_default != panel.is_default:
        if is_default:
            Panel.objects.filter(is_default=True).update(is_default=False)
        panel.is_default = is_default
        panel.save(update_fields=["is_default"])
    after = {"agencies": sorted(a.code for a in agencies), "is_default": panel.is_default}
    audit_record(actor=actor, action="testing.panel_assign", obj=panel, before=before, after=after)
    return panel


# --- laboratory staff -----------------------------------------------------------------------


@transaction.atomic
def lab_staff_add(*, actor, user, laboratory) -> LaboratoryStaff:
    post, created = LaboratoryStaff.objects.get_or_create(
        user=user, laboratory=laboratory, defaults={"added_by": actor}
    )
    if created:  # adding someone already posted there changes nothing
        audit_record(
            actor=actor,
            action="testing.lab_staff_add",
            obj=post,
            after={"user": user.username, "laboratory": laboratory.code},
        )
    return post


@transaction.atomic
def lab_staff_remove(*, actor, post: LaboratoryStaff) -> None:
    before = {"user": post.user.username, "laboratory": post.laboratory.code}
    audit_record(actor=actor, action="testing.lab_staff_remove", obj=post, before=before)
    post.delete()


# --- campaigns ------------------------------------------------------------------------------

CAMPAIGN_FIELDS = [
    "code",
    "name_en",
    "name_km",
    "agency",
    "unit",
    "starts_on",
    "ends_on",
    "mode",
    "rate_percent",
    "frequency",
    "target_coverage_percent",
    "by_unit",
    "alternates",
    "panel",
    "screen_negative_closes",
    "depends_on",
    "state",
]
#: What a draft campaign's form may change: the code is its name for good, the agency
#: follows the organising unit, the state moves only through the transitions below.
CAMPAIGN_EDITABLE = [f for f in CAMPAIGN_FIELDS if f not in ("code", "agency", "state")]


def _campaign_snapshot(campaign: Campaign) -> dict:
    return {
        **snapshot(campaign, CAMPAIGN_FIELDS),
        "scope_units": sorted(campaign.scope_units.values_list("code", flat=True)),
        "provinces": sorted(campaign.provinces.values_list("code", flat=True)),
    }


def _check_campaign(campaign: Campaign, scope_units, provinces) -> None:
    errors: dict[str, str] = {}
    if campaign.unit.agency_id != campaign.agency_id:
        errors["unit"] = _("The organising unit belongs to another agency.")
    for unit in scope_units:
        if not unit.path.startswith(campaign.unit.path):
            errors["scope_units"] = _("Unit %(code)s is not under the organising unit.") % {
                "code": unit.code
            }
    if campaign.mode == Campaign.Mode.RANDOM:
        if campaign.rate_percent is None or not 0 < campaign.rate_percent <= 100:
            errors["rate_percent"] = _(
                "A random campaign needs a rate per draw above 0 and up to 100 %."
            )
    elif campaign.rate_percent is not None:
        errors["rate_percent"] = _("Only a random campaign has a rate per draw.")
    if not 0 < campaign.target_coverage_percent <= 100:
        errors["target_coverage_percent"] = _("The target coverage is above 0 and up to 100 %.")
    if campaign.starts_on and campaign.ends_on and campaign.ends_on < campaign.starts_on:
        errors["ends_on"] = _("The campaign cannot end before it starts.")
    if campaign.panel_id and campaign.panel.versions.count() == 0:
        errors["panel"] = _("The panel has no version yet.")
    if campaign.depends_on_id:
        seen = {campaign.pk}
        other = campaign.depends_on
        while other is not None:
            if other.pk in seen:
                errors["depends_on"] = _("A campaign cannot wait on itself, even through others.")
                break
            seen.add(other.pk)
            other = other.depends_on
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def campaign_create(
    *,
    actor,
    code: str,
    name_en: str,
    agency,
    unit,
    starts_on: date,
    ends_on: date,
    mode: str,
    name_km: str = "",
    scope_units=(),
    provinces=(),
    rate_percent: Decimal | None = None,
    frequency: str = Campaign.Frequency.ONCE,
    target_coverage_percent: Decimal = Decimal("100"),
    by_unit: bool = False,
    alternates: int = 0,
    panel: Panel | None = None,
    screen_negative_closes: bool = False,
    depends_on: Campaign | None = None,
) -> Campaign:
    code = code.strip()
    if Campaign.objects.filter(code=code).exists():
        raise ValidationError(
            {"code": _("A campaign with code %(code)s already exists.") % {"code": code}}
        )
    campaign = Campaign(
        code=code,
        name_en=name_en.strip(),
        name_km=name_km.strip(),
        agency=agency,
        unit=unit,
        starts_on=starts_on,
        ends_on=ends_on,
        mode=mode,
        rate_percent=rate_percent,
        frequency=frequency,
        target_coverage_percent=target_coverage_percent,
        by_unit=by_unit,
        alternates=alternates,
        panel=panel,
        screen_negative_closes=screen_negative_closes,
        depends_on=depends_on,
        created_by=actor,
    )
    campaign.full_clean(exclude=["created_by"])
    _check_campaign(campaign, scope_units, provinces)
    campaign.save()
    campaign.scope_units.set(scope_units)
    campaign.provinces.set(provinces)
    audit_record(
        actor=actor,
        action="testing.campaign_create",
        obj=campaign,
        after=_campaign_snapshot(campaign),
    )
    return campaign


@transaction.atomic
def campaign_update(*, actor, campaign: Campaign, scope_units=None, provinces=None, **changes):
    """Change a draft campaign (its scope and rules are fixed once it starts)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.state != Campaign.State.DRAFT:
        raise ValidationError(_("Only a draft campaign can be changed; this one has started."))
    unknown = set(changes) - {*CAMPAIGN_EDITABLE, "agency"}
    if unknown:
        raise ValidationError(
            _("Cannot change %(fields)s here.") % {"fields": ", ".join(sorted(unknown))}
        )
    before = _campaign_snapshot(campaign)
    for name, value in changes.items():
        setattr(campaign, name, value)
    if "unit" in changes and "agency" not in changes:
        campaign.agency = campaign.unit.agency
    campaign.full_clean(exclude=["created_by"])
    units = list(scope_units) if scope_units is not None else list(campaign.scope_units.all())
    provs = list(provinces) if provinces is not None else list(campaign.provinces.all())
    _check_campaign(campaign, units, provs)
    campaign.save()
    campaign.scope_units.set(units)
    campaign.provinces.set(provs)
    audit_record(
        actor=actor,
        action="testing.campaign_update",
        obj=campaign,
        before=before,
        after=_campaign_snapshot(campaign),
    )
    return campaign


def campaign_start_error(campaign: Campaign) -> str | None:
    """Why a campaign cannot start now, or ``None``."""
    if campaign.state != Campaign.State.DRAFT:
        return _("The campaign is %(state)s, not a draft.") % {
            "state": campaign.get_state_display().lower()
        }
    dependency = campaign.depends_on
    if dependency is not None and dependency.state != Campaign.State.COMPLETE:
        return _(
            "This campaign starts only after %(code)s (%(name)s) is complete, and that "
            "campaign is %(state)s."
        ) % {
            "code": dependency.code,
            "name": dependency.name,
            "state": dependency.get_state_display().lower(),
        }
    return None


def _transition(
    *, actor, campaign: Campaign, to: str, action: str, reason: str = "", **stamps
) -> Campaign:
    """Move a campaign to state ``to`` (with its time stamps), audited with the reason when
    there is one."""
    before = {"state": campaign.state}
    campaign.state = to
    for name, value in stamps.items():
        setattr(campaign, name, value)
    campaign.save(update_fields=["state", *stamps])
    after = {"state": to, "reason": reason} if reason else {"state": to}
    audit_record(actor=actor, action=action, obj=campaign, before=before, after=after)
    return campaign


@transaction.atomic
def campaign_start(*, actor, campaign: Campaign) -> Campaign:
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the outer join.
    campaign = (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("depends_on")
        .get(pk=campaign.pk)
    )
    error = campaign_start_error(campaign)
    if error:
        raise ValidationError(error)
    return _transition(
        actor=actor,
        campaign=campaign,
        to=Campaign.State.ACTIVE,
        action="testing.campaign_start",
        started_at=timezone.now(),
    )


@transaction.atomic
def campaign_complete(*, actor, campaign: Campaign) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.state != Campaign.State.ACTIVE:
        raise ValidationError(_("Only an active campaign can be completed."))
    return _transition(
        actor=actor,
        campaign=campaign,
        to=Campaign.State.COMPLETE,
        action="testing.campaign_complete",
        completed_at=timezone.now(),
    )


@transaction.atomic
def campaign_cancel(*, actor, campaign: Campaign, reason: str) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.state in (Campaign.State.COMPLETE, Campaign.State.CANCELLED):
        raise ValidationError(
            _("The campaign is already %(state)s.")
            % {"state": campaign.get_state_display().lower()}
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the campaign is cancelled.")})
    return _transition(
        actor=actor,
        campaign=campaign,
        to=Campaign.State.CANCELLED,
        action="testing.campaign_cancel",
        reason=reason.strip(),
    )


# --- draws ----------------------------------------------------------------------------------


@transaction.atomic
def draw_commit(
    *,
    actor,
    campaign: Campaign,
    seed: str = "",
    rate_percent: Decimal | None = None,
    sample_size: int | None = None,
) -> Draw:
    """Commit a seed for the next draw: its hash is recorded (and shown) now, the seed is
    revealed when the draw is made. ``seed`` may come from a public ceremony; by default
    it is 32 random bytes."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.mode != Campaign.Mode.RANDOM:
        raise ValidationError(
            _("Only a random campaign has draws; this one tests everyone in scope.")
        )
    if campaign.state != Campaign.State.ACTIVE:
        raise ValidationError(_("Draws are made only while the campaign is active."))
    if campaign.draws.filter(state=Draw.State.COMMITTED).exists():
        raise ValidationError(_("A committed draw is waiting: make it before committing another."))
    seed = (seed or "").strip().lower() or rules.new_seed()
    error = rules.seed_error(seed)
    if error:
        raise ValidationError({"seed": error})
    if sample_size is not None and sample_size < 1:
        raise ValidationError({"sample_size": _("Select at least one person.")})
    rate = rate_percent if rate_percent is not None else campaign.rate_percent
    if sample_size is None and (rate is None or not 0 < rate <= 100):
        raise ValidationError({"rate_percent": _("The rate is above 0 and up to 100 %.")})
    number = (campaign.draws.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    draw = Draw.objects.create(
        campaign=campaign,
        number=number,
        seed=seed,
        seed_hash=rules.seed_commitment(seed),
        committed_by=actor,
        rate_percent=None if sample_size is not None else rate,
        sample_size=sample_size,
        alternates=campaign.alternates,
        by_unit=campaign.by_unit,
    )
    audit_record(
        actor=actor,
        action="testing.draw_commit",
        obj=draw,
        after={
            "campaign": campaign.code,
            "number": number,
            "algorithm": draw.algorithm,
            "seed_hash": draw.seed_hash,
            "rate_percent": draw.rate_percent,
            "sample_size": sample_size,
            "alternates": draw.alternates,
            "by_unit": draw.by_unit,
        },
    )
    return draw


@transaction.atomic
def draw_perform(*, actor, draw: Draw) -> Draw:
    """Freeze the pool, reveal the seed and select. Deterministic from the two."""
    draw = Draw.objects.select_for_update().select_related("campaign__unit").get(pk=draw.pk)
    if draw.state != Draw.State.COMMITTED:
        raise ValidationError(_("This draw has already been made."))
    if draw.campaign.state != Campaign.State.ACTIVE:
        raise ValidationError(_("Draws are made only while the campaign is active."))
    with rules.gc_paused():  # a million entries: no cyclic collection while they live
        entries = selectors.pool_entries(draw.campaign)  # sorted by key
        if not entries:
            raise ValidationError(_("Nobody is eligible in the campaign's scope today."))
        text = rules.pool_text(entries)
        # SHA-256 and gzip release the GIL: they run beside the draw, on another core.
        freezing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="draw-freeze")
        frozen = freezing.submit(lambda: (rules.pool_digest(text), rules.pool_compress(text)))
        freezing.shutdown(wait=False)
        if text.count(b"\n") == len(entries) and text.count(b"\t") == 2 * len(entries):
            pool = entries  # what pool_parse(text) gives back: the verifier's pool
        else:  # a tab or a newline inside a service number or code: refused as before
            pool = rules.pool_parse(text)
        size = len(pool)
        n = draw.sample_size or rules.sample_size(size, draw.rate_percent)
        outcome = rules.draw(draw.seed, pool, n, alternates=draw.alternates, by_unit=draw.by_unit)
        del entries, pool
    units = dict(
        draw.campaign.agency.units.filter(
            code__in={e.unit for e in outcome.selected + outcome.alternates}
        ).values_list("code", "pk")
    )
    _selections_write(
        draw,
        [
            (i, Selection.Kind.SELECTED.value, e.key, units[e.unit])
            for i, e in enumerate(outcome.selected, start=1)
        ]
        + [
            (i, Selection.Kind.ALTERNATE.value, e.key, units[e.unit])
            for i, e in enumerate(outcome.alternates, start=1)
        ],
    )
    draw.state = Draw.State.DRAWN
    draw.sample_size = n
    draw.pool_size = size
    draw.pool_digest, draw.pool_snapshot = frozen.result()
    draw.selection_digest = selectors.selection_digest(
        [e.key for e in outcome.selected], [e.key for e in outcome.alternates]
    )
    draw.drawn_by = actor
    draw.drawn_at = timezone.now()
    draw.save()
    audit_record(
        actor=actor,
        action="testing.draw_perform",
        obj=draw,
        after={
            "seed": draw.seed,
            "seed_hash": draw.seed_hash,
            "pool_size": draw.pool_size,
            "pool_digest": draw.pool_digest,
            "sample_size": n,
            "selected": len(outcome.selected),
            "alternates": len(outcome.alternates),
            "selection_digest": draw.selection_digest,
            "quotas": outcome.quotas,
        },
    )
    return draw


def _selections_write(draw: Draw, rows: list[tuple[int, str, int, int]]) -> None:
    """Insert a draw's selections, ``(position, kind, employment id, unit id)`` each: the
    rows ``bulk_create`` would write (not excused, replacing nobody), without building a
    model instance and compiling SQL for each of tens of thousands (``COPY`` on
    PostgreSQL, one prepared ``executemany`` on SQLite)."""
    fields = [f for f in Selection._meta.concrete_fields if not f.primary_key]
    template = Selection(draw=draw)
    varying = {"position": 0, "kind": 1, "employment_id": 2, "unit_id": 3}
    constants = [
        None if f.attname in varying else f.get_db_prep_save(f.pre_save(template, True), connection)
        for f in fields
    ]
    slots = [(i, varying[f.attname]) for i, f in enumerate(fields) if f.attname in varying]
    lines = []
    for row in rows:
        line = constants.copy()
        for i, j in slots:
            line[i] = row[j]
        lines.append(line)
    quote = connection.ops.quote_name
    table = quote(Selection._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for line in lines:
                    copy.write_row(line)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 - names quoted
                lines,
            )


@transaction.atomic
def selection_excuse(*, actor, selection: Selection, reason: str) -> Selection | None:
    """Excuse a selected person with a reason; the next unused alternate (of the same unit in
    a two-stage draw) is called in and returned, or ``None`` when none is left."""
    selection = Selection.objects.select_for_update().select_related("draw").get(pk=selection.pk)
    if not reason.strip():
        raise ValidationError({"reason": _("An excusal needs its reason.")})
    if selection.excused:
        raise ValidationError(_("This person is already excused."))
    if not selection.to_test:
        raise ValidationError(_("Only a person to be tested can be excused."))
    if Collection.objects.filter(selection=selection).exists():
        raise ValidationError(_("This person has already been tested or refused."))
    selection.excused = True
    selection.excusal_reason = reason.strip()
    selection.excused_by = actor
    selection.excused_at = timezone.now()
    selection.save()
    free = Selection.objects.filter(
        draw=selection.draw, kind=Selection.Kind.ALTERNATE, replaces__isnull=True, excused=False
    )
    if selection.draw.by_unit:
        free = free.filter(unit=selection.unit)
    alternate = free.order_by("position").first()
    if alternate is not None:
        alternate.replaces = selection
        alternate.save(update_fields=["replaces"])
    audit_record(
        actor=actor,
        action="testing.selection_excuse",
        obj=selection,
        after={
            "reason": selection.excusal_reason,
            "employment": selection.employment_id,
            "alternate": alternate.employment_id if alternate else None,
        },
    )
    return alternate


# --- sessions -------------------------------------------------------------------------------


@transaction.atomic
def session_create(
    *,
    actor,
    unit,
    site: str,
    date: date,
    team=(),
    campaign: Campaign | None = None,
    notes: str = "",
) -> CollectionSession:
    if campaign is not None:
        if campaign.state != Campaign.State.ACTIVE:
            raise ValidationError({"campaign": _("The campaign is not active.")})
        if unit.agency_id != campaign.agency_id:
            raise ValidationError({"unit": _("The unit is not in the campaign's agency.")})
    if not site.strip():
        raise ValidationError({"site": _("Say where the collection takes place.")})
    session = CollectionSession.objects.create(
        campaign=campaign,
        unit=unit,
        site=site.strip(),
        date=date,
        notes=notes.strip(),
        created_by=actor,
    )
    members = list(team) or [actor]
    session.team.set(members)
    audit_record(
        actor=actor,
        action="testing.session_create",
        obj=session,
        after={**snapshot(session), "team": sorted(u.username for u in members)},
    )
    return session


@transaction.atomic
def session_set_team(*, actor, session: CollectionSession, team) -> CollectionSession:
    members = list(team)
    if not members:
        raise ValidationError({"team": _("A session needs at least one collector.")})
    before = sorted(session.team.values_list("username", flat=True))
    session.team.set(members)
    audit_record(
        actor=actor,
        action="testing.session_set_team",
        obj=session,
        before={"team": before},
        after={"team": sorted(u.username for u in members)},
    )
    return session


@transaction.atomic
def session_add_people(
    *, actor, session: CollectionSession, employments, reason: str, selections=None
) -> int:
    """Put people on a session's list (once each); returns how many were added."""
    if session.state == CollectionSession.State.CLOSED:
        raise ValidationError(_("The session is closed."))
    listed = set(session.entries.values_list("employment_id", flat=True))
    by_employment = {s.employment_id: s for s in (selections or [])}
    added = []
    for employment in employments:
        if employment.pk in listed:
            continue
        if not employment.unit.path.startswith(session.unit.path):
            raise ValidationError(
                _("%(number)s is not in the unit visited (%(unit)s).")
                % {"number": employment.service_number, "unit": session.unit.code}
            )
        listed.add(employment.pk)
        added.append(
            SessionEntry(
                session=session,
                employment=employment,
                selection=by_employment.get(employment.pk),
                reason=reason,
                added_by=actor,
            )
        )
    SessionEntry.objects.bulk_create(added)
    if added:
        audit_record(
            actor=actor,
            action="testing.session_add_people",
            obj=session,
            after={"reason": reason, "added": [e.employment.service_number for e in added]},
        )
    return len(added)


def session_add_draw(*, actor, session: CollectionSession, draw: Draw) -> int:
    """Put a draw's people to be tested (in the session's unit subtree) on its list."""
    if session.campaign_id != draw.campaign_id:
        raise ValidationError(_("The draw belongs to another campaign than the session."))
    selections = list(selectors.session_entries_to_add(session, draw))
    return session_add_people(
        actor=actor,
        session=session,
        employments=[s.employment for s in selections],
        reason="random",
        selections=selections,
    )


@transaction.atomic
def session_set_state(*, actor, session: CollectionSession, state: str) -> CollectionSession:
    if state not in CollectionSession.State.values:
        raise ValidationError({"state": _("Unknown state %(state)s.") % {"state": repr(state)}})
    before = {"state": session.state}
    session.state = state
    session.save(update_fields=["state"])
    audit_record(
        actor=actor,
        action="testing.session_set_state",
        obj=session,
        before=before,
        after={"state": state},
    )
    return session


# --- collections ----------------------------------------------------------------------------


def _resolve_panel(*, employment, campaign, panel: Panel | None, on: date) -> PanelVersion:
    panel = panel or (campaign.panel if campaign and campaign.panel_id else None)
    panel = panel or selectors.panel_for_agency(employment.agency)
    if panel is None:
        raise ValidationError({"panel": _("No drug panel is configured for this agency.")})
    version = selectors.panel_version_on(panel, on)
    if version is None:
        raise ValidationError(
            {
                "panel": _("Panel %(code)s has no version in force on %(date)s.")
                % {"code": panel.code, "date": on}
            }
        )
    return version


def _check_context(*, employment, campaign, session, selection, collected_at: datetime) -> None:
    errors: dict[str, str] = {}
    if campaign is not None:
        if campaign.state != Campaign.State.ACTIVE:
            errors["campaign"] = _("Campaign %(code)s is not active.") % {"code": campaign.code}
        elif campaign.agency_id != employment.agency_id:
            errors["campaign"] = _("Campaign %(code)s is for another agency.") % {
                "code": campaign.code
            }
    if session is not None:
        if session.state == CollectionSession.State.CLOSED:
            errors["session"] = _("The session is closed.")
        if campaign is not None and session.campaign_id not in (None, campaign.pk):
            errors["session"] = _("The session belongs to another campaign.")
    if selection is not None and selection.employment_id != employment.pk:
        errors["selection"] = _("The selection is for another person.")
    elif (
        selection is not None
        and campaign is not None
        and (selection.draw.campaign_id != campaign.pk)
    ):
        errors["selection"] = _("The selection belongs to another campaign.")
    status = personnel_selectors.employment_status_on(employment, timezone.localdate(collected_at))
    if status not in personnel_rules.IN_SERVICE:
        errors["person"] = (
            _("%(number)s is not in service on that day (status: %(status)s).")
            % {
                "number": employment.service_number,
                "status": personnel_rules.status_words(status),
            }
            if status
            else _("%(number)s is not in service on that day.")
            % {"number": employment.service_number}
        )
    if collected_at > timezone.now() + rules.CLOCK_SKEW:
        errors["collected_at"] = _("A collection cannot be recorded in the future.")
    if errors:
        raise ValidationError(errors)


def _new_specimen_id() -> str:
    while True:
        candidate = rules.new_specimen_id()
        if not Collection.objects.filter(specimen_id=candidate).exists():
            return candidate


def _collector_for(actor, collectors) -> object | None:
    """The collector of record: the first named team member, else the recording user when
    they are a collector. ``None`` leaves the collection without a collector identity,
    a fatal flaw found on receipt."""
    if collectors:
        return collectors[0]
    if actor.is_superuser or actor.has_perm("testing.collect"):
        return actor
    return None


def _check_reason(reason: str) -> None:
    if reason not in Reason.values:
        raise ValidationError(
            {"reason": _("Unknown reason %(reason)s.") % {"reason": repr(reason)}}
        )


def _collection_campaign(
    *, employment, campaign, session, selection, at: datetime
) -> Campaign | None:
    """The campaign a collection or refusal belongs to (the one given, the session's, or for a
    drawn person the draw's), once the context it is recorded in has been checked."""
    campaign = campaign or (session.campaign if session else None)
    if campaign is None and selection is not None:  # a drawn person: the draw's campaign
        campaign = selection.draw.campaign
    _check_context(
        employment=employment,
        campaign=campaign,
        session=session,
        selection=selection,
        collected_at=at,
    )
    return campaign


def _collection_fields(
    *,
    actor,
    employment,
    reason: str,
    campaign,
    session,
    selection,
    version: PanelVersion,
    specimen_type: SpecimenType,
    at: datetime,
    site: str,
    collectors: list,
    remarks: str,
) -> dict:
    """The fields a collection and a refusal fill alike: who, why, under what, where, by whom."""
    return {
        "specimen_id": _new_specimen_id(),
        "employment": employment,
        "unit": employment.unit,
        "reason": reason,
        "campaign": campaign,
        "session": session,
        "selection": selection,
        "panel_version": version,
        "specimen_type": specimen_type,
        "collected_at": at,
        "site": (site or (session.site if session else "")).strip(),
        "collected_by": _collector_for(actor, collectors),
        "remarks": remarks.strip(),
        "recorded_by": actor,
    }


@transaction.atomic
def collection_record(
    *,
    actor,
    employment,
    reason: str,
    collected_at: datetime,
    specimen_type: SpecimenType,
    split: bool = True,
    observed: bool = False,
    temperature_c: Decimal | None = None,
    temperature_in_range: bool | None = None,
    identity_checked: bool = True,
    identity_method: str = "",
    donor_confirmed: bool = True,
    collector_confirmed: bool = True,
    seal_a: str = "",
    seal_b: str = "",
    volume_a_ml: int | None = None,
    volume_b_ml: int | None = None,
    screen_result: str = "",
    remarks: str = "",
    site: str = "",
    campaign: Campaign | None = None,
    session: CollectionSession | None = None,
    selection: Selection | None = None,
    panel: Panel | None = None,
    collectors=(),
) -> Collection:
    """A specimen collected: its ID, bottle A (and B when split), each sealed."""
    _check_reason(reason)
    if not specimen_type.active:
        raise ValidationError(
            {
                "specimen_type": _("Specimen type %(code)s is not in use.")
                % {"code": specimen_type.code}
            }
        )
    if split and not specimen_type.splittable:
        raise ValidationError(
            {"split": _("A %(type)s specimen cannot be split.") % {"type": specimen_type.name}}
        )
    campaign = _collection_campaign(
        employment=employment,
        campaign=campaign,
        session=session,
        selection=selection,
        at=collected_at,
    )
    errors = rules.collection_errors(
        refused=False,
        split=split,
        volume_a_ml=volume_a_ml,
        volume_b_ml=volume_b_ml,
        identity_checked=identity_checked,
        donor_confirmed=donor_confirmed,
        collector_confirmed=collector_confirmed,
        minimum_volume_ml=specimen_type.minimum_volume_ml,
    )
    if specimen_type.temperature_check and temperature_c is not None:
        measured = rules.temperature_in_range(temperature_c)
        if temperature_in_range is not None and temperature_in_range != measured:
            errors["temperature_in_range"] = _("This contradicts the temperature measured.")
        temperature_in_range = measured
    if errors:
        raise ValidationError(errors)
    version = _resolve_panel(
        employment=employment, campaign=campaign, panel=panel, on=timezone.localdate(collected_at)
    )
    if version.panel.specimen_type_id != specimen_type.pk:
        raise ValidationError(
            {
                "panel": _("Panel %(code)s is for another specimen type.")
                % {"code": version.panel.code}
            }
        )
    collectors = list(collectors)
    collection = Collection(
        **_collection_fields(
            actor=actor,
            employment=employment,
            reason=reason,
            campaign=campaign,
            session=session,
            selection=selection,
            version=version,
            specimen_type=specimen_type,
            at=collected_at,
            site=site,
            collectors=collectors,
            remarks=remarks,
        ),
        identity_checked=identity_checked,
        identity_method=identity_method,
        split=split,
        observed=observed,
        temperature_c=temperature_c,
        temperature_in_range=temperature_in_range,
        donor_confirmed=donor_confirmed,
        collector_confirmed=collector_confirmed,
        screen_result=screen_result,
    )
    if (
        screen_result == Collection.Screen.NEGATIVE
        and campaign is not None
        and campaign.screen_negative_closes
    ):
        collection.state = Collection.State.CLOSED_SCREEN
    collection.full_clean(exclude=["recorded_by", "employment", "unit", "panel_version"])
    collection.save()
    if collectors:
        collection.collectors.set(collectors)
    bottles = [
        Bottle(collection=collection, label="A", seal_number=seal_a.strip(), volume_ml=volume_a_ml)
    ]
    if split:
        bottles.append(
            Bottle(
                collection=collection, label="B", seal_number=seal_b.strip(), volume_ml=volume_b_ml
            )
        )
    Bottle.objects.bulk_create(bottles)
    for bottle in collection.bottles.all():
        CustodyEvent.objects.create(
            bottle=bottle,
            event=CustodyEvent.Event.SEALED,
            at=collected_at,
            actor=actor,
            location=collection.site,
            seal_intact=True,
        )
    audit_record(
        actor=actor,
        action="testing.collection_record",
        obj=collection,
        after={
            **snapshot(collection),
            "collectors": sorted(u.username for u in collectors),
            "bottles": {
                b.label: {"seal": b.seal_number, "volume_ml": b.volume_ml} for b in bottles
            },
        },
    )
    return collection


@transaction.atomic
def collection_refuse(
    *,
    actor,
    employment,
    reason: str,
    refusal_reason: str,
    at: datetime,
    remarks: str = "",
    site: str = "",
    campaign: Campaign | None = None,
    session: CollectionSession | None = None,
    selection: Selection | None = None,
    specimen_type: SpecimenType | None = None,
    collectors=(),
) -> Collection:
    """A refusal at collection (DOMAIN.md §3), recorded under its own form number. A refusal
    counts as a positive for sanctions once the medical reviewer has verified it."""
    _check_reason(reason)
    if refusal_reason not in Collection.Refusal.values:
        raise ValidationError(
            {
                "refusal_reason": _("Unknown refusal reason %(reason)s.")
                % {"reason": repr(refusal_reason)}
            }
        )
    if not remarks.strip():
        raise ValidationError(
            {"remarks": _("Describe what happened: a refusal must be explained.")}
        )
    campaign = _collection_campaign(
        employment=employment, campaign=campaign, session=session, selection=selection, at=at
    )
    specimen_type = specimen_type or SpecimenType.objects.get(code="urine")
    version = _resolve_panel(
        employment=employment, campaign=campaign, panel=None, on=timezone.localdate(at)
    )
    collectors = list(collectors)
    collection = Collection.objects.create(
        **_collection_fields(
            actor=actor,
            employment=employment,
            reason=reason,
            campaign=campaign,
            session=session,
            selection=selection,
            version=version,
            specimen_type=specimen_type,
            at=at,
            site=site,
            collectors=collectors,
            remarks=remarks,
        ),
        split=False,
        state=Collection.State.REFUSED,
        refusal_reason=refusal_reason,
    )
    if collectors:
        collection.collectors.set(collectors)
    audit_record(
        actor=actor, action="testing.collection_refuse", obj=collection, after=snapshot(collection)
    )
    return collection


def _reject(*, actor, collection: Collection, flaw: str, at: datetime) -> None:
    before = {"state": collection.state}
    collection.state = Collection.State.REJECTED
    collection.rejection_reason = flaw
    collection.rejected_at = at
    collection.save(update_fields=["state", "rejection_reason", "rejected_at"])
    audit_record(
        actor=actor,
        action="testing.collection_reject",
        obj=collection,
        before=before,
        after={"state": collection.state, "rejection_reason": flaw},
    )


@transaction.atomic
def custody_record(
    *,
    actor,
    bottle: Bottle,
    event: str,
    at: datetime,
    laboratory=None,
    seal_intact: bool | None = None,
    specimen_id_on_bottle: str = "",
    volume_ml: int | None = None,
    counter_signer=None,
    counter_signer_name: str = "",
    location: str = "",
    remarks: str = "",
) -> CustodyEvent:
    """One custody event. A fatal flaw it reveals (broken seal, ID mismatch, no collector,
    too little specimen) rejects the whole specimen with that reason, automatically."""
    bottle = Bottle.objects.select_related("collection").get(pk=bottle.pk)
    collection = Collection.objects.select_for_update().get(pk=bottle.collection_id)
    errors: dict[str, str] = {}
    if collection.state == Collection.State.REFUSED:
        raise ValidationError(_("A refusal has no specimen to keep in custody."))
    previous = bottle.custody.order_by("-at", "-id").first()
    error = rules.custody_sequence_error(previous.event if previous else None, event)
    if error:
        errors["event"] = error
    error = rules.custody_time_error(
        at,
        previous_at=previous.at if previous else None,
        collected_at=collection.collected_at,
        now=timezone.now(),
    )
    if error:
        errors["at"] = error
    if event == CustodyEvent.Event.RECEIVED and laboratory is None:
        errors["laboratory"] = _("Say which laboratory received the bottle.")
    if event == CustodyEvent.Event.RECEIVED and seal_intact is None:
        errors["seal_intact"] = _("On receipt, say whether the seal is intact.")
    if counter_signer is not None and counter_signer.pk == actor.pk:
        errors["counter_signer"] = _("The counter-signer must be another person.")
    if (
        event == CustodyEvent.Event.HANDED_OVER
        and counter_signer is None
        and not counter_signer_name.strip()
    ):
        errors["counter_signer"] = _("A hand-over needs the person who took the bottle.")
    if errors:
        raise ValidationError(errors)
    id_matches = None
    if specimen_id_on_bottle.strip():
        id_matches = rules.normalise_specimen_id(specimen_id_on_bottle) == collection.specimen_id
    flaw = None
    if collection.state != Collection.State.REJECTED:
        flaw = rules.fatal_flaw(
            event=event,
            seal_intact=seal_intact,
            id_matches=id_matches,
            collector_known=collection.collected_by_id is not None,
            volume_ml=volume_ml,
            minimum_volume_ml=_bottle_minimum(collection, bottle),
        )
    custody = CustodyEvent.objects.create(
        bottle=bottle,
        event=event,
        at=at,
        actor=actor,
        counter_signer=counter_signer,
        counter_signer_name=counter_signer_name.strip(),
        location=location.strip(),
        laboratory=laboratory,
        seal_intact=seal_intact,
        id_matches=id_matches,
        volume_ml=volume_ml,
        remarks=remarks.strip(),
        flaw=flaw or "",
    )
    audit_record(
        actor=actor,
        action="testing.custody_record",
        obj=custody,
        object_repr=f"{collection.specimen_id} {bottle.label} {event}",
        after=snapshot(custody),
    )
    if flaw:
        _reject(actor=actor, collection=collection, flaw=flaw, at=at)
    return custody


def _bottle_minimum(collection: Collection, bottle: Bottle) -> int | None:
    """The least a bottle must hold on receipt: the split shares of urine (30 + 15 mL), or
    the type's whole minimum in a single bottle."""
    minimum = collection.specimen_type.minimum_volume_ml
    if not minimum:
        return None
    if not collection.split:
        return minimum
    if collection.specimen_type.code == "urine":
        return rules.SPLIT_A_MINIMUM_ML if bottle.label == "A" else rules.SPLIT_B_MINIMUM_ML
    return (minimum + 1) // 2
