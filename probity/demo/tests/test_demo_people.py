"""The demo registry: invented officers in every province, with a history the rules accept."""

import io
import random
import re
from collections import Counter
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from probity.accounts.models import User
from probity.audit.models import AuditEntry
from probity.audit.selectors import verify_chain
from probity.core.khmer import has_khmer
from probity.demo import people
from probity.demo.management.commands.seed_demo import PERSONNEL_USER
from probity.org.models import Province, Unit
from probity.personnel import rules, selectors, services
from probity.personnel.models import (
    Employment,
    EmploymentEvent,
    Person,
    StatusChange,
)

N = 120  # more than the 52 demo units, so that every unit gets someone


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def demo_units() -> people.Units:
    """The demo's unit codes without a database: what ``people_units`` builds."""
    units = people.Units()
    units.add("NP", "NP-HQ", 3)
    for i in range(1, 26):
        units.add("NP", f"NP-KH-{i}", 3 if i == 12 else 1)
        units.add("NP", f"NP-KH-{i}-{i:02d}01")
    for agency in ("MP", "GDP", "MCS"):
        units.add(agency, f"{agency}-HQ", 3)
        for i in (1, 12, 17):
            units.add(agency, f"{agency}-KH-{i}")
    return units


def plan(n: int):
    rng = random.Random(2024)
    officers = people.invent_officers(n, demo_units(), rng=rng)
    changes, counts = people.plan_history(officers, demo_units(), rng=rng)
    return officers, changes, counts


# --- without the database: the full-size plan ----------------------------------------------


def test_the_plan_is_deterministic():
    assert plan(300) == plan(300)


def test_full_size_officers_look_like_a_roster():
    officers, _, _ = plan(5000)
    assert len({o.service_number for o in officers}) == 5000
    assert len({o.national_id for o in officers}) == 5000
    assert all(re.fullmatch(r"(NP|MP|GDP|MCS)-\d{6}", o.service_number) for o in officers)
    assert all(re.fullmatch(r"\d{9}", o.national_id) for o in officers)
    by_agency = Counter(o.agency for o in officers)
    assert by_agency["NP"] > 3500 and all(by_agency[a] > 100 for a in ("MP", "GDP", "MCS"))
    # Every unit of every agency has someone.
    units = demo_units()
    assert {o.unit for o in officers} == {c for codes in units.codes.values() for c in codes}
    assert all(o.unit.split("-")[0] == o.agency for o in officers)
    for o in officers:
        assert o.full_name not in people.PUBLIC_FIGURES
        family, given = o.name_km.split(" ")
        assert (o.family_name, family) in people.FAMILY_NAMES
        assert (o.given_name, given, o.sex) in people.GIVEN_NAMES
        assert date(1965, 1, 1) <= o.date_of_birth <= date(2003, 1, 1)
        assert (o.start_date - o.date_of_birth).days > 18 * 365
        assert o.start_date <= date(2023, 9, 4)
        ranks = people.CIVIL_SERVICE_ORDER if o.agency == "MCS" else people.UNIFORMED_ORDER
        assert o.rank in ranks
        assert o.position
    assert 0.7 < sum(o.sex == "M" for o in officers) / 5000 < 0.9


def test_full_size_history_is_accepted_by_the_rules():
    """Replays the 5,000-people plan through the pure rules, as the services will."""
    officers, changes, counts = plan(5000)
    started = {o.service_number: o.start_date for o in officers}
    status: dict[str, list[tuple[str, date]]] = {
        o.service_number: [(rules.ACTIVE, o.start_date)] for o in officers
    }
    events = {o.service_number: o.start_date for o in officers}
    for c in changes:
        assert c.effective_date >= started[c.service_number]
        assert c.effective_date <= people.HISTORY_END
        if c.kind == "status":
            current, latest = status[c.service_number][-1]
            assert rules.chronology_error(latest, c.effective_date) is None, c
            problem = rules.transition_error(current, c.status, reinstatement=c.reinstatement)
            assert problem is None, (c, problem)
            if c.status != rules.ACTIVE or c.reinstatement:
                assert c.reason
            status[c.service_number].append((c.status, c.effective_date))
        else:
            assert rules.chronology_error(events[c.service_number], c.effective_date) is None
            history = [
                rules.StatusEvent(st, day, seq)
                for seq, (st, day) in enumerate(status[c.service_number])
            ]
            in_force = rules.current_status(history, on=c.effective_date)
            assert rules.employment_change_error(in_force) is None, c
            events[c.service_number] = c.effective_date
    # A handful of each, as in the story: a few dismissals, most of them in the campaign.
    assert 40 <= counts["suspended"] <= 60
    assert 10 <= counts["dismissed"] <= 40
    assert counts["reinstated"] == 2
    assert counts["retired"] >= 30 and counts["resigned"] >= 10
    assert counts["transfers"] >= 100 and counts["promotions"] >= 100
    assert counts["removed_from_position"] >= 10 and counts["demoted"] >= 5
    dismissals = [c for c in changes if c.status == rules.DISMISSED]
    for c in dismissals:
        assert people.CAMPAIGN_START <= c.effective_date <= people.CAMPAIGN_END
        assert re.fullmatch(r"\d{4}/2[34] (MOI|MP-HQ|GDP)", c.reference)
    assert any(c.effective_date == date(2024, 1, 5) for c in dismissals)


