"""Every write in testing: what each service records (rows, custody events, audit entries),
what it refuses and with which message, and that a refused call writes nothing at all."""

import copy
import hashlib
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from probity.audit.models import AuditEntry
from probity.org.services import agency_create, unit_create
from probity.org.tests.factories import LaboratoryFactory
from probity.personnel import rules as personnel_rules
from probity.personnel.services import person_create, status_record
from probity.personnel.tests.factories import EmploymentFactory
from probity.testing import rules, selectors, services
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
    Selection,
    SessionEntry,
    SpecimenType,
)
from probity.testing.tests.factories import (
    make_campaign,
    make_collection,
    make_draw,
    make_session,
    people,
    ship_to_lab,
    urine,
)

pytestmark = pytest.mark.django_db

MODELS = (
    Panel,
    PanelVersion,
    Campaign,
    Draw,
    Selection,
    CollectionSession,
    SessionEntry,
    Collection,
    Bottle,
    CustodyEvent,
    LaboratoryStaff,
    AuditEntry,
)


def _counts() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in MODELS}
    counts["scope"] = Campaign.scope_units.through.objects.count()
    counts["team"] = CollectionSession.team.through.objects.count()
    counts["panel_agencies"] = Panel.agencies.through.objects.count()
    return counts


@contextmanager
def writes_nothing():
    before = _counts()
    yield
    assert _counts() == before


def refused(call, *, field=None, match: str):
    """Run ``call`` expecting a ValidationError whose message (for ``field``) contains
    ``match``, and check that nothing at all was written."""
    with writes_nothing(), pytest.raises(ValidationError) as exc:
        call()
    error = exc.value
    if field is not None:
        assert field in error.message_dict, error.message_dict
        text = " ".join(error.message_dict[field])
    else:
        text = " ".join(error.messages)
    assert match in text, text
    return error


def audits(action: str, obj=None):
    qs = AuditEntry.objects.filter(action=action)
    if obj is not None:
        qs = qs.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    return qs


def definition(**fentanyl):
    """The default panel's definition, with the fentanyl cutoffs changed."""
    data = copy.deepcopy(rules.HHS_2025_URINE)
    for group in data["groups"]:
        if group["code"] == "FENT":
            group["initial_cutoff"] = fentanyl.get("initial", 1)
    return data


@pytest.fixture
def manager(cast):
    return cast.programme_manager


@pytest.fixture
def collector(cast):
    return cast.collector


@pytest.fixture
def lab(db):
    return LaboratoryFactory(code="LAB-T", name_en="Test laboratory")


@pytest.fixture
def lab_user(cast, lab):
    services.lab_staff_add(actor=cast.administrator, user=cast.lab_analyst, laboratory=lab)
    return cast.lab_analyst


@pytest.fixture
def donor(org_tree):
    return EmploymentFactory(unit=org_tree.siem_reap_district)


@pytest.fixture
def civil_service(db):
    agency = agency_create(
        actor=None, code="MCS", name_en="Ministry of Civil Service", kind="civil_service"
    )
    return unit_create(actor=None, agency=agency, code="MCS-HQ", name_en="Central", name_km="")


# --- panels ---------------------------------------------------------------------------------


def test_panel_create_writes_the_panel_its_first_version_and_an_audit_entry(cast, org_tree):
    admin = cast.administrator
    panel = services.panel_create(
        actor=admin,
        code=" NP-URINE ",
        name_en="Police urine panel",
        specimen_type=urine(),
        definition=definition(initial=2),
        effective_from=date(2026, 1, 1),
        source="Ministry order 12",
        agencies=[org_tree.police],
    )
    assert panel.code == "NP-URINE"
    version = panel.versions.get()
    assert (version.version, version.effective_from, version.created_by) == (
        1,
        date(2026, 1, 1),
        admin,
    )
    assert version.definition == definition(initial=2)
    assert list(panel.agencies.all()) == [org_tree.police]
    entry = audits("testing.panel_create", panel).get()
    assert entry.actor == admin
    assert entry.after["agencies"] == ["NP"] and entry.after["version"] == 1
    # The installation default is unchanged; the police now use their own panel.
    assert Panel.objects.get(code="HHS-2025-URINE").is_default
    assert selectors.panel_for_agency(org_tree.police) == panel
    assert selectors.panel_for_agency(org_tree.prisons).code == "HHS-2025-URINE"


def test_panel_create_refuses_a_duplicate_code(cast):
    refused(
        lambda: services.panel_create(
            actor=cast.administrator,
            code="HHS-2025-URINE",
            name_en="Again",
            specimen_type=urine(),
            definition=definition(),
            effective_from=date(2026, 1, 1),
        ),
        field="code",
        match="A panel with code HHS-2025-URINE already exists.",
    )


def test_panel_create_refuses_an_invalid_definition(cast):
    bad = definition()
    bad["groups"][0]["initial_cutoff"] = 0
    del bad["validity"]["ph_adulterated_below"]
    error = refused(
        lambda: services.panel_create(
            actor=cast.administrator,
            code="BAD",
            name_en="Bad",
            specimen_type=urine(),
            definition=bad,
            effective_from=date(2026, 1, 1),
        ),
        field="definition",
        match="'initial_cutoff' must be a number above zero",
    )
    assert any("ph_adulterated_below" in m for m in error.message_dict["definition"])


def test_panel_create_as_default_takes_the_default_from_the_old_one(cast, org_tree):
    panel = services.panel_create(
        actor=cast.administrator,
        code="NEW-DEFAULT",
        name_en="New default",
        specimen_type=urine(),
        definition=definition(),
        effective_from=date(2026, 1, 1),
        is_default=True,
    )
    assert list(Panel.objects.filter(is_default=True)) == [panel]
    assert selectors.panel_for_agency(org_tree.prisons) == panel


def test_panel_version_add_numbers_versions_and_refuses_an_earlier_date(cast):
    panel = Panel.objects.get(code="HHS-2025-URINE")
    version = services.panel_version_add(
        actor=cast.administrator,
        panel=panel,
        definition=definition(initial=2),
        effective_from=date(2026, 3, 13),
        source=" reaffirmed ",
    )
    assert (version.version, version.source) == (2, "reaffirmed")
    assert audits("testing.panel_version_add", version).count() == 1
    refused(
        lambda: services.panel_version_add(
            actor=cast.administrator,
            panel=panel,
            definition=definition(),
            effective_from=date(2026, 3, 12),
        ),
        field="effective_from",
        match="cannot take effect before version 2 (2026-03-13)",
    )
    refused(
        lambda: services.panel_version_add(
            actor=cast.administrator,
            panel=panel,
            definition={"groups": []},
            effective_from=date(2026, 4, 1),
        ),
        field="definition",
        match="at least one initial test group",
    )
    # The same day as the latest is allowed: the later version wins that day.
    same_day = services.panel_version_add(
        actor=cast.administrator,
        panel=panel,
        definition=definition(initial=3),
        effective_from=date(2026, 3, 13),
    )
    assert selectors.panel_version_on(panel, date(2026, 3, 13)) == same_day


