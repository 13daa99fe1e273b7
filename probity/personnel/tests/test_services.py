"""Every write to the registry: what it records, what it refuses, and that a refusal
writes nothing at all."""

import unicodedata
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from probity.audit.models import AuditEntry
from probity.audit.selectors import verify_chain
from probity.org.models import Unit
from probity.org.tests.factories import RankFactory
from probity.personnel import rules
from probity.personnel.models import Employment, EmploymentEvent, Person, StatusChange
from probity.personnel.services import (
    employment_change,
    person_create,
    person_update,
    status_record,
)
from probity.personnel.tests.factories import EmploymentFactory, PersonFactory, registrar
from probity.personnel.tests.test_rules import COLUMNS, PLAIN, REINSTATEMENT

pytestmark = pytest.mark.django_db

START = date(2020, 1, 6)
# Khmer has no canonical decompositions; what NFC changes is the order of combining marks
# (ATTHACAN, class 230, typed before COENG, class 9, is put after it), and ``normalise`` also
# drops the zero-width spaces Khmer keyboards insert between words.
KM_NFC = unicodedata.normalize("NFC", "សុខ ស\u17d2\u17ddរី")
KM_TYPED = "សុខ\u200b ស\u17dd\u17d2រី"


@pytest.fixture
def actor(db):
    return registrar()


@pytest.fixture
def ranks(org_tree):
    police = org_tree.police
    return {
        "constable": RankFactory(agency=police, code="CST", name_en="Constable", order=1),
        "sergeant": RankFactory(agency=police, code="SGT", name_en="Sergeant", order=2),
        "prison_guard": RankFactory(agency=org_tree.prisons, code="PG", name_en="Guard", order=1),
    }


@pytest.fixture
def employment(org_tree, actor):
    return EmploymentFactory(actor=actor, unit=org_tree.siem_reap, start_date=START)


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (Person, Employment, EmploymentEvent, StatusChange, AuditEntry)
    }


def _refused(field, call, **kwargs):
    """``call(**kwargs)`` raises a ValidationError on ``field`` and leaves every table as it
    was. Returns the message."""
    before = _counts()
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    assert field in caught.value.message_dict, caught.value.message_dict
    assert _counts() == before
    return caught.value.message_dict[field][0]


def _last_audit(action):
    return AuditEntry.objects.filter(action=action).order_by("-seq").first()


# --- person_create ------------------------------------------------------------------------


def test_person_create_writes_the_person_their_employment_and_its_history(org_tree, actor, ranks):
    before = _counts()
    person = person_create(
        actor=actor,
        family_name="Sok",
        given_name="Dara",
        name_km="សុខ ដារា",
        sex="M",
        date_of_birth=date(1988, 4, 2),
        national_id="010203040",
        service_number=" NP-000123 ",
        unit=org_tree.siem_reap_district,
        rank=ranks["constable"],
        position="  Patrol officer ",
        start_date=START,
    )
    after = _counts()
    assert {k: after[k] - before[k] for k in after} == {
        "Person": 1,
        "Employment": 1,
        "EmploymentEvent": 1,
        "StatusChange": 1,
        "AuditEntry": 1,
    }
    employment = person.employments.get()
    assert employment.agency == org_tree.police
    assert employment.unit == org_tree.siem_reap_district
    assert employment.rank == ranks["constable"]
    assert employment.service_number == "NP-000123"
    assert employment.position == "Patrol officer"
    assert employment.start_date == START
    assert employment.end_date is None

    started = employment.events.get()
    assert started.kind == EmploymentEvent.Kind.STARTED
    assert started.effective_date == START
    assert started.after == {"unit": "NP-SR-01", "rank": "CST", "position": "Patrol officer"}
    assert started.recorded_by == actor

    first = employment.status_changes.get()
    assert first.status == rules.ACTIVE
    assert first.effective_date == START
    assert first.recorded_by == actor
    assert not first.reinstatement

    entry = _last_audit("personnel.person_create")
    assert entry.actor == actor
    assert entry.object_type == "personnel.person" and entry.object_id == str(person.pk)
    assert entry.after["family_name"] == "Sok"
    assert entry.after["service_number"] == "NP-000123"
    assert entry.after["date_of_birth"] == "1988-04-02"
    assert verify_chain().ok


