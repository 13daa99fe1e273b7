"""The collectors' and laboratories' pages: sessions, collection, refusal, specimen search,
the custody timeline and custody events. Each both ways: the team's collector may, another
team's collector, another jurisdiction's and a commander may not; a laboratory analyst sees
a specimen only once it reached their laboratory, and never who the donor is."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from probity.accounts.models import User
from probity.accounts.services import assignment_grant
from probity.audit.models import AccessLogEntry
from probity.org.services import laboratory_create
from probity.testing import services
from probity.testing.models import (
    Collection,
    CollectionSession,
    CustodyEvent,
    SessionEntry,
)
from probity.testing.tests.factories import (
    make_campaign,
    make_collection,
    make_draw,
    make_session,
    people,
    urine,
)
from probity.testing_support import PASSWORD

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"testing:{name}", args=args)


def collector_over(unit, username):
    user = User.objects.create_user(username=username, password=PASSWORD)
    assignment_grant(actor=None, user=user, role="collector", unit=unit)
    return user


@pytest.fixture
def scene(org_tree, cast):
    """A Phnom Penh session of ``cast.collector`` with three people on its list, a second
    collector over the whole force who is not on the team, and two laboratories."""
    session = make_session(actor=cast.collector, unit=org_tree.phnom_penh, site="PP station 3")
    dara, sophea, vichea = people(org_tree.phnom_penh, 3)
    services.session_add_people(
        actor=cast.collector, session=session, employments=[dara, sophea, vichea], reason="census"
    )
    entries = {e.employment_id: e for e in session.entries.all()}
    lab = laboratory_create(actor=None, code="LAB1", name_en="National Laboratory")
    other_lab = laboratory_create(actor=None, code="LAB2", name_en="Provincial Laboratory")
    services.lab_staff_add(actor=cast.administrator, user=cast.lab_analyst, laboratory=lab)
    other_analyst = User.objects.create_user(username="analyst_lab2", password=PASSWORD)
    assignment_grant(actor=None, user=other_analyst, role="lab_analyst", unit=org_tree.np_root)
    services.lab_staff_add(actor=cast.administrator, user=other_analyst, laboratory=other_lab)
    return SimpleNamespace(
        session=session,
        dara=dara,
        sophea=sophea,
        vichea=vichea,
        entry=lambda employment: entries[employment.pk],
        lab=lab,
        other_lab=other_lab,
        other_analyst=other_analyst,
        other_collector=collector_over(org_tree.np_root, "collector_b"),
    )


def collect_data(**changes):
    data = {
        "identity_checked": "on",
        "identity_method": "id_card",
        "specimen_type": str(urine().pk),
        "temperature_c": "34.5",
        "temperature_in_range": "",
        "split": "on",
        "volume_a_ml": "40",
        "volume_b_ml": "20",
        "seal_a": "SA-000101",
        "seal_b": "SB-000102",
        "observed": "",
        "screen_result": "",
        "donor_confirmed": "on",
        "collector_confirmed": "on",
        "remarks": "",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def errors_of(response) -> dict[str, list[str]]:
    form = response.context["form"]
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


def hand_over(collector, collection, lab):
    return services.custody_record(
        actor=collector,
        bottle=collection.bottles.get(label="A"),
        event="handed_over",
        at=timezone.now() - timedelta(minutes=50),
        laboratory=lab,
        counter_signer_name="Courier Chea",
        seal_intact=True,
    )


# --- who may reach what --------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(client, scene):
    response = client.get(url("sessions"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_commanders_reach_none_of_it(client, scene, cast):
    collection = make_collection(
        actor=cast.collector, employment=scene.dara, session=scene.session, reason="census"
    )
    client.force_login(cast.commander)
    entry = scene.entry(scene.sophea)
    for target in [
        url("sessions"),
        url("session_add"),
        url("session", scene.session.pk),
        url("session_add_draw", scene.session.pk),
        url("session_add_people", scene.session.pk),
        url("collect", scene.session.pk, entry.pk),
        url("refuse", scene.session.pk, entry.pk),
        url("specimens"),
        url("specimen", collection.specimen_id),
        url("custody_add", collection.specimen_id),
        url("labels_pdf", collection.specimen_id),
        url("custody_form_pdf", collection.specimen_id),
    ]:
        assert client.get(target).status_code == 403, target
    assert client.post(url("session_state", scene.session.pk), {"state": "open"}).status_code == 403
    response = client.get("/")
    assert url("sessions") not in response.content.decode()


def test_navigation_shows_the_collection_pages_by_role(client, scene, cast):
    client.force_login(cast.collector)
    body = client.get("/").content.decode()
    assert url("sessions") in body and url("specimens") in body
    client.force_login(cast.lab_analyst)
    body = client.get("/").content.decode()
    assert url("specimens") in body and url("sessions") not in body


# --- sessions -------------------------------------------------------------------------------


def test_session_list_puts_mine_first_and_keeps_to_the_jurisdiction(
    client, scene, cast, siem_reap_cast, org_tree
):
    sr_session = make_session(actor=siem_reap_cast.collector, unit=org_tree.siem_reap)
    client.force_login(cast.collector)
    response = client.get(url("sessions"))
    assert response.status_code == 200
    assert [s.pk for s in response.context["mine"]] == [scene.session.pk]
    assert [s.pk for s in response.context["page"].object_list] == [sr_session.pk]

    client.force_login(siem_reap_cast.collector)
    response = client.get(url("sessions"))
    assert [s.pk for s in response.context["mine"]] == [sr_session.pk]
    assert list(response.context["page"].object_list) == []
    assert "PP station 3" not in response.content.decode()


def test_session_page_is_the_collectors_worklist(client, scene, cast):
    client.force_login(cast.collector)
    response = client.get(url("session", scene.session.pk))
    assert response.status_code == 200
    body = response.content.decode()
    for person in (scene.dara, scene.sophea, scene.vichea):
        assert person.service_number in body
        entry = scene.entry(person)
        assert url("collect", scene.session.pk, entry.pk) in body
        assert url("refuse", scene.session.pk, entry.pk) in body
    assert "3 waiting, 0 recorded" in body


def test_another_teams_collector_sees_the_session_but_cannot_collect(client, scene, cast):
    collection = make_collection(
        actor=cast.collector, employment=scene.dara, session=scene.session, reason="census"
    )
    client.force_login(scene.other_collector)
    response = client.get(url("session", scene.session.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert url("collect", scene.session.pk, scene.entry(scene.sophea).pk) not in body
    assert collection.specimen_id not in body  # another team's specimen stays hidden
    entry = scene.entry(scene.sophea)
    assert client.get(url("collect", scene.session.pk, entry.pk)).status_code == 403
    assert (
        client.post(url("collect", scene.session.pk, entry.pk), collect_data()).status_code == 403
    )
    assert client.get(url("refuse", scene.session.pk, entry.pk)).status_code == 403
    assert client.get(url("specimen", collection.specimen_id)).status_code == 404
    assert Collection.objects.count() == 1


def test_another_jurisdiction_cannot_see_the_session(client, scene, siem_reap_cast):
    client.force_login(siem_reap_cast.collector)
    entry = scene.entry(scene.dara)
    for target in [
        url("session", scene.session.pk),
        url("session_add_people", scene.session.pk),
        url("collect", scene.session.pk, entry.pk),
        url("refuse", scene.session.pk, entry.pk),
    ]:
        assert client.get(target).status_code == 404, target
    response = client.post(url("collect", scene.session.pk, entry.pk), collect_data())
    assert response.status_code == 404
    assert not Collection.objects.exists()


def test_create_a_session_with_a_mixed_team(client, scene, cast, org_tree):
    client.force_login(cast.collector)
    assert client.get(url("session_add")).status_code == 200
    response = client.post(
        url("session_add"),
        {
            "campaign": "",
            "unit": org_tree.siem_reap_district.code,
            "site": "  District inspectorate yard ",
            "date": timezone.localdate().isoformat(),
            "team": [cast.collector.pk, scene.other_collector.pk],
            "notes": "",
        },
    )
    session = CollectionSession.objects.latest("id")
    assert response.status_code == 302
    assert response["Location"] == url("session", session.pk)
    assert session.site == "District inspectorate yard"
    assert session.unit == org_tree.siem_reap_district
    assert set(session.team.all()) == {cast.collector, scene.other_collector}


def test_a_session_only_in_the_collectors_units_and_active_campaigns(
    client, scene, siem_reap_cast, org_tree
):
    draft = make_campaign(unit=org_tree.siem_reap, start=False, code="DRAFT-1")
    client.force_login(siem_reap_cast.collector)
    response = client.post(
        url("session_add"),
        {
            "campaign": draft.pk,
            "unit": org_tree.phnom_penh.code,
            "site": "",
            "date": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 200
    errors = errors_of(response)
    assert set(errors) == {"campaign", "unit", "site"}
    assert CollectionSession.objects.count() == 1


def test_add_people_by_service_number(client, scene, cast, org_tree):
    extra = people(org_tree.phnom_penh, 1)[0]
    elsewhere = people(org_tree.siem_reap, 1)[0]
    client.force_login(cast.collector)
    target = url("session_add_people", scene.session.pk)
    response = client.post(
        target,
        {
            "service_numbers": f"{extra.service_number}, {elsewhere.service_number} NOPE-1",
            "reason": "reasonable_suspicion",
        },
    )
    assert response.status_code == 200
    (message,) = errors_of(response)["service_numbers"]
    assert elsewhere.service_number in message and "NOPE-1" in message
    assert extra.service_number not in message
    assert scene.session.entries.count() == 3

    response = client.post(
        target, {"service_numbers": f"{extra.service_number}\n", "reason": "reasonable_suspicion"}
    )
    assert response.status_code == 302
    entry = SessionEntry.objects.get(session=scene.session, employment=extra)
    assert entry.reason == "reasonable_suspicion"


def test_put_a_draws_people_on_the_list(client, cast, org_tree):
    campaign = make_campaign(unit=org_tree.np_root, rate_percent=50)
    people(org_tree.phnom_penh, 6)
    draw = make_draw(campaign=campaign)
    session = make_session(actor=cast.collector, unit=org_tree.phnom_penh, campaign=campaign)
    client.force_login(cast.collector)
    page = client.get(url("session_add_draw", session.pk)).content.decode()
    assert f"Draw {draw.number} of" in page
    response = client.post(url("session_add_draw", session.pk), {"draw": draw.pk})
    assert response.status_code == 302
    to_test = [s for s in draw.selections.all() if s.to_test]
    assert session.entries.count() == len(to_test) > 0
    assert set(session.entries.values_list("reason", flat=True)) == {"random"}


def test_open_and_close_a_session(client, scene, cast):
    client.force_login(cast.collector)
    target = url("session_state", scene.session.pk)
    assert client.post(target, {"state": "closed"}).status_code == 302
    scene.session.refresh_from_db()
    assert scene.session.state == "planned"  # planned -> closed is not offered
    client.post(target, {"state": "open"})
    scene.session.refresh_from_db()
    assert scene.session.state == "open"
    client.post(target, {"state": "closed"})
    scene.session.refresh_from_db()
    assert scene.session.state == "closed"
    entry = scene.entry(scene.dara)
    response = client.get(url("collect", scene.session.pk, entry.pk))
    assert response.status_code == 302
    response = client.post(url("collect", scene.session.pk, entry.pk), collect_data())
    assert not Collection.objects.exists()
    page = client.get(url("session", scene.session.pk)).content.decode()
    assert url("collect", scene.session.pk, entry.pk) not in page


# --- collection -----------------------------------------------------------------------------


def test_collect_shows_the_new_specimen_id_and_fills_the_worklist(client, scene, cast):
    client.force_login(cast.collector)
    entry = scene.entry(scene.sophea)
    form_page = client.get(url("collect", scene.session.pk, entry.pk))
    assert form_page.status_code == 200
    assert scene.sophea.service_number in form_page.content.decode()
    response = client.post(
        url("collect", scene.session.pk, entry.pk), collect_data(observed="on"), follow=True
    )
    collection = Collection.objects.get()
    assert response.redirect_chain[-1][0] == url("specimen", collection.specimen_id) + (
        "?collected=1"
    )
    body = response.content.decode()
    assert re.search(rf'id="specimen-id">\s*{collection.specimen_id}\s*<', body)
    assert url("labels_pdf", collection.specimen_id) in body
    assert url("custody_form_pdf", collection.specimen_id) in body
    assert collection.employment == scene.sophea
    assert collection.session == scene.session
    assert collection.collected_by == cast.collector
    assert collection.observed and collection.split and collection.temperature_in_range
    assert [(b.label, b.seal_number, b.volume_ml) for b in collection.bottles.all()] == [
        ("A", "SA-000101", 40),
        ("B", "SB-000102", 20),
    ]

    page = client.get(url("session", scene.session.pk)).content.decode()
    assert collection.specimen_id in page
    assert url("collect", scene.session.pk, entry.pk) not in page
    assert "2 waiting, 1 recorded" in page
    # a second submission (a double tap) records nothing more
    client.post(url("collect", scene.session.pk, entry.pk), collect_data())
    assert Collection.objects.count() == 1


def test_missing_confirmations_are_shown_on_their_fields(client, scene, cast):
    client.force_login(cast.collector)
    entry = scene.entry(scene.dara)
    response = client.post(
        url("collect", scene.session.pk, entry.pk),
        collect_data(identity_checked=None, donor_confirmed=None, collector_confirmed=None),
    )
    assert response.status_code == 200
    errors = errors_of(response)
    assert set(errors) == {"identity_checked", "donor_confirmed", "collector_confirmed"}
    assert "record a refusal" in errors["donor_confirmed"][0]
    assert "Nothing was saved" in response.content.decode()
    assert not Collection.objects.exists()


def test_too_little_specimen_is_refused(client, scene, cast):
    client.force_login(cast.collector)
    entry = scene.entry(scene.dara)
    response = client.post(
        url("collect", scene.session.pk, entry.pk), collect_data(volume_a_ml="25", volume_b_ml="10")
    )
    assert response.status_code == 200
    (message,) = errors_of(response)["volume_a_ml"]
    assert "35 mL is less than the 45 mL needed" in message
    assert not Collection.objects.exists()


def test_required_collection_details(client, scene, cast):
    client.force_login(cast.collector)
    entry = scene.entry(scene.dara)
    response = client.post(
        url("collect", scene.session.pk, entry.pk),
        collect_data(identity_method="", temperature_c="", volume_a_ml="", seal_a="", seal_b="  "),
    )
    errors = errors_of(response)
    assert set(errors) == {"identity_method", "temperature_c", "volume_a_ml", "seal_a", "seal_b"}
    assert not Collection.objects.exists()


def test_temperature_that_contradicts_the_reading_is_refused(client, scene, cast):
    client.force_login(cast.collector)
    entry = scene.entry(scene.dara)
    target = url("collect", scene.session.pk, entry.pk)
    response = client.post(target, collect_data(temperature_c="34.5", temperature_in_range="no"))
    assert errors_of(response) == {
        "temperature_in_range": ["This contradicts the temperature measured."]
    }
    response = client.post(target, collect_data(temperature_c="39.5", temperature_in_range="yes"))
    assert "temperature_in_range" in errors_of(response)
    assert not Collection.objects.exists()
    # out of range and said so: recorded as out of range
    assert client.post(target, collect_data(temperature_c="39.5")).status_code == 302
    assert Collection.objects.get().temperature_in_range is False


def test_refusal_needs_remarks_and_is_recorded(client, scene, cast):
    client.force_login(cast.collector)
    entry = scene.entry(scene.vichea)
    target = url("refuse", scene.session.pk, entry.pk)
    page = client.get(target).content.decode()
    for value, _label in Collection.Refusal.choices:
        assert f'value="{value}"' in page
    response = client.post(target, {"refusal_reason": "left_early", "remarks": "   "})
    assert set(errors_of(response)) == {"remarks"}
    response = client.post(target, {"refusal_reason": "", "remarks": "Left at 09:10"})
    assert set(errors_of(response)) == {"refusal_reason"}
    assert not Collection.objects.exists()

    response = client.post(
        target, {"refusal_reason": "left_early", "remarks": "Left at 09:10, seen by Sgt Kim"}
    )
    assert response.status_code == 302
    assert response["Location"] == url("session", scene.session.pk)
    refusal = Collection.objects.get()
    assert refusal.state == Collection.State.REFUSED
    assert refusal.refusal_reason == "left_early"
    assert refusal.employment == scene.vichea
    page = client.get(url("session", scene.session.pk)).content.decode()
    assert "Refused at collection" in page
    assert url("collect", scene.session.pk, entry.pk) not in page
    assert client.get(url("collect", scene.session.pk, entry.pk)).status_code == 302


# --- specimens and custody -----------------------------------------------------------------


def test_search_by_typed_or_scanned_id(client, scene, cast, siem_reap_cast):
    collection = make_collection(
        actor=cast.collector, employment=scene.dara, session=scene.session, reason="census"
    )
    client.force_login(cast.collector)
    sloppy = collection.specimen_id.replace("-", "").lower()
    response = client.get(url("specimens"), {"q": sloppy})
    assert response.status_code == 302
    assert response["Location"] == url("specimen", collection.specimen_id)
    response = client.get(url("specimens"), {"q": collection.specimen_id[3:7]})
    assert [c.pk for c in response.context["page"].object_list] == [collection.pk]

    client.force_login(siem_reap_cast.collector)
    response = client.get(url("specimens"), {"q": collection.specimen_id})
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []
    assert client.get(url("specimen", collection.specimen_id)).status_code == 404


def test_specimen_page_shows_the_donor_to_the_collector_and_logs_it(client, scene, cast):
    collection = make_collection(
        actor=cast.collector, employment=scene.dara, session=scene.session, reason="census"
    )
    client.force_login(cast.collector)
    response = client.get(url("specimen", collection.specimen_id.lower()))
    assert response.status_code == 302  # to the canonical ID
    response = client.get(url("specimen", collection.specimen_id))
    body = response.content.decode()
    assert scene.dara.service_number in body
    assert scene.dara.person.family_name in body
    assert body.count("Sealed") == 2  # both bottles
    assert AccessLogEntry.objects.filter(
        user=cast.collector, object_type="testing.collection", object_id=str(collection.pk)
    ).exists()


def test_laboratory_sees_a_specimen_only_once_it_reached_them_and_never_the_donor(
    client, scene, cast
):
    collection = make_collection(
        actor=cast.collector, employment=scene.dara, session=scene.session, reason="census"
    )
    client.force_login(cast.lab_analyst)
    assert client.get(url("specimen", collection.specimen_id)).status_code == 404
    assert client.get(url("custody_add", collection.specimen_id)).status_code == 404

    hand_over(cast.collector, collection, scene.lab)
    response = client.get(url("specimen", collection.specimen_id))
    assert response.status_code == 200
    body = response.content.decode()
    person = scene.dara.person
    assert collection.specimen_id in body
    assert scene.dara.service_number not in body
    assert person.full_name not in body
    for word in person.name_km.split():  # with or without the word breaks
        assert word not in body.replace("\u200b", "")
    assert "PP station 3" not in body.split("Chain of custody")[0]  # no session link
    assert "Courier Chea" in body
    assert not AccessLogEntry.objects.filter(user=cast.lab_analyst).exists()

    client.force_login(scene.other_analyst)  # the other laboratory's staff
    assert client.get(url("specimen", collection.specimen_id)).status_code == 404
    response = client.get(url("specimens"), {"q": collection.specimen_id})
    assert list(response.context["page"].object_list) == []


def receipt(**changes):
    data = {
        "bottle": "",
        "event": "received",
        "at": (timezone.localtime() - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"),
        "laboratory": "",
        "seal_intact": "yes",
        "specimen_id_on_bottle": "",
        "volume_ml": "38",
        "counter_signer": "",
        "counter_signer_name": "Courier Chea",
        "location": "Reception desk",
        "remarks": "",
    }
    data.update(changes)
    return data


def test_laboratory_records_receipt_at_its_own_laboratory_only(client, scene, cast):
    collection = make_collection(
        actor=cast.collector, employment=scene.dara, session=scene.session, reason="census"
    )
    hand_over(cast.collector, collection, scene.lab)
    bottle = collection.bottles.get(label="A")
    client.force_login(cast.lab_analyst)
    target = url("custody_add", collection.specimen_id)
    form = client.get(target).context["form"]
    assert [value for value, _ in form.fields["event"].choices] == [
        "handed_over",
        "received",
        "aliquoted",
        "stored",
        "disposed",
    ]
    assert list(form.fields["laboratory"].queryset) == [scene.lab]

    response = client.post(target, receipt(bottle=bottle.pk, laboratory=scene.other_lab.pk))
    assert "laboratory" in errors_of(response)
    response = client.post(
        target,
        receipt(
            bottle=bottle.pk,
            laboratory=scene.lab.pk,
            specimen_id_on_bottle=collection.specimen_id.replace("-", " ").lower(),
        ),
    )
    assert response.status_code == 302
    event = CustodyEvent.objects.get(event="received")
    assert event.actor == cast.lab_analyst and event.laboratory == scene.lab
    assert event.id_matches is True and event.seal_intact is True and not event.flaw
    collection.refresh_from_db()
    assert collection.state == Collection.State.COLLECTED
    body = client.get(url("specimen", collection.specimen_id)).content.decode()
    assert "Received at the laboratory" in body and "Reception desk" in body


def test_broken_seal_on_receipt_rejects_the_specimen_and_says_why(client, scene, cast):
    collection = make_collection(
        actor=cast.collector, employment=scene.dara, session=scene.session, reason="census"
    )
    hand_over(cast.collector, collection, scene.lab)
    client.force_login(cast.lab_analyst)
    response = client.post(
        url("custody_add", collection.specimen_id),
        receipt(
            bottle=collection.bottles.get(label="A").pk,
            laboratory=scene.lab.pk,
            seal_intact="no",
        ),
        follow=True,
    )
    collection.refresh_from_db()
    assert collection.state == Collection.State.REJECTED
    assert collection.rejection_reason == "seal_broken"
    body = response.content.decode()
    assert "This specimen is rejected" in body
    assert "Fatal flaw:" in body and "Seal broken" in body
    assert "The specimen is rejected: Seal broken." in body  # the message after the form

    # the collector sees it on the worklist too, and may collect again
    client.force_login(cast.collector)
    page = client.get(url("session", scene.session.pk)).content.decode()
    assert "Rejected: fatal flaw" in page and "Seal broken" in page
    assert url("collect", scene.session.pk, scene.entry(scene.dara).pk) in page


def test_a_different_id_on_the_bottle_rejects_the_specimen(client, scene, cast):
    collection = make_collection(
        actor=cast.collector, employment=scene.dara, session=scene.session, reason="census"
    )
    hand_over(cast.collector, collection, scene.lab)
    client.force_login(cast.lab_analyst)
    client.post(
        url("custody_add", collection.specimen_id),
        receipt(
            bottle=collection.bottles.get(label="A").pk,
            laboratory=scene.lab.pk,
            specimen_id_on_bottle="PB-0000-0000-0",
        ),
    )
    collection.refresh_from_db()
    assert collection.rejection_reason == "id_mismatch"
    body = client.get(url("specimen", collection.specimen_id)).content.decode()
    assert "does not match" in body


def test_custody_errors_are_shown_and_nothing_is_written(client, scene, cast):
    collection = make_collection(
        actor=cast.collector, employment=scene.dara, session=scene.session, reason="census"
    )
    bottle = collection.bottles.get(label="A")
    client.force_login(cast.collector)
    target = url("custody_add", collection.specimen_id)
    form = client.get(target).context["form"]
    assert [value for value, _ in form.fields["event"].choices] == ["handed_over"]
    before = CustodyEvent.objects.count()
    response = client.post(
        target,
        receipt(
            bottle=bottle.pk,
            event="handed_over",
            laboratory=scene.lab.pk,
            counter_signer_name="",
            counter_signer="nobody-by-that-name",
        ),
    )
    assert errors_of(response) == {
        "counter_signer": ["No active user is called nobody-by-that-name."]
    }
    response = client.post(
        target,
        receipt(
            bottle=bottle.pk, event="handed_over", laboratory=scene.lab.pk, counter_signer_name=""
        ),
    )
    assert "counter_signer" in errors_of(response)
    future = (timezone.localtime() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        target,
        receipt(bottle=bottle.pk, event="handed_over", laboratory=scene.lab.pk, at=future),
    )
    assert "at" in errors_of(response)
    response = client.post(target, receipt(bottle=bottle.pk, event="received"))
    assert "event" in errors_of(response)  # not a collector's event
    assert CustodyEvent.objects.count() == before

    response = client.post(
        target,
        receipt(
            bottle=bottle.pk,
            event="handed_over",
            laboratory=scene.lab.pk,
            counter_signer=scene.other_collector.username,
            counter_signer_name="",
        ),
    )
    assert response.status_code == 302
    event = CustodyEvent.objects.latest("id")
    assert event.counter_signer == scene.other_collector and event.actor == cast.collector


def test_bad_input_gives_clear_errors_never_a_server_error(client, scene, cast):
    from probity.testing.models import SpecimenType

    client.force_login(cast.collector)
    entry = scene.entry(scene.dara)
    target = url("collect", scene.session.pk, entry.pk)
    response = client.post(
        target,
        collect_data(
            temperature_c="hot",
            volume_a_ml="99999999999",
            volume_b_ml="-5",
            specimen_type="999999",
            identity_method="telepathy",
            screen_result="maybe",
        ),
    )
    assert response.status_code == 200
    assert {"temperature_c", "volume_a_ml", "specimen_type", "identity_method"} <= set(
        errors_of(response)
    )
    # a type not in use cannot be chosen; a type without a temperature check refuses one
    oral = SpecimenType.objects.get(code="oral_fluid")
    assert "specimen_type" in errors_of(client.post(target, collect_data(specimen_type=oral.pk)))
    oral.active = True
    oral.save()
    response = client.post(target, collect_data(specimen_type=oral.pk, temperature_c="34"))
    assert "only for urine" in errors_of(response)["temperature_c"][0]
    assert not Collection.objects.exists()

    collection = make_collection(
        actor=cast.collector, employment=scene.sophea, session=scene.session, reason="census"
    )
    other = make_collection(
        actor=cast.collector, employment=scene.vichea, session=scene.session, reason="census"
    )
    response = client.post(
        url("custody_add", collection.specimen_id),
        receipt(
            bottle=other.bottles.get(label="A").pk,  # a bottle of another specimen
            event="handed_over",
            at="yesterday-ish",
            volume_ml="99999999999",
            laboratory="nope",
        ),
    )
    assert response.status_code == 200
    assert {"bottle", "at", "volume_ml", "laboratory"} <= set(errors_of(response))
    assert client.get("/testing/specimens/%3Cscript%3E/").status_code == 404
    assert client.get(url("labels_pdf", collection.specimen_id), {"start": "x"}).status_code == 200
    response = client.post(url("session_state", scene.session.pk), {"state": "exploded"})
    assert response.status_code == 302
    scene.session.refresh_from_db()
    assert scene.session.state == "planned"


def test_pages_render_in_khmer(client, scene, cast, settings):
    collection = make_collection(
        actor=cast.collector, employment=scene.dara, session=scene.session, reason="census"
    )
    client.force_login(cast.collector)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "km"
    entry = scene.entry(scene.sophea)
    for target in [
        url("sessions"),
        url("session_add"),
        url("session", scene.session.pk),
        url("session_add_people", scene.session.pk),
        url("collect", scene.session.pk, entry.pk),
        url("refuse", scene.session.pk, entry.pk),
        url("specimens"),
        url("specimen", collection.specimen_id),
        url("custody_add", collection.specimen_id),
    ]:
        response = client.get(target)
        assert response.status_code == 200, target
        assert '<html lang="km">' in response.content.decode(), target