def test_a_collection_keeps_the_version_in_force_on_its_collection_date(cast, collector, donor):
    panel = Panel.objects.get(code="HHS-2025-URINE")
    first = panel.versions.get(version=1)
    now = timezone.now()
    earlier = make_collection(actor=collector, employment=donor, when=now - timedelta(days=2))
    assert earlier.panel_version == first
    second = services.panel_version_add(
        actor=cast.administrator,
        panel=panel,
        definition=definition(initial=2),
        effective_from=timezone.localdate(now - timedelta(days=1)),
    )
    earlier.refresh_from_db()
    assert earlier.panel_version == first  # a new version does not change it
    # Recorded after the new version, but collected before it took effect: the old one.
    late_entry = make_collection(actor=collector, employment=donor, when=now - timedelta(days=3))
    assert late_entry.panel_version == first
    current = make_collection(actor=collector, employment=donor, when=now - timedelta(hours=1))
    assert current.panel_version == second


def test_panel_assign_moves_an_agency_from_one_panel_to_another(cast, org_tree):
    admin = cast.administrator

    def new_panel(code):
        return services.panel_create(
            actor=admin,
            code=code,
            name_en=code,
            specimen_type=urine(),
            definition=definition(),
            effective_from=date(2026, 1, 1),
        )

    first, second = new_panel("FIRST"), new_panel("SECOND")
    services.panel_assign(actor=admin, panel=first, agencies=[org_tree.police])
    assert selectors.panel_for_agency(org_tree.police) == first
    services.panel_assign(actor=admin, panel=second, agencies=[org_tree.police, org_tree.prisons])
    assert not first.agencies.exists()
    assert selectors.panel_for_agency(org_tree.police) == second
    assert selectors.panel_for_agency(org_tree.prisons) == second
    entry = audits("testing.panel_assign", second).get()
    assert entry.before == {"agencies": [], "is_default": False}
    assert entry.after == {"agencies": ["GDP", "NP"], "is_default": False}
    # Emptying the list sends the agencies back to the installation default.
    services.panel_assign(actor=admin, panel=second, agencies=[], is_default=True)
    assert list(Panel.objects.filter(is_default=True)) == [second]
    services.panel_assign(
        actor=admin, panel=Panel.objects.get(code="HHS-2025-URINE"), agencies=[], is_default=True
    )
    assert selectors.panel_for_agency(org_tree.police).code == "HHS-2025-URINE"


def test_lab_staff_add_and_remove(cast, lab):
    admin = cast.administrator
    post = services.lab_staff_add(actor=admin, user=cast.lab_certifier, laboratory=lab)
    with writes_nothing():
        again = services.lab_staff_add(actor=admin, user=cast.lab_certifier, laboratory=lab)
    assert again == post and post.added_by == admin
    entry = audits("testing.lab_staff_add", post).get()
    assert entry.after == {"user": "lab_certifier", "laboratory": "LAB-T"}
    services.lab_staff_remove(actor=admin, post=post)
    assert not LaboratoryStaff.objects.exists()
    assert audits("testing.lab_staff_remove").get().before["laboratory"] == "LAB-T"


# --- campaigns ------------------------------------------------------------------------------


def _create(actor, org_tree, **kwargs):
    today = timezone.localdate()
    args = {
        "actor": actor,
        "code": "NP-26",
        "name_en": "Police 2026",
        "agency": org_tree.police,
        "unit": org_tree.np_root,
        "starts_on": today,
        "ends_on": today + timedelta(days=300),
        "mode": Campaign.Mode.RANDOM,
        "rate_percent": Decimal("5"),
    }
    args.update(kwargs)
    return services.campaign_create(**args)


def test_campaign_create_writes_the_campaign_its_scope_and_an_audit_entry(manager, org_tree):
    campaign = _create(
        manager,
        org_tree,
        scope_units=[org_tree.siem_reap, org_tree.phnom_penh],
        provinces=[org_tree.siem_reap.province],
        frequency=Campaign.Frequency.MONTHLY,
        target_coverage_percent=Decimal("50"),
        by_unit=True,
        alternates=2,
    )
    assert campaign.state == Campaign.State.DRAFT and campaign.created_by == manager
    assert set(campaign.scope_units.all()) == {org_tree.siem_reap, org_tree.phnom_penh}
    entry = audits("testing.campaign_create", campaign).get()
    assert entry.after["scope_units"] == ["NP-PP", "NP-SR"]
    assert entry.after["provinces"] == ["KH-17"]
    assert entry.after["mode"] == "random" and entry.after["state"] == "draft"


def test_campaign_create_refuses_a_duplicate_code(manager, org_tree):
    _create(manager, org_tree)
    refused(lambda: _create(manager, org_tree), field="code", match="NP-26 already exists")


def test_campaign_create_refuses_a_scope_unit_outside_the_organising_unit(manager, org_tree):
    refused(
        lambda: _create(
            manager, org_tree, unit=org_tree.siem_reap, scope_units=[org_tree.phnom_penh]
        ),
        field="scope_units",
        match="Unit NP-PP is not under the organising unit.",
    )
    refused(
        lambda: _create(manager, org_tree, unit=org_tree.prisons_root),
        field="unit",
        match="belongs to another agency",
    )


@pytest.mark.parametrize(
    ("mode", "rate", "field", "match"),
    [
        ("random", None, "rate_percent", "needs a rate per draw above 0 and up to 100"),
        ("random", Decimal("0"), "rate_percent", "needs a rate per draw above 0"),
        ("random", Decimal("100.01"), "rate_percent", "up to 100"),
        ("census", Decimal("5"), "rate_percent", "Only a random campaign has a rate per draw."),
    ],
)
def test_campaign_create_checks_the_rate_against_the_mode(
    manager, org_tree, mode, rate, field, match
):
    refused(
        lambda: _create(manager, org_tree, mode=mode, rate_percent=rate), field=field, match=match
    )


@pytest.mark.parametrize("target", [Decimal("0"), Decimal("-1"), Decimal("100.5")])
def test_campaign_create_checks_the_target_bounds(manager, org_tree, target):
    refused(
        lambda: _create(manager, org_tree, target_coverage_percent=target),
        field="target_coverage_percent",
        match="above 0 and up to 100",
    )


def test_campaign_target_of_exactly_100_is_allowed(manager, org_tree):
    assert _create(manager, org_tree, target_coverage_percent=Decimal("100")).pk


def test_campaign_create_refuses_an_end_before_the_start(manager, org_tree):
    today = timezone.localdate()
    with writes_nothing(), pytest.raises(ValidationError):
        _create(manager, org_tree, starts_on=today, ends_on=today - timedelta(days=1))