def test_person_create_without_start_date_is_active_from_today(org_tree, actor):
    person = PersonFactory(actor=actor, unit=org_tree.siem_reap, start_date=None)
    employment = person.employments.get()
    today = timezone.localdate()
    assert employment.start_date is None
    assert employment.status_changes.get().effective_date == today
    assert employment.events.get().effective_date == today


def test_duplicate_service_number_in_the_same_agency_is_refused(org_tree, actor):
    PersonFactory(actor=actor, unit=org_tree.phnom_penh, service_number="NP-1")
    message = _refused(
        "service_number",
        person_create,
        actor=actor,
        family_name="Chan",
        given_name="Bopha",
        service_number=" NP-1",
        unit=org_tree.siem_reap,  # another unit of the same agency
    )
    assert "NP-1" in message


def test_the_same_service_number_in_another_agency_is_allowed(org_tree, actor):
    PersonFactory(actor=actor, unit=org_tree.phnom_penh, service_number="0001")
    person = person_create(
        actor=actor,
        family_name="Chan",
        given_name="Bopha",
        service_number="0001",
        unit=org_tree.prisons_root,
    )
    assert person.employments.get().agency == org_tree.prisons
    assert Employment.objects.filter(service_number="0001").count() == 2


def test_a_rank_of_another_agency_is_refused(org_tree, actor, ranks):
    _refused(
        "rank",
        person_create,
        actor=actor,
        family_name="Chan",
        given_name="Bopha",
        service_number="NP-2",
        unit=org_tree.siem_reap,
        rank=ranks["prison_guard"],
    )


def test_a_closed_unit_takes_no_new_people(org_tree, actor):
    Unit.objects.filter(pk=org_tree.siem_reap.pk).update(active=False)
    org_tree.siem_reap.refresh_from_db()
    _refused(
        "unit",
        person_create,
        actor=actor,
        family_name="Chan",
        given_name="Bopha",
        service_number="NP-3",
        unit=org_tree.siem_reap,
    )


def test_a_national_id_already_held_is_refused_on_create(org_tree, actor):
    PersonFactory(actor=actor, unit=org_tree.phnom_penh, national_id="123456789")
    message = _refused(
        "national_id",
        person_create,
        actor=actor,
        family_name="Chan",
        given_name="Bopha",
        national_id=" 123456789 ",
        service_number="NP-4",
        unit=org_tree.siem_reap,
    )
    assert "123456789" in message


def test_blank_national_ids_do_not_collide(org_tree, actor):
    PersonFactory(actor=actor, unit=org_tree.phnom_penh, national_id="")
    PersonFactory(actor=actor, unit=org_tree.phnom_penh, national_id="")
    assert Person.objects.filter(national_id="").count() == 2


def test_required_names_are_refused_when_missing(org_tree, actor):
    _refused(
        "family_name",
        person_create,
        actor=actor,
        family_name="  ",
        given_name="Bopha",
        service_number="NP-5",
        unit=org_tree.siem_reap,
    )


def test_khmer_name_is_stored_in_nfc_and_searchable_in_both_scripts(org_tree, actor):
    assert unicodedata.normalize("NFC", KM_TYPED) != KM_TYPED
    person = person_create(
        actor=actor,
        family_name=" SOK ",
        given_name=unicodedata.normalize("NFD", "Sóphea"),
        name_km=KM_TYPED.replace(" ", "   "),
        service_number="NP-6",
        unit=org_tree.siem_reap,
    )
    person.refresh_from_db()
    assert person.name_km == KM_NFC
    assert unicodedata.is_normalized("NFC", person.name_km)
    assert person.family_name == "SOK" and person.given_name == "Sóphea"
    assert unicodedata.is_normalized("NFC", person.given_name)
    assert person.search_text == f"sok sóphea {KM_NFC}"