# --- with the database -------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_fills_the_registry(var_dir):
    output = seed("--people", str(N))
    assert f"Demo registry: {N} people" in output
    officer = User.objects.get(username=PERSONNEL_USER)
    assert Person.objects.count() == N
    assert Employment.objects.count() == N

    # Every province has police officers, every unit someone.
    provinces = set(
        Employment.objects.filter(agency__code="NP").values_list("unit__province", flat=True)
    )
    assert provinces == set(Province.objects.values_list("pk", flat=True))
    started_in = EmploymentEvent.objects.filter(kind=EmploymentEvent.Kind.STARTED)
    assert {e.after["unit"] for e in started_in} == set(Unit.objects.values_list("code", flat=True))

    for person in Person.objects.all():
        assert person.search_text == services.search_text(
            family_name=person.family_name, given_name=person.given_name, name_km=person.name_km
        )
        assert has_khmer(person.name_km)
        assert person.sex in ("M", "F") and person.date_of_birth and person.national_id
    for employment in Employment.objects.select_related("rank", "unit"):
        assert employment.rank.agency_id == employment.agency_id == employment.unit.agency_id
        started = employment.events.order_by("effective_date", "id").first()
        assert started.kind == EmploymentEvent.Kind.STARTED
        assert started.effective_date == employment.start_date
        first = employment.status_changes.order_by("effective_date", "id").first()
        assert (first.status, first.effective_date) == (rules.ACTIVE, employment.start_date)
    assert set(StatusChange.objects.values_list("recorded_by", flat=True)) == {officer.pk}
    assert set(EmploymentEvent.objects.values_list("recorded_by", flat=True)) == {officer.pk}

    # A few historic changes, made through the services (so audited).
    dismissed = StatusChange.objects.filter(status=rules.DISMISSED)
    assert dismissed.exists()
    for change in dismissed:
        assert change.reference and change.reason
        assert date(2023, 10, 1) <= change.effective_date <= date(2024, 1, 31)
        reinstated = change.employment.status_changes.filter(reinstatement=True).exists()
        assert (change.employment.end_date is None) == reinstated
    assert StatusChange.objects.filter(status=rules.SUSPENDED).exists()
    assert StatusChange.objects.filter(reinstatement=True).count() == 2
    assert EmploymentEvent.objects.filter(kind=EmploymentEvent.Kind.TRANSFER).exists()
    assert AuditEntry.objects.filter(action="personnel.status_record").count() == (
        StatusChange.objects.exclude(reason="Registered").count()
    )
    statuses = set(
        selectors.employments_for(officer).values_list("current_status", flat=True).distinct()
    )
    assert {rules.ACTIVE, rules.DISMISSED} <= statuses

    # Khmer search finds the demo people.
    found = selectors.employments_for(officer, q="សុខ")
    assert found.exists() and all("សុខ" in e.person.name_km for e in found)

    seeded = AuditEntry.objects.get(action="demo.seed")
    assert seeded.after["people"]["count"] == N
    assert verify_chain().ok


@pytest.mark.django_db
def test_seed_demo_without_people(var_dir):
    seed("--people", "0")
    assert Person.objects.count() == 0
    assert Unit.objects.exists()


@pytest.mark.django_db
def test_seed_demo_refuses_a_database_with_people(var_dir):
    Person.objects.create(family_name="Real", given_name="Person")
    with pytest.raises(CommandError, match="1 people"):
        seed("--people", "5")
    assert Unit.objects.count() == 0


@pytest.mark.django_db
def test_seed_demo_refuses_a_negative_count(var_dir):
    with pytest.raises(CommandError, match="negative"):
        seed("--people", "-1")