def test_a_dependency_cycle_is_refused(manager, org_tree):
    first = _create(manager, org_tree, code="A")
    second = _create(manager, org_tree, code="B", depends_on=first)
    third = _create(manager, org_tree, code="C", depends_on=second)
    refused(
        lambda: services.campaign_update(actor=manager, campaign=first, depends_on=third),
        field="depends_on",
        match="cannot wait on itself, even through others",
    )
    refused(
        lambda: services.campaign_update(actor=manager, campaign=first, depends_on=first),
        field="depends_on",
        match="cannot wait on itself",
    )


def test_campaign_update_changes_a_draft_and_audits_before_and_after(manager, org_tree):
    campaign = _create(manager, org_tree)
    services.campaign_update(
        actor=manager,
        campaign=campaign,
        name_en="Police 2026, revised",
        rate_percent=Decimal("10"),
        scope_units=[org_tree.siem_reap],
    )
    campaign.refresh_from_db()
    assert campaign.name_en == "Police 2026, revised"
    assert campaign.rate_percent == Decimal("10")
    assert list(campaign.scope_units.all()) == [org_tree.siem_reap]
    entry = audits("testing.campaign_update", campaign).get()
    assert Decimal(str(entry.before["rate_percent"])) == 5
    assert Decimal(str(entry.after["rate_percent"])) == 10
    assert entry.before["scope_units"] == [] and entry.after["scope_units"] == ["NP-SR"]
    refused(
        lambda: services.campaign_update(actor=manager, campaign=campaign, state="active"),
        match="Cannot change state here.",
    )
    refused(
        lambda: services.campaign_update(
            actor=manager, campaign=campaign, scope_units=[org_tree.prisons_root]
        ),
        field="scope_units",
        match="not under the organising unit",
    )


def test_campaign_update_moves_the_agency_with_the_organising_unit(manager, org_tree):
    campaign = _create(manager, org_tree)
    services.campaign_update(actor=manager, campaign=campaign, unit=org_tree.prisons_root)
    campaign.refresh_from_db()
    assert campaign.unit == org_tree.prisons_root
    assert campaign.agency == org_tree.prisons
    entry = audits("testing.campaign_update", campaign).get()
    assert entry.before["agency_id"] == org_tree.police.pk
    assert entry.after["agency_id"] == org_tree.prisons.pk


def test_campaign_update_refuses_a_started_campaign(manager, org_tree):
    campaign = make_campaign(actor=manager, unit=org_tree.np_root)
    refused(
        lambda: services.campaign_update(actor=manager, campaign=campaign, name_en="Other"),
        match="Only a draft campaign can be changed",
    )


def test_the_civil_service_campaign_waits_for_the_police_one(manager, org_tree, civil_service):
    police = make_campaign(actor=manager, unit=org_tree.np_root, code="NP-FINAL")
    civil = make_campaign(
        actor=manager,
        unit=civil_service,
        mode=Campaign.Mode.CENSUS,
        start=False,
        code="MCS-1",
        depends_on=police,
    )
    message = services.campaign_start_error(civil)
    assert "NP-FINAL" in message and "complete" in message and "active" in message
    refused(
        lambda: services.campaign_start(actor=manager, campaign=civil),
        match="starts only after NP-FINAL",
    )
    services.campaign_complete(actor=manager, campaign=police)
    civil.refresh_from_db()
    assert services.campaign_start_error(civil) is None
    started = services.campaign_start(actor=manager, campaign=civil)
    assert started.state == Campaign.State.ACTIVE and started.started_at is not None
    entry = audits("testing.campaign_start", civil).get()
    assert (entry.before, entry.after) == ({"state": "draft"}, {"state": "active"})


def test_a_cancelled_dependency_still_blocks(manager, org_tree, civil_service):
    police = make_campaign(actor=manager, unit=org_tree.np_root, code="NP-X")
    civil = make_campaign(
        actor=manager, unit=civil_service, mode="census", start=False, depends_on=police
    )
    services.campaign_cancel(actor=manager, campaign=police, reason="Budget")
    civil.refresh_from_db()
    refused(
        lambda: services.campaign_start(actor=manager, campaign=civil),
        match="NP-X (Campaign",
    )
    assert "cancelled" in services.campaign_start_error(civil)


def test_campaign_transitions(manager, org_tree):
    draft = make_campaign(actor=manager, unit=org_tree.np_root, start=False)
    refused(
        lambda: services.campaign_complete(actor=manager, campaign=draft),
        match="Only an active campaign can be completed.",
    )
    refused(
        lambda: services.campaign_cancel(actor=manager, campaign=draft, reason="  "),
        field="reason",
        match="Say why the campaign is cancelled.",
    )
    active = services.campaign_start(actor=manager, campaign=draft)
    refused(
        lambda: services.campaign_start(actor=manager, campaign=active),
        match="The campaign is active, not a draft.",
    )
    done = services.campaign_complete(actor=manager, campaign=active)
    assert done.state == Campaign.State.COMPLETE and done.completed_at is not None
    assert audits("testing.campaign_complete", done).get().after == {"state": "complete"}
    refused(
        lambda: services.campaign_cancel(actor=manager, campaign=done, reason="Late"),
        match="The campaign is already complete.",
    )
    other = make_campaign(actor=manager, unit=org_tree.np_root, start=False)
    cancelled = services.campaign_cancel(actor=manager, campaign=other, reason=" Budget cut ")
    assert cancelled.state == Campaign.State.CANCELLED
    assert audits("testing.campaign_cancel", other).get().after == {
        "state": "cancelled",
        "reason": "Budget cut",
    }
    refused(
        lambda: services.campaign_start(actor=manager, campaign=cancelled),
        match="The campaign is cancelled, not a draft.",
    )


# --- draws ----------------------------------------------------------------------------------


@pytest.fixture
def random_campaign(manager, org_tree):
    people(org_tree.phnom_penh, 6)
    people(org_tree.siem_reap, 4)
    return make_campaign(actor=manager, unit=org_tree.np_root, rate_percent=Decimal("50"))


def test_draw_commit_records_the_hash_of_the_seed_not_the_seed(manager, random_campaign):
    seed = "00112233445566778899aabbccddeeff"
    draw = services.draw_commit(actor=manager, campaign=random_campaign, seed=seed.upper())
    assert draw.seed == seed  # upper-case hex is read as lower case
    assert draw.seed_hash == hashlib.sha256(seed.encode("ascii")).hexdigest()
    assert (draw.number, draw.state, draw.rate_percent) == (1, Draw.State.COMMITTED, 50)
    entry = audits("testing.draw_commit", draw).get()
    assert entry.after["seed_hash"] == draw.seed_hash
    assert "seed" not in entry.after and seed not in str(entry.after)
    refused(
        lambda: services.draw_commit(actor=manager, campaign=random_campaign),
        match="A committed draw is waiting",
    )


def test_a_default_seed_is_64_hex_digits(manager, random_campaign):
    draw = services.draw_commit(actor=manager, campaign=random_campaign)
    assert len(draw.seed) == 64 and rules.seed_error(draw.seed) is None
    assert draw.seed_hash == hashlib.sha256(draw.seed.encode()).hexdigest()