# --- person_update ------------------------------------------------------------------------


def test_person_update_records_only_the_changed_fields(employment, actor):
    person = employment.person
    person_update(
        actor=actor,
        person=person,
        given_name="Vichea",
        family_name=person.family_name,  # unchanged: not in the event
        date_of_birth=date(1990, 2, 3),
    )
    person.refresh_from_db()
    assert person.given_name == "Vichea"
    assert "vichea" in person.search_text
    event = employment.events.get(kind=EmploymentEvent.Kind.DETAILS)
    assert set(event.before) == set(event.after) == {"given_name", "date_of_birth"}
    assert event.after == {"given_name": "Vichea", "date_of_birth": "1990-02-03"}
    assert event.effective_date == timezone.localdate()
    entry = _last_audit("personnel.person_update")
    assert entry.before["given_name"] != "Vichea" and entry.after["given_name"] == "Vichea"
    assert entry.actor == actor


def test_person_update_with_nothing_new_writes_nothing(employment, actor):
    person = employment.person
    before = _counts()
    person_update(
        actor=actor,
        person=person,
        family_name=f"  {person.family_name} ",  # normalises to the same value
        name_km=person.name_km.replace(" ", "\u200b  "),  # zero-width space, extra space
        sex=person.sex,
    )
    person_update(actor=actor, person=person)
    assert _counts() == before


def test_person_update_refuses_another_persons_national_id(org_tree, employment, actor):
    other = PersonFactory(actor=actor, unit=org_tree.phnom_penh, national_id="999999999")
    _refused(
        "national_id",
        person_update,
        actor=actor,
        person=employment.person,
        national_id="999999999",
    )
    # Keeping one's own ID is not a clash.
    person_update(actor=actor, person=other, national_id="999999999", given_name="Kosal")
    other.refresh_from_db()
    assert other.given_name == "Kosal"


def test_person_update_refuses_fields_it_does_not_own(employment, actor):
    before = _counts()
    with pytest.raises(ValidationError):
        person_update(actor=actor, person=employment.person, service_number="X")
    assert _counts() == before


# --- employment_change --------------------------------------------------------------------


def test_transfer_within_the_agency(org_tree, employment, actor):
    day = START + timedelta(days=400)
    employment_change(
        actor=actor,
        employment=employment,
        effective_date=day,
        unit=org_tree.siem_reap_district,
        reference="Order 12/2021",
    )
    employment.refresh_from_db()
    assert employment.unit == org_tree.siem_reap_district
    event = employment.events.get(kind=EmploymentEvent.Kind.TRANSFER)
    assert event.before == {"unit": "NP-SR"} and event.after == {"unit": "NP-SR-01"}
    assert event.effective_date == day and event.reference == "Order 12/2021"
    entry = _last_audit("personnel.employment_change")
    assert entry.before["unit_id"] == org_tree.siem_reap.pk
    assert entry.after["unit_id"] == org_tree.siem_reap_district.pk
    assert verify_chain().ok


def test_transfer_to_another_agencys_unit_is_refused(org_tree, employment, actor):
    _refused(
        "unit",
        employment_change,
        actor=actor,
        employment=employment,
        effective_date=START + timedelta(days=1),
        unit=org_tree.prisons_root,
    )
    employment.refresh_from_db()
    assert employment.unit == org_tree.siem_reap


def test_transfer_to_a_closed_unit_is_refused(org_tree, employment, actor):
    Unit.objects.filter(pk=org_tree.phnom_penh.pk).update(active=False)
    org_tree.phnom_penh.refresh_from_db()
    _refused(
        "unit",
        employment_change,
        actor=actor,
        employment=employment,
        effective_date=START + timedelta(days=1),
        unit=org_tree.phnom_penh,
    )