@pytest.mark.parametrize(
    ("seed", "match"),
    [("abc", "16 to 128 characters"), ("zz" * 10, "lower-case hexadecimal")],
)
def test_draw_commit_validates_a_custom_seed(manager, random_campaign, seed, match):
    refused(
        lambda: services.draw_commit(actor=manager, campaign=random_campaign, seed=seed),
        field="seed",
        match=match,
    )


def test_draw_commit_needs_an_active_random_campaign(manager, org_tree):
    census = make_campaign(actor=manager, unit=org_tree.np_root, mode="census")
    refused(
        lambda: services.draw_commit(actor=manager, campaign=census),
        match="Only a random campaign has draws",
    )
    draft = make_campaign(actor=manager, unit=org_tree.np_root, start=False)
    refused(
        lambda: services.draw_commit(actor=manager, campaign=draft),
        match="Draws are made only while the campaign is active.",
    )
    active = make_campaign(actor=manager, unit=org_tree.np_root)
    refused(
        lambda: services.draw_commit(actor=manager, campaign=active, sample_size=0),
        field="sample_size",
        match="Select at least one person.",
    )
    refused(
        lambda: services.draw_commit(actor=manager, campaign=active, rate_percent=Decimal("120")),
        field="rate_percent",
        match="above 0 and up to 100",
    )
    services.campaign_complete(actor=manager, campaign=active)
    refused(
        lambda: services.draw_commit(actor=manager, campaign=active),
        match="only while the campaign is active",
    )


def test_draw_perform_selects_the_sample_and_freezes_the_pool(manager, random_campaign, org_tree):
    draw = services.draw_commit(actor=manager, campaign=random_campaign)
    drawn = services.draw_perform(actor=manager, draw=draw)
    assert drawn.state == Draw.State.DRAWN and drawn.drawn_by == manager
    assert (drawn.pool_size, drawn.sample_size) == (10, 5)
    assert drawn.selections.filter(kind="selected").count() == 5
    entry = audits("testing.draw_perform", drawn).get()
    assert entry.after["seed"] == drawn.seed  # revealed at the draw
    assert entry.after["pool_digest"] == drawn.pool_digest
    frozen = selectors.pool_of(drawn)
    assert rules.pool_digest(frozen) == drawn.pool_digest
    assert len(rules.pool_parse(frozen)) == 10

    # After the draw: someone joins, someone pooled is dismissed. The stored pool is as it was.
    EmploymentFactory(unit=org_tree.siem_reap)
    pooled = rules.pool_parse(frozen)[0]
    from probity.personnel.models import Employment

    status_record(
        actor=manager,
        employment=Employment.objects.get(pk=pooled.key),
        status=personnel_rules.DISMISSED,
        effective_date=timezone.localdate(),
        reason="Delisted",
    )
    drawn.refresh_from_db()
    assert selectors.pool_of(drawn) == frozen and drawn.pool_size == 10
    assert selectors.draw_verify(drawn).ok
    refused(
        lambda: services.draw_perform(actor=manager, draw=drawn),
        match="This draw has already been made.",
    )


def test_draw_with_a_fixed_sample_size(manager, random_campaign):
    draw = make_draw(actor=manager, campaign=random_campaign, sample_size=3)
    assert draw.sample_size == 3 and draw.rate_percent is None
    assert draw.selections.count() == 3


def test_people_not_in_service_on_the_day_are_not_in_the_pool(manager, org_tree):
    active = people(org_tree.siem_reap, 3)
    suspended, dismissed = people(org_tree.siem_reap, 2)
    status_record(
        actor=manager,
        employment=suspended,
        status=personnel_rules.SUSPENDED,
        effective_date=timezone.localdate() - timedelta(days=3),
        reason="Inquiry",
    )
    status_record(
        actor=manager,
        employment=dismissed,
        status=personnel_rules.DISMISSED,
        effective_date=timezone.localdate() - timedelta(days=3),
        reason="Offence",
    )
    future = person_create(
        actor=manager,
        family_name="Later",
        given_name="Joiner",
        service_number="LATE01",
        unit=org_tree.siem_reap,
        start_date=timezone.localdate() + timedelta(days=10),
    )
    assert future.pk
    campaign = make_campaign(actor=manager, unit=org_tree.np_root, rate_percent=Decimal("100"))
    draw = make_draw(actor=manager, campaign=campaign)
    keys = {e.key for e in rules.pool_parse(selectors.pool_of(draw))}
    # Suspended is still in service (on the force's list); dismissed and not yet started
    # are not.
    assert keys == {e.pk for e in active} | {suspended.pk}


def test_provinces_and_scope_units_restrict_the_pool(manager, org_tree):
    pp = people(org_tree.phnom_penh, 3)
    sr = people(org_tree.siem_reap, 2) + people(org_tree.siem_reap_district, 2)
    hq = people(org_tree.np_root, 2)
    people(org_tree.prisons_root, 2)

    def pool(**kwargs):
        campaign = make_campaign(
            actor=manager, unit=org_tree.np_root, rate_percent=Decimal("100"), **kwargs
        )
        draw = make_draw(actor=manager, campaign=campaign)
        return {e.key for e in rules.pool_parse(selectors.pool_of(draw))}

    assert pool() == {e.pk for e in pp + sr + hq}
    assert pool(provinces=[org_tree.siem_reap.province]) == {e.pk for e in sr}
    assert pool(scope_units=[org_tree.phnom_penh]) == {e.pk for e in pp}
    assert pool(scope_units=[org_tree.siem_reap_district]) == {e.pk for e in sr[2:]}
    assert pool(
        scope_units=[org_tree.siem_reap, org_tree.phnom_penh],
        provinces=[org_tree.phnom_penh.province],
    ) == {e.pk for e in pp}


def test_nobody_eligible_is_refused(manager, org_tree):
    people(org_tree.phnom_penh, 2)
    campaign = make_campaign(actor=manager, unit=org_tree.np_root, scope_units=[org_tree.siem_reap])
    draw = services.draw_commit(actor=manager, campaign=campaign)
    refused(
        lambda: services.draw_perform(actor=manager, draw=draw),
        match="Nobody is eligible in the campaign's scope today.",
    )


def test_draw_perform_needs_an_active_campaign(manager, random_campaign):
    draw = services.draw_commit(actor=manager, campaign=random_campaign)
    services.campaign_complete(actor=manager, campaign=random_campaign)
    refused(
        lambda: services.draw_perform(actor=manager, draw=draw),
        match="only while the campaign is active",
    )