def test_rank_changes_keep_their_history(employment, actor, ranks):
    employment_change(
        actor=actor,
        employment=employment,
        effective_date=START + timedelta(days=10),
        rank=ranks["constable"],
    )
    employment_change(
        actor=actor,
        employment=employment,
        effective_date=START + timedelta(days=20),
        rank=ranks["sergeant"],
    )
    employment.refresh_from_db()
    assert employment.rank == ranks["sergeant"]
    events = list(employment.events.filter(kind=EmploymentEvent.Kind.RANK))
    assert [(e.before, e.after) for e in events] == [
        ({"rank": ""}, {"rank": "CST"}),
        ({"rank": "CST"}, {"rank": "SGT"}),
    ]


def test_a_rank_of_another_agency_is_refused_on_change(employment, actor, ranks):
    _refused(
        "rank",
        employment_change,
        actor=actor,
        employment=employment,
        effective_date=START + timedelta(days=1),
        rank=ranks["prison_guard"],
    )


def test_position_change_and_several_changes_at_once(org_tree, employment, actor, ranks):
    day = START + timedelta(days=30)
    employment_change(
        actor=actor,
        employment=employment,
        effective_date=day,
        unit=org_tree.siem_reap_district,
        rank=ranks["sergeant"],
        position=" Deputy chief ",
    )
    employment.refresh_from_db()
    assert employment.position == "Deputy chief"
    kinds = set(employment.events.filter(effective_date=day).values_list("kind", flat=True))
    assert kinds == {"transfer", "rank", "position"}
    position = employment.events.get(kind=EmploymentEvent.Kind.POSITION)
    assert position.before == {"position": ""} and position.after == {"position": "Deputy chief"}
    assert AuditEntry.objects.filter(action="personnel.employment_change").count() == 1


def test_a_change_to_the_same_values_writes_nothing(employment, actor):
    before = _counts()
    employment_change(
        actor=actor,
        employment=employment,
        effective_date=START + timedelta(days=1),
        unit=employment.unit,
        position="  ",
    )
    assert _counts() == before


def test_a_change_before_the_last_event_is_refused(org_tree, employment, actor):
    _refused(
        "effective_date",
        employment_change,
        actor=actor,
        employment=employment,
        effective_date=START - timedelta(days=1),
        unit=org_tree.siem_reap_district,
    )
    transfer_day = START + timedelta(days=100)
    employment_change(
        actor=actor,
        employment=employment,
        effective_date=transfer_day,
        unit=org_tree.siem_reap_district,
    )
    _refused(
        "effective_date",
        employment_change,
        actor=actor,
        employment=employment,
        effective_date=transfer_day - timedelta(days=1),
        unit=org_tree.siem_reap,
    )
    # The same day is allowed.
    employment_change(
        actor=actor, employment=employment, effective_date=transfer_day, position="Clerk"
    )


def test_a_details_correction_does_not_block_a_backdated_transfer(org_tree, employment, actor):
    person_update(actor=actor, person=employment.person, given_name="Rithy")  # dated today
    employment_change(
        actor=actor,
        employment=employment,
        effective_date=START + timedelta(days=5),
        unit=org_tree.siem_reap_district,
    )
    employment.refresh_from_db()
    assert employment.unit == org_tree.siem_reap_district


def test_no_transfer_after_separation(org_tree, employment, actor):
    dismissal = START + timedelta(days=200)
    status_record(
        actor=actor,
        employment=employment,
        status=rules.DISMISSED,
        effective_date=dismissal,
        reason="Positive test confirmed",
    )
    message = _refused(
        "effective_date",
        employment_change,
        actor=actor,
        employment=employment,
        effective_date=dismissal,
        unit=org_tree.siem_reap_district,
    )
    assert message == "A dismissed person is no longer in service."
    # A transfer that took effect while they still served can be recorded late.
    employment_change(
        actor=actor,
        employment=employment,
        effective_date=dismissal - timedelta(days=1),
        unit=org_tree.siem_reap_district,
    )


# --- status_record ------------------------------------------------------------------------


def _record(employment, actor, status, day, **kwargs):
    kwargs.setdefault("reason", "Order of the commissioner")
    return status_record(
        actor=actor, employment=employment, status=status, effective_date=day, **kwargs
    )


def _status(employment):
    latest = employment.status_changes.order_by("-effective_date", "-id").first()
    return latest.status


@pytest.mark.parametrize("current", [s for s in rules.STATUSES if s != rules.ACTIVE])
def test_the_service_follows_the_transition_table(org_tree, actor, current):
    """Every cell of the rules' table (from a status the service can reach), end to end."""
    for reinstatement, table in ((False, PLAIN), (True, REINSTATEMENT)):
        for new, mark in zip(COLUMNS, table[current].split(), strict=True):
            employment = EmploymentFactory(actor=actor, unit=org_tree.siem_reap, start_date=START)
            _record(employment, actor, current, START + timedelta(days=1))
            day = START + timedelta(days=2)
            if mark == "Y":
                _record(employment, actor, new, day, reinstatement=reinstatement)
                assert _status(employment) == new
            else:
                _refused(
                    "status",
                    _record,
                    employment=employment,
                    actor=actor,
                    status=new,
                    day=day,
                    reinstatement=reinstatement,
                )


@pytest.mark.parametrize("new", rules.STATUSES)
@pytest.mark.parametrize("reinstatement", [False, True])
def test_the_service_follows_the_table_from_active(employment, actor, new, reinstatement):
    allowed = (REINSTATEMENT if reinstatement else PLAIN)[rules.ACTIVE].split()
    day = START + timedelta(days=1)
    if allowed[COLUMNS.index(new)] == "Y":
        _record(employment, actor, new, day, reinstatement=reinstatement)
        assert _status(employment) == new
    else:
        _refused(
            "status",
            _record,
            employment=employment,
            actor=actor,
            status=new,
            day=day,
            reinstatement=reinstatement,
        )


def test_a_dismissed_person_returns_only_by_reinstatement(employment, actor):
    dismissed_on = START + timedelta(days=100)
    _record(employment, actor, rules.DISMISSED, dismissed_on, reference="Order 7/2020")
    employment.refresh_from_db()
    assert employment.end_date == dismissed_on
    message = _refused(
        "status",
        _record,
        employment=employment,
        actor=actor,
        status=rules.ACTIVE,
        day=dismissed_on + timedelta(days=30),
    )
    assert message == "A dismissed person becomes active again only by a recorded reinstatement."

    back_on = dismissed_on + timedelta(days=60)
    change = _record(
        employment,
        actor,
        rules.ACTIVE,
        back_on,
        reinstatement=True,
        reason="Appeal upheld: split specimen did not reconfirm",
        reference="Appeal 3/2020",
    )
    assert change.reinstatement and change.status == rules.ACTIVE
    employment.refresh_from_db()
    assert employment.end_date is None
    assert _status(employment) == rules.ACTIVE
    entry = _last_audit("personnel.status_record")
    assert entry.before == {"status": rules.DISMISSED}
    assert entry.after == {
        "status": rules.ACTIVE,
        "effective_date": back_on.isoformat(),
        "reason": "Appeal upheld: split specimen did not reconfirm",
        "reference": "Appeal 3/2020",
        "reinstatement": True,
    }
    assert verify_chain().ok


def test_a_reinstatement_needs_a_reason(employment, actor):
    _record(employment, actor, rules.RESIGNED, START + timedelta(days=1))
    _refused(
        "reason",
        _record,
        employment=employment,
        actor=actor,
        status=rules.ACTIVE,
        day=START + timedelta(days=2),
        reinstatement=True,
        reason=" ",
    )


def test_a_reinstatement_of_someone_in_service_is_refused(employment, actor):
    message = _refused(
        "status",
        _record,
        employment=employment,
        actor=actor,
        status=rules.ACTIVE,
        day=START + timedelta(days=1),
        reinstatement=True,
    )
    assert message == "Only a dismissed, resigned or retired person can be reinstated."