def test_a_two_stage_draw_meets_each_units_quota(manager, org_tree):
    people(org_tree.phnom_penh, 10)
    people(org_tree.siem_reap, 20)
    people(org_tree.siem_reap_district, 30)
    campaign = make_campaign(
        actor=manager,
        unit=org_tree.np_root,
        rate_percent=Decimal("25"),
        by_unit=True,
        alternates=2,
    )
    draw = make_draw(actor=manager, campaign=campaign)
    assert draw.sample_size == 15  # 60 x 25 %
    quotas = audits("testing.draw_perform", draw).get().after["quotas"]
    # 10, 20, 30 people at 25 %: 2.5, 5 and 7.5 - floors for sure, the halves by the draw.
    assert quotas["NP-SR"] == 5
    assert quotas["NP-PP"] in (2, 3) and quotas["NP-SR-01"] in (7, 8)
    assert sum(quotas.values()) == 15
    for code, quota in quotas.items():
        mine = draw.selections.filter(unit__code=code)
        assert mine.filter(kind="selected").count() == quota
        assert mine.filter(kind="alternate").count() == 2
        assert set(mine.values_list("employment__unit__code", flat=True)) == {code}
    assert selectors.draw_verify(draw).ok


# --- excusals -------------------------------------------------------------------------------


def _two_stage(manager, org_tree, *, alternates=1):
    people(org_tree.phnom_penh, 10)
    people(org_tree.siem_reap, 10)
    campaign = make_campaign(
        actor=manager,
        unit=org_tree.np_root,
        rate_percent=Decimal("20"),
        by_unit=True,
        alternates=alternates,
    )
    return make_draw(actor=manager, campaign=campaign)


def test_an_excusal_calls_in_an_alternate_of_the_same_unit(manager, org_tree):
    draw = _two_stage(manager, org_tree)
    first, second = draw.selections.filter(kind="selected", unit=org_tree.siem_reap)
    refused(
        lambda: services.selection_excuse(actor=manager, selection=first, reason="  "),
        field="reason",
        match="An excusal needs its reason.",
    )
    alternate = services.selection_excuse(actor=manager, selection=first, reason=" Hospitalised ")
    first.refresh_from_db()
    assert first.excused and first.excusal_reason == "Hospitalised"
    assert first.excused_by == manager and not first.to_test
    assert alternate.unit == org_tree.siem_reap and alternate.replaces == first
    assert alternate.to_test
    entry = audits("testing.selection_excuse", first).get()
    assert entry.after == {
        "reason": "Hospitalised",
        "employment": first.employment_id,
        "alternate": alternate.employment_id,
    }
    # The only Siem Reap alternate is used: the next excusal there finds none, even though
    # Phnom Penh still has one.
    assert services.selection_excuse(actor=manager, selection=second, reason="Leave") is None
    assert draw.selections.filter(
        kind="alternate", unit=org_tree.phnom_penh, replaces__isnull=True
    ).exists()
    refused(
        lambda: services.selection_excuse(actor=manager, selection=first, reason="Again"),
        match="This person is already excused.",
    )


def test_an_uncalled_alternate_cannot_be_excused(manager, org_tree):
    draw = _two_stage(manager, org_tree)
    spare = draw.selections.filter(kind="alternate").first()
    refused(
        lambda: services.selection_excuse(actor=manager, selection=spare, reason="x"),
        match="Only a person to be tested can be excused.",
    )


def test_a_single_stage_excusal_takes_the_first_free_alternate(manager, org_tree):
    people(org_tree.phnom_penh, 5)
    people(org_tree.siem_reap, 5)
    campaign = make_campaign(
        actor=manager, unit=org_tree.np_root, rate_percent=Decimal("20"), alternates=2
    )
    draw = make_draw(actor=manager, campaign=campaign)
    one, two = draw.selections.filter(kind="selected")
    spare1, spare2 = draw.selections.filter(kind="alternate").order_by("position")
    assert services.selection_excuse(actor=manager, selection=one, reason="Leave") == spare1
    assert services.selection_excuse(actor=manager, selection=two, reason="Leave") == spare2
    # An alternate called in may be excused too; nobody is left to replace them.
    spare1.refresh_from_db()
    assert services.selection_excuse(actor=manager, selection=spare1, reason="Ill") is None


def test_a_person_tested_or_refused_cannot_be_excused(manager, collector, org_tree):
    draw = _two_stage(manager, org_tree)
    tested, refusing = draw.selections.filter(kind="selected")[:2]
    make_collection(actor=collector, employment=tested.employment, selection=tested)
    services.collection_refuse(
        actor=collector,
        employment=refusing.employment,
        reason="random",
        refusal_reason="no_show",
        at=timezone.now() - timedelta(hours=1),
        remarks="Absent",
        selection=refusing,
    )
    for selection in (tested, refusing):
        refused(
            lambda s=selection: services.selection_excuse(actor=manager, selection=s, reason="x"),
            match="already been tested or refused",
        )


# --- sessions -------------------------------------------------------------------------------


def test_session_create_writes_the_session_its_team_and_an_audit_entry(collector, org_tree):
    session = services.session_create(
        actor=collector, unit=org_tree.siem_reap, site=" Siem Reap HQ ", date=date(2026, 5, 4)
    )
    assert session.site == "Siem Reap HQ" and session.state == CollectionSession.State.PLANNED
    assert list(session.team.all()) == [collector]  # the creator by default
    entry = audits("testing.session_create", session).get()
    assert entry.after["team"] == ["collector"]


def test_session_create_refusals(cast, manager, collector, org_tree):
    draft = make_campaign(actor=manager, unit=org_tree.np_root, start=False)
    active = make_campaign(actor=manager, unit=org_tree.np_root)

    def create(**kwargs):
        args = {
            "actor": collector,
            "unit": org_tree.siem_reap,
            "site": "Office",
            "date": timezone.localdate(),
        }
        args.update(kwargs)
        return lambda: services.session_create(**args)

    refused(create(campaign=draft), field="campaign", match="The campaign is not active.")
    refused(
        create(campaign=active, unit=org_tree.prisons_root),
        field="unit",
        match="not in the campaign's agency",
    )
    refused(create(site="   "), field="site", match="Say where the collection takes place.")


def test_session_set_team_and_state(cast, collector, org_tree):
    session = make_session(actor=collector, unit=org_tree.siem_reap)
    refused(
        lambda: services.session_set_team(actor=collector, session=session, team=[]),
        field="team",
        match="at least one collector",
    )
    other = cast.programme_manager
    services.session_set_team(actor=collector, session=session, team=[collector, other])
    assert set(session.team.all()) == {collector, other}
    entry = audits("testing.session_set_team", session).get()
    assert entry.before == {"team": ["collector"]}
    assert entry.after == {"team": ["collector", "programme_manager"]}
    refused(
        lambda: services.session_set_state(actor=collector, session=session, state="done"),
        field="state",
        match="Unknown state 'done'",
    )
    services.session_set_state(actor=collector, session=session, state="open")
    assert audits("testing.session_set_state", session).get().after == {"state": "open"}