def test_deceased_is_final(employment, actor):
    died = START + timedelta(days=10)
    _record(employment, actor, rules.DECEASED, died, reason="Death certificate 44")
    employment.refresh_from_db()
    assert employment.end_date == died
    for status in rules.STATUSES:
        for reinstatement in (False, True):
            _refused(
                "status",
                _record,
                employment=employment,
                actor=actor,
                status=status,
                day=died + timedelta(days=1),
                reinstatement=reinstatement,
            )


@pytest.mark.parametrize("status", [s for s in rules.STATUSES if s != rules.ACTIVE])
@pytest.mark.parametrize("reason", ["", "   \n"])
def test_a_reason_is_required_for_every_status_but_active(employment, actor, status, reason):
    _refused(
        "reason",
        _record,
        employment=employment,
        actor=actor,
        status=status,
        day=START + timedelta(days=1),
        reason=reason,
    )


def test_active_again_after_a_suspension_needs_no_reason(employment, actor):
    _record(employment, actor, rules.SUSPENDED, START + timedelta(days=1))
    change = _record(employment, actor, rules.ACTIVE, START + timedelta(days=40), reason="")
    assert change.reason == ""
    assert _status(employment) == rules.ACTIVE


@pytest.mark.parametrize("status", sorted(rules.SEPARATED | rules.FINAL))
def test_separation_sets_the_end_date(employment, actor, status):
    day = START + timedelta(days=3)
    _record(employment, actor, status, day)
    employment.refresh_from_db()
    assert employment.end_date == day


@pytest.mark.parametrize("status", sorted(rules.IN_SERVICE - {rules.ACTIVE}))
def test_in_service_statuses_leave_the_end_date_alone(employment, actor, status):
    _record(employment, actor, status, START + timedelta(days=3))
    employment.refresh_from_db()
    assert employment.end_date is None


def test_a_later_dismissal_keeps_the_first_end_date(employment, actor):
    resigned = START + timedelta(days=3)
    _record(employment, actor, rules.RESIGNED, resigned)
    _record(employment, actor, rules.DISMISSED, resigned + timedelta(days=30))
    employment.refresh_from_db()
    assert employment.end_date == resigned
    assert _status(employment) == rules.DISMISSED


def test_status_changes_are_audited(employment, actor):
    day = START + timedelta(days=3)
    _record(employment, actor, rules.SUSPENDED, day, reason="  Under investigation ")
    entry = _last_audit("personnel.status_record")
    assert entry.object_type == "personnel.employment"
    assert entry.object_id == str(employment.pk)
    assert entry.actor == actor
    assert entry.before == {"status": rules.ACTIVE}
    assert entry.after == {
        "status": rules.SUSPENDED,
        "effective_date": day.isoformat(),
        "reason": "Under investigation",
        "reference": "",
        "reinstatement": False,
    }
    change = employment.status_changes.get(status=rules.SUSPENDED)
    assert change.reason == "Under investigation" and change.recorded_by == actor


def test_a_status_before_the_last_one_is_refused(employment, actor):
    day = START + timedelta(days=50)
    _record(employment, actor, rules.SUSPENDED, day)
    _refused(
        "effective_date",
        _record,
        employment=employment,
        actor=actor,
        status=rules.DISMISSED,
        day=day - timedelta(days=1),
    )
    # Same day: allowed, and recorded later it is the one in force.
    _record(employment, actor, rules.DISMISSED, day)
    assert _status(employment) == rules.DISMISSED


def test_a_future_dismissal_blocks_anything_dated_before_it(employment, actor):
    future = timezone.localdate() + timedelta(days=30)
    _record(employment, actor, rules.DISMISSED, future)
    _refused(
        "effective_date",
        _record,
        employment=employment,
        actor=actor,
        status=rules.SUSPENDED,
        day=timezone.localdate(),
    )


def test_an_unknown_status_is_refused(employment, actor):
    _refused(
        "status",
        _record,
        employment=employment,
        actor=actor,
        status="promoted",
        day=START + timedelta(days=1),
    )