def test_session_add_draw_lists_the_draws_people_in_the_unit_once(manager, collector, org_tree):
    pp = people(org_tree.phnom_penh, 4)
    sr = people(org_tree.siem_reap, 4) + people(org_tree.siem_reap_district, 4)
    campaign = make_campaign(actor=manager, unit=org_tree.np_root, rate_percent=Decimal("100"))
    draw = make_draw(actor=manager, campaign=campaign)
    assert draw.selections.count() == 12
    excused = draw.selections.get(employment=sr[0])
    services.selection_excuse(actor=manager, selection=excused, reason="Leave")
    session = make_session(actor=collector, unit=org_tree.siem_reap, campaign=campaign)
    added = services.session_add_draw(actor=collector, session=session, draw=draw)
    # Siem Reap's people to test, with its district: not Phnom Penh's, not the excused one.
    assert added == 7
    listed = set(session.entries.values_list("employment_id", flat=True))
    assert listed == {e.pk for e in sr[1:]}
    assert not listed & {e.pk for e in pp}
    for entry in session.entries.all():
        assert entry.reason == "random"
        assert entry.selection.employment_id == entry.employment_id
    assert audits("testing.session_add_people", session).count() == 1
    with writes_nothing():
        assert services.session_add_draw(actor=collector, session=session, draw=draw) == 0

    other = make_campaign(actor=manager, unit=org_tree.np_root, rate_percent=Decimal("50"))
    other_session = make_session(actor=collector, unit=org_tree.siem_reap, campaign=other)
    refused(
        lambda: services.session_add_draw(actor=collector, session=other_session, draw=draw),
        match="The draw belongs to another campaign than the session.",
    )


def test_session_add_people_refuses_people_outside_the_unit(collector, org_tree):
    inside = EmploymentFactory(unit=org_tree.siem_reap_district)
    outside = EmploymentFactory(unit=org_tree.phnom_penh)
    session = make_session(actor=collector, unit=org_tree.siem_reap)
    refused(
        lambda: services.session_add_people(
            actor=collector, session=session, employments=[inside, outside], reason="census"
        ),
        match=f"{outside.service_number} is not in the unit visited (NP-SR).",
    )
    assert (
        services.session_add_people(
            actor=collector, session=session, employments=[inside, inside], reason="census"
        )
        == 1
    )
    entry = audits("testing.session_add_people", session).get()
    assert entry.after == {"reason": "census", "added": [inside.service_number]}
    services.session_set_state(actor=collector, session=session, state="closed")
    newcomer = EmploymentFactory(unit=org_tree.siem_reap)
    refused(
        lambda: services.session_add_people(
            actor=collector, session=session, employments=[newcomer], reason="census"
        ),
        match="The session is closed.",
    )


# --- collections ----------------------------------------------------------------------------


def test_collection_record_writes_the_collection_two_sealed_bottles_and_an_audit_entry(
    collector, donor
):
    when = timezone.now() - timedelta(hours=3)
    collection = make_collection(
        actor=collector, employment=donor, when=when, seal_a="A-1", seal_b="B-1", site="Office"
    )
    assert rules.specimen_id_valid(collection.specimen_id)
    assert collection.state == Collection.State.COLLECTED
    assert collection.unit == donor.unit and collection.recorded_by == collector
    assert collection.collected_by == collector
    assert collection.panel_version.panel.code == "HHS-2025-URINE"
    assert collection.temperature_in_range is True
    bottles = {b.label: b for b in collection.bottles.all()}
    assert set(bottles) == {"A", "B"}
    assert (bottles["A"].seal_number, bottles["A"].volume_ml) == ("A-1", 40)
    assert (bottles["B"].seal_number, bottles["B"].volume_ml) == ("B-1", 20)
    for bottle in bottles.values():
        event = bottle.custody.get()
        assert (event.event, event.at, event.actor, event.seal_intact) == (
            "sealed",
            when,
            collector,
            True,
        )
        assert event.location == "Office"
    entry = audits("testing.collection_record", collection).get()
    assert entry.after["bottles"]["A"] == {"seal": "A-1", "volume_ml": 40}
    assert entry.after["specimen_id"] == collection.specimen_id


def test_an_unsplit_collection_has_no_bottle_b(collector, donor):
    collection = make_collection(
        actor=collector, employment=donor, split=False, volume_a_ml=50, volume_b_ml=None
    )
    assert list(collection.bottles.values_list("label", flat=True)) == ["A"]
    assert CustodyEvent.objects.filter(bottle__collection=collection).count() == 1
    refused(
        lambda: make_collection(
            actor=collector, employment=donor, split=False, volume_a_ml=50, volume_b_ml=10
        ),
        field="volume_b_ml",
        match="There is no bottle B when the specimen is not split.",
    )


@pytest.mark.parametrize(
    ("flag", "match"),
    [
        ("identity_checked", "Check the donor's identity before collecting."),
        ("donor_confirmed", "if they will not, record a refusal"),
        ("collector_confirmed", "The collector must confirm the collection."),
    ],
)
def test_collection_record_needs_every_confirmation(collector, donor, flag, match):
    refused(
        lambda: make_collection(actor=collector, employment=donor, **{flag: False}),
        field=flag,
        match=match,
    )


def test_too_little_specimen_is_refused_with_what_to_do(collector, donor):
    refused(
        lambda: make_collection(actor=collector, employment=donor, volume_a_ml=20, volume_b_ml=10),
        field="volume_a_ml",
        match="30 mL is less than the 45 mL needed: wait for a sufficient specimen",
    )
    assert make_collection(actor=collector, employment=donor, volume_a_ml=30, volume_b_ml=15)


def test_a_temperature_contradiction_is_refused(collector, donor):
    refused(
        lambda: make_collection(
            actor=collector,
            employment=donor,
            temperature_c=Decimal("30.0"),
            temperature_in_range=True,
        ),
        field="temperature_in_range",
        match="This contradicts the temperature measured.",
    )
    cold = make_collection(actor=collector, employment=donor, temperature_c=Decimal("30.0"))
    assert cold.temperature_in_range is False


def test_an_inactive_specimen_type_is_refused(collector, donor):
    oral = SpecimenType.objects.get(code="oral_fluid")
    refused(
        lambda: services.collection_record(
            actor=collector,
            employment=donor,
            reason="other",
            collected_at=timezone.now(),
            specimen_type=oral,
        ),
        field="specimen_type",
        match="Specimen type oral_fluid is not in use.",
    )


def test_a_panel_of_another_specimen_type_is_refused(cast, collector, donor):
    hair = services.panel_create(
        actor=cast.administrator,
        code="HAIR-1",
        name_en="Hair panel",
        specimen_type=SpecimenType.objects.get(code="hair"),
        definition=definition(),
        effective_from=date(2025, 1, 1),
    )
    refused(
        lambda: make_collection(actor=collector, employment=donor, panel=hair),
        field="panel",
        match="Panel HAIR-1 is for another specimen type.",
    )


def test_no_panel_in_force_is_refused(collector, donor):
    refused(
        lambda: make_collection(
            actor=collector,
            employment=donor,
            when=timezone.make_aware(timezone.datetime(2024, 1, 10, 9, 0)),
        ),
        field="panel",
        match="Panel HHS-2025-URINE has no version in force on 2024-01-10.",
    )


def test_the_campaign_must_be_active_and_of_the_donors_agency(manager, collector, donor, org_tree):
    prisons = make_campaign(actor=manager, unit=org_tree.prisons_root, code="GDP-1")
    refused(
        lambda: make_collection(actor=collector, employment=donor, campaign=prisons),
        field="campaign",
        match="Campaign GDP-1 is for another agency.",
    )
    draft = make_campaign(actor=manager, unit=org_tree.np_root, start=False, code="NP-D")
    refused(
        lambda: make_collection(actor=collector, employment=donor, campaign=draft),
        field="campaign",
        match="Campaign NP-D is not active.",
    )


def test_a_collection_in_the_future_is_refused(collector, donor):
    refused(
        lambda: make_collection(
            actor=collector, employment=donor, when=timezone.now() + timedelta(hours=1)
        ),
        field="collected_at",
        match="A collection cannot be recorded in the future.",
    )


def test_a_closed_session_or_another_persons_selection_is_refused(manager, collector, org_tree):
    people(org_tree.siem_reap, 4)
    campaign = make_campaign(actor=manager, unit=org_tree.np_root, rate_percent=Decimal("50"))
    draw = make_draw(actor=manager, campaign=campaign)
    one, two = draw.selections.filter(kind="selected")[:2]
    session = make_session(actor=collector, unit=org_tree.siem_reap, campaign=campaign)
    refused(
        lambda: make_collection(actor=collector, employment=one.employment, selection=two),
        field="selection",
        match="The selection is for another person.",
    )
    other = make_campaign(actor=manager, unit=org_tree.np_root, rate_percent=Decimal("50"))
    refused(
        lambda: make_collection(
            actor=collector, employment=one.employment, selection=one, campaign=other
        ),
        field="selection",
        match="The selection belongs to another campaign.",
    )
    # A drawn person's collection belongs to the draw's campaign without naming it.
    assert (
        make_collection(actor=collector, employment=one.employment, selection=one).campaign
        == campaign
    )
    services.session_set_state(actor=collector, session=session, state="closed")
    refused(
        lambda: make_collection(actor=collector, employment=two.employment, session=session),
        field="session",
        match="The session is closed.",
    )


@pytest.mark.parametrize(
    ("closes", "screen", "state"),
    [
        (True, "negative", Collection.State.CLOSED_SCREEN),
        (True, "non_negative", Collection.State.COLLECTED),
        (True, "", Collection.State.COLLECTED),
        (False, "negative", Collection.State.COLLECTED),
    ],
)
def test_a_negative_screen_closes_the_test_only_when_the_campaign_says_so(
    manager, collector, donor, org_tree, closes, screen, state
):
    campaign = make_campaign(
        actor=manager, unit=org_tree.np_root, mode="census", screen_negative_closes=closes
    )
    collection = make_collection(
        actor=collector, employment=donor, campaign=campaign, screen_result=screen
    )
    assert collection.state == state and collection.screen_result == screen


def test_the_collector_of_record(cast, collector, donor):
    assert make_collection(actor=collector, employment=donor).collected_by == collector
    # A programme manager typing in a form without naming the team: no collector identity.
    typed = make_collection(actor=cast.programme_manager, employment=donor)
    assert typed.collected_by is None
    named = make_collection(actor=cast.programme_manager, employment=donor, collectors=[collector])
    assert named.collected_by == collector
    assert list(named.collectors.all()) == [collector]


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", list(Collection.Refusal.values))
def test_each_refusal_reason_is_recorded(collector, donor, reason):
    at = timezone.now() - timedelta(hours=1)
    refusal = services.collection_refuse(
        actor=collector,
        employment=donor,
        reason="random",
        refusal_reason=reason,
        at=at,
        remarks=" Recorded at the site ",
        site="Office",
    )
    assert refusal.state == Collection.State.REFUSED and refusal.refusal_reason == reason
    assert (refusal.collected_at, refusal.remarks, refusal.collected_by) == (
        at,
        "Recorded at the site",
        collector,
    )
    assert rules.specimen_id_valid(refusal.specimen_id)
    assert not refusal.bottles.exists()
    assert audits("testing.collection_refuse", refusal).get().after["refusal_reason"] == reason


def test_a_refusal_needs_remarks_and_a_known_reason(collector, donor):
    def refuse(**kwargs):
        args = {
            "actor": collector,
            "employment": donor,
            "reason": "random",
            "refusal_reason": "no_show",
            "at": timezone.now(),
            "remarks": "Absent",
        }
        args.update(kwargs)
        return lambda: services.collection_refuse(**args)

    refused(refuse(remarks="  "), field="remarks", match="a refusal must be explained")
    refused(refuse(refusal_reason="sleepy"), field="refusal_reason", match="'sleepy'")
    refused(refuse(reason="whim"), field="reason", match="Unknown reason 'whim'.")
    refused(
        refuse(at=timezone.now() + timedelta(hours=2)),
        field="collected_at",
        match="cannot be recorded in the future",
    )


# --- custody --------------------------------------------------------------------------------


@pytest.fixture
def collection(collector, donor):
    return make_collection(
        actor=collector, employment=donor, when=timezone.now() - timedelta(hours=5)
    )


def _custody(actor, bottle, event, *, ago_minutes, **kwargs):
    return services.custody_record(
        actor=actor,
        bottle=bottle,
        event=event,
        at=timezone.now() - timedelta(minutes=ago_minutes),
        **kwargs,
    )


def test_a_full_chain_of_custody(collector, lab_user, lab, collection, cast):
    bottle = collection.bottles.get(label="A")
    handed = _custody(
        collector,
        bottle,
        "handed_over",
        ago_minutes=240,
        counter_signer=cast.programme_manager,
        location=" Checkpoint ",
    )
    assert handed.counter_signer == cast.programme_manager and handed.location == "Checkpoint"
    received = _custody(
        lab_user,
        bottle,
        "received",
        ago_minutes=120,
        laboratory=lab,
        seal_intact=True,
        specimen_id_on_bottle=collection.specimen_id.lower().replace("-", ""),
        volume_ml=40,
    )
    assert received.id_matches is True and received.flaw == ""
    _custody(lab_user, bottle, "aliquoted", ago_minutes=60)
    _custody(lab_user, bottle, "stored", ago_minutes=30, location="Freezer 2")
    _custody(lab_user, bottle, "disposed", ago_minutes=10)
    collection.refresh_from_db()
    assert collection.state == Collection.State.COLLECTED
    events = list(selectors.custody_timeline(collection).filter(bottle=bottle))
    assert [e.event for e in events] == [
        "sealed",
        "handed_over",
        "received",
        "aliquoted",
        "stored",
        "disposed",
    ]
    entry = audits("testing.custody_record", received).get()
    assert entry.object_repr == f"{collection.specimen_id} A received"
    refused(
        lambda: _custody(lab_user, bottle, "stored", ago_minutes=5),
        field="event",
        match="The bottle has been disposed of",
    )


@pytest.mark.parametrize(
    ("event", "match"),
    [
        ("aliquoted", "A bottle cannot be aliquoted right after being sealed."),
        ("sealed", "A bottle cannot be sealed right after being sealed."),
        ("disposed", "cannot be disposed right after being sealed"),
        ("opened", "Unknown custody event 'opened'"),
    ],
)
def test_custody_sequence_rules(collector, collection, event, match):
    bottle = collection.bottles.get(label="A")
    refused(lambda: _custody(collector, bottle, event, ago_minutes=60), field="event", match=match)


def test_custody_time_rules(collector, collection, cast):
    bottle = collection.bottles.get(label="A")
    refused(
        lambda: _custody(
            collector, bottle, "handed_over", ago_minutes=400, counter_signer_name="C"
        ),
        field="at",
        match="A custody event cannot come before the collection.",
    )
    refused(
        lambda: _custody(
            collector, bottle, "handed_over", ago_minutes=-60, counter_signer_name="C"
        ),
        field="at",
        match="cannot be in the future",
    )
    _custody(collector, bottle, "handed_over", ago_minutes=100, counter_signer_name="Courier")
    refused(
        lambda: _custody(
            collector, bottle, "handed_over", ago_minutes=200, counter_signer_name="D"
        ),
        field="at",
        match="before the bottle's previous event",
    )


def test_counter_signers(collector, collection):
    bottle = collection.bottles.get(label="A")
    refused(
        lambda: _custody(collector, bottle, "handed_over", ago_minutes=60),
        field="counter_signer",
        match="A hand-over needs the person who took the bottle.",
    )
    refused(
        lambda: _custody(
            collector, bottle, "handed_over", ago_minutes=60, counter_signer=collector
        ),
        field="counter_signer",
        match="The counter-signer must be another person.",
    )


def test_a_receipt_needs_the_laboratory_and_the_seal_state(lab_user, collection):
    bottle = collection.bottles.get(label="A")
    error = refused(
        lambda: _custody(lab_user, bottle, "received", ago_minutes=60),
        field="laboratory",
        match="Say which laboratory received the bottle.",
    )
    assert "On receipt, say whether the seal is intact." in error.message_dict["seal_intact"]


def _rejected_with(collection, flaw):
    collection.refresh_from_db()
    assert collection.state == Collection.State.REJECTED
    assert collection.rejection_reason == flaw
    entry = audits("testing.collection_reject", collection).get()
    assert entry.before == {"state": "collected"}
    assert entry.after == {"state": "rejected", "rejection_reason": flaw}
    return entry


def test_a_broken_seal_on_receipt_rejects_the_specimen(collector, lab_user, lab, collection):
    receipt = ship_to_lab(
        collector=collector,
        lab_user=lab_user,
        collection=collection,
        laboratory=lab,
        seal_intact=False,
    )
    assert receipt.flaw == rules.FLAW_SEAL_BROKEN
    _rejected_with(collection, rules.FLAW_SEAL_BROKEN)
    assert collection.rejected_at == receipt.at
    # Later events are still recorded (the bottle is stored, then disposed of) but do not
    # reject it a second time.
    _custody(lab_user, receipt.bottle, "stored", ago_minutes=5)
    assert audits("testing.collection_reject", collection).count() == 1


def test_a_broken_seal_at_a_hand_over_rejects_the_specimen(collector, collection):
    bottle = collection.bottles.get(label="B")
    event = _custody(
        collector,
        bottle,
        "handed_over",
        ago_minutes=60,
        counter_signer_name="Courier",
        seal_intact=False,
    )
    assert event.flaw == rules.FLAW_SEAL_BROKEN
    _rejected_with(collection, rules.FLAW_SEAL_BROKEN)


def test_an_id_mismatch_rejects_the_specimen(collector, lab_user, lab, collection):
    receipt = ship_to_lab(
        collector=collector,
        lab_user=lab_user,
        collection=collection,
        laboratory=lab,
        specimen_id_on_bottle="PB-0000-0000-0",
    )
    assert receipt.id_matches is False and receipt.flaw == rules.FLAW_ID_MISMATCH
    _rejected_with(collection, rules.FLAW_ID_MISMATCH)


def test_no_collector_identity_rejects_the_specimen(cast, lab_user, lab, donor):
    typed = make_collection(actor=cast.programme_manager, employment=donor)
    assert typed.collected_by is None
    receipt = ship_to_lab(
        collector=cast.programme_manager, lab_user=lab_user, collection=typed, laboratory=lab
    )
    assert receipt.flaw == rules.FLAW_NO_COLLECTOR
    _rejected_with(typed, rules.FLAW_NO_COLLECTOR)


@pytest.mark.parametrize(
    ("label", "volume", "flaw"),
    [
        ("A", 29, rules.FLAW_INSUFFICIENT),
        ("A", 30, ""),
        ("B", 14, rules.FLAW_INSUFFICIENT),
        ("B", 15, ""),
    ],
)
def test_too_little_specimen_on_receipt_of_a_split_urine_bottle(
    collector, lab_user, lab, collection, label, volume, flaw
):
    bottle = collection.bottles.get(label=label)
    _custody(collector, bottle, "handed_over", ago_minutes=60, counter_signer_name="Courier")
    receipt = _custody(
        lab_user,
        bottle,
        "received",
        ago_minutes=30,
        laboratory=lab,
        seal_intact=True,
        volume_ml=volume,
    )
    assert receipt.flaw == flaw
    collection.refresh_from_db()
    if flaw:
        _rejected_with(collection, flaw)
    else:
        assert collection.state == Collection.State.COLLECTED
        assert not audits("testing.collection_reject").exists()


def test_an_unsplit_bottle_needs_the_whole_minimum(collector, lab_user, lab, donor):
    single = make_collection(
        actor=collector, employment=donor, split=False, volume_a_ml=50, volume_b_ml=None
    )
    receipt = ship_to_lab(
        collector=collector, lab_user=lab_user, collection=single, laboratory=lab, volume_ml=44
    )
    assert receipt.flaw == rules.FLAW_INSUFFICIENT


def test_a_refusal_has_no_custody(collector, donor, lab_user, lab):
    refusal = services.collection_refuse(
        actor=collector,
        employment=donor,
        reason="random",
        refusal_reason="left_early",
        at=timezone.now() - timedelta(hours=1),
        remarks="Left",
    )
    # A refusal has no bottle; even a bottle forged onto it is refused.
    bottle = Bottle.objects.create(collection=refusal, label="A")
    refused(
        lambda: _custody(lab_user, bottle, "sealed", ago_minutes=30),
        match="A refusal has no specimen to keep in custody.",
    )
