"""The testing API against API.md: ``POST /collections`` and ``POST /specimens/{id}/custody``
with their status codes, shapes and error shape; bad input answered 4xx naming the field and
writing nothing; fatal flaws on receipt; who may do what, and where; the documented reads
(specimens, collections, campaigns with progress, panels, draw verification)."""

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from probity.accounts.models import User
from probity.accounts.services import assignment_grant
from probity.audit.models import AccessLogEntry, AuditEntry
from probity.core.models import IdempotencyRecord
from probity.org.services import laboratory_create
from probity.personnel.tests.factories import registrar
from probity.testing import rules, services
from probity.testing.models import Bottle, Campaign, Collection, CustodyEvent
from probity.testing.tests.factories import (
    make_campaign,
    make_collection,
    make_draw,
    make_session,
    people,
)

pytestmark = pytest.mark.django_db

COLLECTIONS = "/api/v1/collections"
PHNOM_PENH_TIME = ZoneInfo("Asia/Phnom_Penh")


def custody_url(specimen_id: str) -> str:
    return f"/api/v1/specimens/{specimen_id}/custody"


def iso(delta: timedelta = timedelta(0)) -> str:
    """Now plus ``delta``, ISO 8601 with the +07:00 offset."""
    moment = (timezone.now() + delta).replace(microsecond=0)
    return moment.astimezone(PHNOM_PENH_TIME).isoformat()


def ago(**kwargs) -> str:
    return iso(-timedelta(**kwargs))


def post(api, url, body, **headers):
    return api.post(url, json.dumps(body), content_type="application/json", **headers)


def fields(response) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


def assert_error_shape(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    for error in body["errors"]:
        assert {"field", "message"} <= set(error)
    return body


def counts() -> dict[str, int]:
    """Every table a collection or a custody event writes to, audit log included."""
    return {
        "collections": Collection.objects.count(),
        "bottles": Bottle.objects.count(),
        "custody": CustodyEvent.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def body_for(employment, **changes) -> dict:
    body = {
        "person": str(employment.pk),
        "reason": "random",
        "collected_at": ago(hours=2),
        "specimen_type": "urine",
        "split": True,
        "volume_a_ml": 40,
        "volume_b_ml": 20,
        "seal_a": "SA-0001",
        "seal_b": "SB-0001",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def lab(db):
    return laboratory_create(actor=None, code="NBL", name_en="National Bureau Laboratory")


@pytest.fixture
def other_lab(db):
    return laboratory_create(actor=None, code="SRL", name_en="Siem Reap Laboratory")


@pytest.fixture
def analyst(cast, lab):
    services.lab_staff_add(actor=registrar(), user=cast.lab_analyst, laboratory=lab)
    return cast.lab_analyst


@pytest.fixture
def other_analyst(siem_reap_cast, other_lab):
    services.lab_staff_add(actor=registrar(), user=siem_reap_cast.lab_analyst, laboratory=other_lab)
    return siem_reap_cast.lab_analyst


@pytest.fixture
def donor(org_tree):
    return people(org_tree.phnom_penh, 1)[0]


@pytest.fixture
def sr_donor(org_tree):
    return people(org_tree.siem_reap_district, 1)[0]


@pytest.fixture
def collection(cast, donor):
    """A split urine collection by the national collector, two hours ago."""
    return make_collection(actor=cast.collector, employment=donor)


def hand_over(api, collection, laboratory, **changes):
    body = {
        "event": "handed_over",
        "bottle": "A",
        "laboratory": laboratory.code,
        "at": ago(hours=1),
        "counter_signer_name": "Courier Sok",
        "seal_intact": True,
    }
    body.update(changes)
    return post(api, custody_url(collection.specimen_id), body)


def receipt(**changes) -> dict:
    body = {
        "event": "received",
        "laboratory": "NBL",
        "bottle": "A",
        "seal_intact": True,
        "at": ago(minutes=30),
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def shipped(cast, collection, lab):
    """The collection's bottle A handed over to the NBL laboratory (by the collector)."""
    services.custody_record(
        actor=cast.collector,
        bottle=collection.bottles.get(label="A"),
        event="handed_over",
        at=timezone.now() - timedelta(hours=1),
        laboratory=lab,
        counter_signer_name="Courier",
        seal_intact=True,
    )
    return collection


# --- POST /collections ------------------------------------------------------------------


def test_a_collector_records_a_collection(api_client_for, cast, donor):
    api = api_client_for(cast.collector)
    before = counts()
    response = post(api, COLLECTIONS, body_for(donor))
    assert response.status_code == 201, response.content
    body = response.json()
    collection = Collection.objects.get()
    assert body["id"] == collection.pk
    assert body["specimen_id"] == collection.specimen_id
    assert rules.specimen_id_valid(body["specimen_id"])
    assert body["person"] == donor.pk
    assert body["reason"] == "random"
    assert body["specimen_type"] == "urine"
    assert body["split"] is True
    assert body["state"] == "collected"
    assert body["rejection_reason"] is None
    assert body["panel"]["code"] == "HHS-2025-URINE" and body["panel"]["version"] == 1
    assert [b["label"] for b in body["bottles"]] == ["A", "B"]
    assert body["bottles"][0]["seal_number"] == "SA-0001"
    assert body["collected_by"] == "collector"
    assert timezone.datetime.fromisoformat(body["collected_at"]) == collection.collected_at
    # One collection, two sealed bottles, the collection's audit entry.
    after = counts()
    assert after["collections"] == before["collections"] + 1
    assert after["bottles"] == before["bottles"] + 2
    assert after["custody"] == before["custody"] + 2
    assert set(CustodyEvent.objects.values_list("event", flat=True)) == {"sealed"}
    entry = AuditEntry.objects.filter(action="testing.collection_record").latest("seq")
    assert entry.actor == cast.collector
    assert entry.object_id == str(collection.pk)


@pytest.mark.parametrize("person", ["as_int", "as_string"])
def test_person_is_an_int_or_a_numeric_string(api_client_for, cast, donor, person):
    value = donor.pk if person == "as_int" else f" {donor.pk} "
    response = post(api_client_for(cast.collector), COLLECTIONS, body_for(donor, person=value))
    assert response.status_code == 201, response.content
    assert response.json()["person"] == donor.pk


def test_an_unsplit_specimen_has_only_bottle_a(api_client_for, cast, donor):
    body = body_for(donor, split=False, volume_a_ml=50, volume_b_ml=None, seal_b=None)
    response = post(api_client_for(cast.collector), COLLECTIONS, body)
    assert response.status_code == 201, response.content
    assert [b["label"] for b in response.json()["bottles"]] == ["A"]
    assert response.json()["split"] is False
    assert Bottle.objects.count() == 1


def test_campaign_panel_and_collectors_by_code_and_username(
    api_client_for, cast, siem_reap_cast, org_tree, donor
):
    campaign = make_campaign(unit=org_tree.np_root, mode=Campaign.Mode.CENSUS, code="NP-2026")
    body = body_for(
        donor,
        reason="census",
        campaign="NP-2026",
        panel="HHS-2025-URINE",
        collectors=["collector_sr", "collector"],
        observed=True,
        temperature_c="34.5",
        site="Phnom Penh HQ",
        identity_method="id_card",
        remarks="Calm.",
    )
    response = post(api_client_for(cast.collector), COLLECTIONS, body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["campaign"] == "NP-2026"
    assert created["collected_by"] == "collector_sr"  # the first collector named
    assert created["observed"] is True
    assert created["temperature_in_range"] is True  # derived from the 34.5 °C measured
    collection = Collection.objects.get()
    assert collection.campaign == campaign
    assert set(collection.collectors.values_list("username", flat=True)) == {
        "collector",
        "collector_sr",
    }
    assert collection.site == "Phnom Penh HQ"


def test_attestations_default_to_true_and_the_schema_says_so(api_client_for, cast, donor):
    api = api_client_for(cast.collector)
    assert post(api, COLLECTIONS, body_for(donor)).status_code == 201
    collection = Collection.objects.get()
    assert collection.identity_checked and collection.donor_confirmed
    assert collection.collector_confirmed
    schema = api.get("/api/v1/openapi.json").json()
    properties = schema["components"]["schemas"]["CollectionIn"]["properties"]
    for name in ("identity_checked", "donor_confirmed", "collector_confirmed"):
        assert properties[name]["default"] is True
        assert "attests" in properties[name]["description"]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"person": 999_999}, 404, "person"),
        ({"person": "abc"}, 422, "person"),
        ({"person": True}, 422, "person"),
        ({"person": None}, 422, "person"),
        ({"reason": "because"}, 422, "reason"),
        ({"reason": None}, 422, "reason"),
        ({"collected_at": "2026-01-22T08:30:00"}, 422, "collected_at"),
        ({"collected_at": "yesterday"}, 422, "collected_at"),
        ({"collected_at": "0001-01-01T00:00:00+07:00"}, 422, "collected_at"),
        ({"collected_at": "2020-01-01T00:00:00+07:00"}, 422, "panel"),  # no version then
        ({"collected_at": "2001-01-01T00:00:00+07:00"}, 422, "person"),  # not yet serving
        ({"collected_at": "FUTURE"}, 422, "collected_at"),
        ({"specimen_type": "blood"}, 422, "specimen_type"),
        ({"specimen_type": "hair"}, 422, "specimen_type"),  # a type not in use
        ({"split": None}, 422, "split"),
        ({"panel": "NO-SUCH-PANEL"}, 422, "panel"),
        ({"campaign": "NO-SUCH-CAMPAIGN"}, 422, "campaign"),
        ({"collectors": ["nobody"]}, 422, "collectors.0"),
        ({"collectors": ["collector", "commander"]}, 422, "collectors.1"),
        ({"session": 424242}, 422, "session"),
        ({"selection": 424242}, 422, "selection"),
        ({"volume_a_ml": 10, "volume_b_ml": 5}, 422, "volume_a_ml"),
        ({"volume_a_ml": -1}, 422, "volume_a_ml"),
        ({"donor_confirmed": False}, 422, "donor_confirmed"),
        ({"temperature_c": "40.0", "temperature_in_range": True}, 422, "temperature_in_range"),
        ({"screen_result": "maybe"}, 422, "screen_result"),
        ({"site": "Pre\x00y Veng"}, 422, "site"),
    ],
)
def test_bad_collection_input_names_the_field_and_writes_nothing(
    api_client_for, cast, donor, change, status, field
):
    if change.get("collected_at") == "FUTURE":
        change = {"collected_at": iso(timedelta(hours=2))}
    api = api_client_for(cast.collector)
    before = counts()
    response = post(api, COLLECTIONS, body_for(donor, **change))
    body = assert_error_shape(response, status)
    assert field in fields(response), body
    assert counts() == before


def test_an_unknown_person_is_404_as_in_the_people_api(api_client_for, cast, donor):
    response = post(api_client_for(cast.collector), COLLECTIONS, body_for(donor, person=999_999))
    body = assert_error_shape(response, 404)
    assert body["detail"] == "No person with id 999999 within your jurisdiction."
    people_api = api_client_for(cast.collector).get("/api/v1/people/999999")
    assert people_api.json()["detail"] == body["detail"]


def test_a_naive_time_is_refused_with_a_message_about_the_offset(api_client_for, cast, donor):
    body = body_for(donor, collected_at="2026-01-22T08:30:00")
    response = post(api_client_for(cast.collector), COLLECTIONS, body)
    assert_error_shape(response, 422)
    message = response.json()["errors"][0]["message"]
    assert "offset" in message


@pytest.mark.parametrize(
    "role", ["programme_manager", "commander", "lab_analyst", "auditor", "personnel_officer"]
)
def test_roles_without_collect_get_403(api_client_for, cast, donor, role):
    api = api_client_for(cast[role])
    before = counts()
    response = post(api, COLLECTIONS, body_for(donor))
    assert_error_shape(response, 403)
    assert counts() == before


def test_the_superuser_may_collect_anywhere(api_client_for, superuser, donor):
    response = post(api_client_for(superuser), COLLECTIONS, body_for(donor))
    assert response.status_code == 201, response.content


def test_no_token_is_401(client, donor):
    response = post(client, COLLECTIONS, body_for(donor))
    assert_error_shape(response, 401)
    assert not Collection.objects.exists()


def test_a_collector_collects_only_within_their_jurisdiction(
    api_client_for, siem_reap_cast, donor, sr_donor
):
    api = api_client_for(siem_reap_cast.collector)
    before = counts()
    response = post(api, COLLECTIONS, body_for(donor))  # a Phnom Penh officer
    body = assert_error_shape(response, 404)
    assert body["detail"] == f"No person with id {donor.pk} within your jurisdiction."
    assert fields(response) == {"person"}
    assert counts() == before
    assert post(api, COLLECTIONS, body_for(sr_donor)).status_code == 201


def test_a_campaign_of_another_agency_or_not_active_is_422(api_client_for, cast, org_tree, donor):
    make_campaign(unit=org_tree.np_root, mode=Campaign.Mode.CENSUS, code="DRAFT", start=False)
    api = api_client_for(cast.collector)
    before = counts()
    response = post(api, COLLECTIONS, body_for(donor, campaign="DRAFT"))
    assert_error_shape(response, 422)
    assert fields(response) == {"campaign"}
    assert counts() == before


def test_a_session_and_a_selection_link_the_collection(api_client_for, cast, org_tree):
    pool = people(org_tree.phnom_penh, 4)
    campaign = make_campaign(unit=org_tree.np_root, code="RND-S")
    draw = make_draw(campaign=campaign)
    selection = draw.selections.filter(kind="selected").order_by("position").first()
    drawn = selection.employment
    session = make_session(actor=cast.collector, unit=org_tree.phnom_penh, campaign=campaign)
    api = api_client_for(cast.collector)
    body = body_for(drawn, session=session.pk, selection=str(selection.pk))
    response = post(api, COLLECTIONS, body)
    assert response.status_code == 201, response.content
    assert response.json()["campaign"] == "RND-S"  # from the selection's draw
    collection = Collection.objects.get()
    assert collection.session == session and collection.selection == selection
    # Another person's selection is refused.
    other = next(p for p in pool if p.pk != drawn.pk)
    before = counts()
    response = post(api, COLLECTIONS, body_for(other, selection=selection.pk))
    assert_error_shape(response, 422)
    assert fields(response) == {"selection"}
    assert counts() == before


def test_only_the_session_team_records_in_it(api_client_for, cast, org_tree, donor):
    session = make_session(actor=cast.collector, unit=org_tree.phnom_penh)
    outsider = User.objects.create_user(username="collector_2")
    assignment_grant(actor=None, user=outsider, role="collector", unit=org_tree.np_root)
    api = api_client_for(outsider)
    before = counts()
    response = post(api, COLLECTIONS, body_for(donor, session=session.pk))
    assert_error_shape(response, 403)
    assert fields(response) == {"session"}
    assert counts() == before
    assert post(api, COLLECTIONS, body_for(donor)).status_code == 201  # outside the session


def test_idempotency_key_gives_the_same_specimen_once(api_client_for, cast, donor):
    api = api_client_for(cast.collector)
    body = body_for(donor)
    first = post(api, COLLECTIONS, body, HTTP_IDEMPOTENCY_KEY="collect-1")
    again = post(api, COLLECTIONS, body, HTTP_IDEMPOTENCY_KEY="collect-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["specimen_id"] == first.json()["specimen_id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Collection.objects.count() == 1
    assert AuditEntry.objects.filter(action="testing.collection_record").count() == 1
    # The same key with another body is refused, and writes nothing.
    other = post(
        api, COLLECTIONS, body_for(donor, reason="other"), HTTP_IDEMPOTENCY_KEY="collect-1"
    )
    assert_error_shape(other, 422)
    assert Collection.objects.count() == 1
    # Another key is another collection.
    assert post(api, COLLECTIONS, body, HTTP_IDEMPOTENCY_KEY="collect-2").status_code == 201
    assert Collection.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 2


# --- POST /specimens/{id}/custody -------------------------------------------------------


def test_the_collector_hands_over_and_the_laboratory_receives(
    api_client_for, cast, collection, lab, analyst
):
    handed = hand_over(api_client_for(cast.collector), collection, lab)
    assert handed.status_code == 201, handed.content
    body = handed.json()
    assert body["event"] == "handed_over" and body["bottle"] == "A"
    assert body["laboratory"] == "NBL" and body["by"] == "collector"
    assert body["counter_signer_name"] == "Courier Sok"
    assert body["state"] == "collected" and body["rejection_reason"] is None
    # The analyst finds it under any spelling of its ID.
    spelled = collection.specimen_id.lower().replace("-", "")
    response = post(api_client_for(analyst), custody_url(spelled), receipt())
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("event", "bottle", "laboratory", "seal_intact", "by")} == {
        "event": "received",
        "bottle": "A",
        "laboratory": "NBL",
        "seal_intact": True,
        "by": "lab_analyst",
    }
    assert timezone.datetime.fromisoformat(body["at"]) <= timezone.now()
    assert body["specimen_id"] == collection.specimen_id
    assert body["state"] == "collected" and body["rejection_reason"] is None
    assert list(
        CustodyEvent.objects.filter(bottle__collection=collection, bottle__label="A")
        .order_by("at")
        .values_list("event", flat=True)
    ) == ["sealed", "handed_over", "received"]
    assert AuditEntry.objects.filter(action="testing.custody_record").count() == 2


def test_a_broken_seal_on_receipt_rejects_the_specimen(api_client_for, shipped, analyst):
    response = post(
        api_client_for(analyst), custody_url(shipped.specimen_id), receipt(seal_intact=False)
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "rejected" and body["rejection_reason"] == "seal_broken"
    assert body["seal_intact"] is False and body["flaw"] == "seal_broken"
    shipped.refresh_from_db()
    assert shipped.state == "rejected" and shipped.rejection_reason == "seal_broken"
    assert CustodyEvent.objects.filter(event="received", flaw="seal_broken").count() == 1
    assert AuditEntry.objects.filter(action="testing.collection_reject").count() == 1


def test_a_mismatched_id_on_the_bottle_rejects_the_specimen(api_client_for, shipped, analyst):
    wrong = rules.new_specimen_id()
    assert wrong != shipped.specimen_id
    response = post(
        api_client_for(analyst),
        custody_url(shipped.specimen_id),
        receipt(specimen_id_on_bottle=wrong),
    )
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "rejected"
    assert response.json()["rejection_reason"] == "id_mismatch"
    assert response.json()["id_matches"] is False


def test_a_matching_id_read_on_the_bottle_is_recorded(api_client_for, shipped, analyst):
    read = shipped.specimen_id.lower()
    response = post(
        api_client_for(analyst),
        custody_url(shipped.specimen_id),
        receipt(specimen_id_on_bottle=read),
    )
    assert response.status_code == 201
    assert response.json()["id_matches"] is True and response.json()["state"] == "collected"


def test_a_collection_without_collector_identity_is_rejected_on_receipt(
    api_client_for, donor, lab, analyst
):
    system = registrar()  # a system account, not a collector, naming no collectors
    collection = make_collection(actor=system, employment=donor)
    assert collection.collected_by is None
    services.custody_record(
        actor=system,
        bottle=collection.bottles.get(label="A"),
        event="handed_over",
        at=timezone.now() - timedelta(hours=1),
        laboratory=lab,
        counter_signer_name="Courier",
        seal_intact=True,
    )
    response = post(api_client_for(analyst), custody_url(collection.specimen_id), receipt())
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "rejected"
    assert response.json()["rejection_reason"] == "no_collector"


def test_too_little_specimen_on_receipt_is_rejected(api_client_for, shipped, analyst):
    response = post(
        api_client_for(analyst), custody_url(shipped.specimen_id), receipt(volume_ml=10)
    )
    assert response.status_code == 201, response.content
    assert response.json()["rejection_reason"] == "insufficient_specimen"
    assert response.json()["volume_ml"] == 10


def test_enough_specimen_on_receipt_is_accepted(api_client_for, shipped, analyst):
    response = post(
        api_client_for(analyst), custody_url(shipped.specimen_id), receipt(volume_ml=35)
    )
    assert response.status_code == 201
    assert response.json()["state"] == "collected"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"laboratory": "NOPE"}, "laboratory"),
        ({"laboratory": None}, "laboratory"),
        ({"event": "lost"}, "event"),
        ({"event": None}, "event"),
        ({"bottle": "C"}, "bottle"),
        ({"seal_intact": None}, "seal_intact"),
        ({"at": "2026-01-22T15:00:00"}, "at"),
        ({"at": "BEFORE_COLLECTION"}, "at"),
        ({"at": "BEFORE_HANDOVER"}, "at"),
        ({"at": "FUTURE"}, "at"),
        ({"counter_signer": "lab_analyst"}, "counter_signer"),  # the analyst themself
        ({"counter_signer": "nobody"}, "counter_signer"),
        ({"volume_ml": -3}, "volume_ml"),
        ({"remarks": "a\x00b"}, "remarks"),
    ],
)
def test_bad_custody_input_names_the_field_and_writes_nothing(
    api_client_for, shipped, analyst, change, field
):
    when = change.get("at")
    if when == "BEFORE_COLLECTION":
        change = {"at": iso(-timedelta(hours=3))}
    elif when == "BEFORE_HANDOVER":
        change = {"at": iso(-timedelta(minutes=90))}
    elif when == "FUTURE":
        change = {"at": iso(timedelta(hours=1))}
    api = api_client_for(analyst)
    before = counts()
    response = post(api, custody_url(shipped.specimen_id), receipt(**change))
    body = assert_error_shape(response, 422)
    assert field in fields(response), body
    assert counts() == before
    shipped.refresh_from_db()
    assert shipped.state == "collected"


def test_bottle_b_of_an_unsplit_specimen_is_422(api_client_for, cast, donor, lab):
    collection = make_collection(
        actor=cast.collector, employment=donor, split=False, volume_a_ml=50
    )
    api = api_client_for(cast.collector)
    before = counts()
    response = hand_over(api, collection, lab, bottle="B")
    body = assert_error_shape(response, 422)
    assert fields(response) == {"bottle"} and "not split" in body["detail"]
    assert counts() == before


def test_an_unknown_specimen_is_404(api_client_for, cast, lab):
    api = api_client_for(cast.collector)
    before = counts()
    response = post(api, custody_url("PB-0000-0000-0"), receipt())
    assert_error_shape(response, 404)
    assert counts() == before


def test_a_handover_needs_the_person_who_takes_the_bottle(
    api_client_for, cast, siem_reap_cast, collection, lab
):
    api = api_client_for(cast.collector)
    before = counts()
    response = hand_over(api, collection, lab, counter_signer_name="")
    assert_error_shape(response, 422)
    assert fields(response) == {"counter_signer"}
    assert counts() == before
    # A counter-signer with an account does.
    response = hand_over(
        api,
        collection,
        lab,
        counter_signer_name="",
        counter_signer="collector_sr",
    )
    assert response.status_code == 201, response.content
    assert response.json()["counter_signer"] == "collector_sr"


def test_an_event_out_of_sequence_is_422(api_client_for, cast, shipped, lab):
    # Bottle A was handed over: it must be received before anything else happens to it.
    services.lab_staff_add(actor=registrar(), user=cast.lab_certifier, laboratory=lab)
    api = api_client_for(cast.lab_certifier)
    before = counts()
    body = {"event": "aliquoted", "bottle": "A", "laboratory": "NBL", "at": ago(minutes=30)}
    response = post(api, custody_url(shipped.specimen_id), body)
    assert_error_shape(response, 422)
    assert fields(response) == {"event"}
    assert counts() == before


def test_nothing_happens_to_a_bottle_after_disposal(api_client_for, shipped, analyst, lab):
    bottle = shipped.bottles.get(label="A")
    now = timezone.now()
    for event, minutes in (("received", 50), ("disposed", 40)):
        services.custody_record(
            actor=analyst,
            bottle=bottle,
            event=event,
            at=now - timedelta(minutes=minutes),
            laboratory=lab,
            seal_intact=True,
        )
    api = api_client_for(analyst)
    before = counts()
    response = post(
        api,
        custody_url(shipped.specimen_id),
        {"event": "stored", "bottle": "A", "laboratory": "NBL", "at": ago(minutes=10)},
    )
    body = assert_error_shape(response, 422)
    assert fields(response) == {"event"} and "disposed" in body["errors"][0]["message"]
    assert counts() == before


def test_an_analyst_cannot_receive_at_a_laboratory_they_do_not_work_for(
    api_client_for, cast, collection, other_lab, other_analyst, lab
):
    # Handed over to the Siem Reap laboratory: its analyst sees the specimen...
    services.custody_record(
        actor=cast.collector,
        bottle=collection.bottles.get(label="A"),
        event="handed_over",
        at=timezone.now() - timedelta(hours=1),
        laboratory=other_lab,
        counter_signer_name="Courier",
    )
    api = api_client_for(other_analyst)
    before = counts()
    # ...but may not record a receipt at NBL, where they do not work.
    response = post(api, custody_url(collection.specimen_id), receipt(laboratory="NBL"))
    body = assert_error_shape(response, 403)
    assert "NBL" in body["detail"]
    assert counts() == before
    # At their own laboratory they may.
    response = post(api, custody_url(collection.specimen_id), receipt(laboratory="SRL"))
    assert response.status_code == 201, response.content


def test_laboratory_staff_do_not_reach_specimens_sent_elsewhere(
    api_client_for, shipped, other_analyst
):
    api = api_client_for(other_analyst)
    before = counts()
    response = post(api, custody_url(shipped.specimen_id), receipt(laboratory="SRL"))
    assert_error_shape(response, 404)
    assert counts() == before


def test_an_analyst_without_a_laboratory_post_reaches_nothing(api_client_for, cast, shipped):
    response = post(api_client_for(cast.lab_analyst), custody_url(shipped.specimen_id), receipt())
    assert_error_shape(response, 404)


@pytest.mark.parametrize("role", ["commander", "programme_manager", "auditor", "administrator"])
def test_roles_without_custody_get_403(api_client_for, cast, shipped, role):
    api = api_client_for(cast[role])
    before = counts()
    response = post(api, custody_url(shipped.specimen_id), receipt())
    assert_error_shape(response, 403)
    assert counts() == before


def test_a_collector_does_not_record_a_receipt(api_client_for, cast, shipped):
    api = api_client_for(cast.collector)
    before = counts()
    response = post(api, custody_url(shipped.specimen_id), receipt())
    assert_error_shape(response, 403)
    assert counts() == before


def test_another_collector_does_not_reach_the_specimen(api_client_for, siem_reap_cast, shipped):
    response = post(
        api_client_for(siem_reap_cast.collector),
        custody_url(shipped.specimen_id),
        {"event": "handed_over", "bottle": "B", "at": ago(hours=1), "counter_signer_name": "X"},
    )
    assert_error_shape(response, 404)


def test_custody_idempotency(api_client_for, shipped, analyst):
    api = api_client_for(analyst)
    url = custody_url(shipped.specimen_id)
    body = receipt()
    first = post(api, url, body, HTTP_IDEMPOTENCY_KEY="r-1")
    again = post(api, url, body, HTTP_IDEMPOTENCY_KEY="r-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert CustodyEvent.objects.filter(event="received").count() == 1


# --- GET /specimens/{id} ----------------------------------------------------------------


def test_the_collector_sees_the_specimen_and_its_donor(api_client_for, cast, shipped, donor):
    response = api_client_for(cast.collector).get(f"/api/v1/specimens/{shipped.specimen_id}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["specimen_id"] == shipped.specimen_id
    assert body["person"] == donor.pk
    assert body["donor"]["service_number"] == donor.service_number
    assert body["donor"]["family_name"] == donor.person.family_name
    assert body["donor"]["unit"] == "NP-PP"
    assert [(e["bottle"], e["event"]) for e in body["custody"]] == [
        ("A", "sealed"),
        ("B", "sealed"),
        ("A", "handed_over"),
    ]
    assert body["panel"] == {"code": "HHS-2025-URINE", "version": 1, "effective_from": "2025-07-07"}
    assert AccessLogEntry.objects.filter(
        object_type="testing.collection", object_id=str(shipped.pk), user=cast.collector
    ).exists()


def test_a_laboratory_analyst_never_learns_the_donor(api_client_for, shipped, analyst, donor):
    response = api_client_for(analyst).get(f"/api/v1/specimens/{shipped.specimen_id}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["specimen_id"] == shipped.specimen_id
    assert body["person"] is None and body["donor"] is None
    assert body["collectors"] is None and body["remarks"] is None
    text = response.content.decode()
    for secret in (
        donor.service_number,
        donor.person.family_name,
        donor.person.given_name,
        donor.person.national_id,
        donor.person.name_km,
    ):
        assert secret not in text
    assert len(body["custody"]) == 3  # the timeline is theirs to see
    assert not AccessLogEntry.objects.filter(object_type="testing.collection").exists()


def test_the_programme_manager_sees_the_donor_and_the_commander_nothing(
    api_client_for, cast, siem_reap_cast, shipped, donor
):
    url = f"/api/v1/specimens/{shipped.specimen_id}"
    assert api_client_for(cast.programme_manager).get(url).json()["person"] == donor.pk
    assert_error_shape(api_client_for(cast.commander).get(url), 404)
    assert_error_shape(api_client_for(siem_reap_cast.programme_manager).get(url), 404)


# --- GET /collections -------------------------------------------------------------------


def test_collections_list_is_scoped_filtered_and_paginated(
    api_client_for, cast, siem_reap_cast, org_tree, donor, sr_donor
):
    campaign = make_campaign(unit=org_tree.np_root, mode=Campaign.Mode.CENSUS, code="NP-ALL")
    pp = make_collection(actor=cast.collector, employment=donor, campaign=campaign, reason="census")
    sr = make_collection(actor=siem_reap_cast.collector, employment=sr_donor)
    manager = api_client_for(cast.programme_manager)
    listed = manager.get(COLLECTIONS).json()
    assert listed["count"] == 2
    assert {i["specimen_id"] for i in listed["items"]} == {pp.specimen_id, sr.specimen_id}
    assert {i["person"] for i in listed["items"]} == {donor.pk, sr_donor.pk}
    only = manager.get(COLLECTIONS, {"campaign": "NP-ALL"}).json()
    assert [i["specimen_id"] for i in only["items"]] == [pp.specimen_id]
    by_id = manager.get(COLLECTIONS, {"q": sr.specimen_id.lower()}).json()
    assert [i["specimen_id"] for i in by_id["items"]] == [sr.specimen_id]
    assert manager.get(COLLECTIONS, {"state": "rejected"}).json() == {"items": [], "count": 0}
    page = manager.get(COLLECTIONS, {"limit": 1}).json()
    assert page["count"] == 2 and len(page["items"]) == 1
    # Siem Reap's programme manager sees Siem Reap's collection only; each collector
    # their own.
    sr_manager = api_client_for(siem_reap_cast.programme_manager).get(COLLECTIONS).json()
    assert [i["specimen_id"] for i in sr_manager["items"]] == [sr.specimen_id]
    mine = api_client_for(siem_reap_cast.collector).get(COLLECTIONS).json()
    assert [i["specimen_id"] for i in mine["items"]] == [sr.specimen_id]
    assert_error_shape(manager.get(COLLECTIONS, {"state": "lost"}), 422)
    assert_error_shape(manager.get(COLLECTIONS, {"campaign": "NOPE"}), 422)


def test_the_list_reads_in_constant_queries(api_client_for, cast, org_tree):
    def queries(user) -> int:
        api = api_client_for(user)
        with CaptureQueriesContext(connection) as captured:
            assert api.get(COLLECTIONS).status_code == 200
        return len(captured.captured_queries)

    for employment in people(org_tree.phnom_penh, 2):
        make_collection(actor=cast.collector, employment=employment)
    few = {role: queries(cast[role]) for role in ("programme_manager", "collector")}
    for employment in people(org_tree.phnom_penh, 10):
        make_collection(actor=cast.collector, employment=employment)
    many = {role: queries(cast[role]) for role in ("programme_manager", "collector")}
    assert many == few


def test_commanders_see_no_collections(api_client_for, cast, collection):
    assert_error_shape(api_client_for(cast.commander).get(COLLECTIONS), 403)
    assert api_client_for(cast.programme_manager).get(COLLECTIONS).json()["count"] == 1


def test_laboratory_staff_list_only_what_reached_them_without_donors(
    api_client_for, cast, shipped, analyst, other_analyst, donor
):
    make_collection(actor=cast.collector, employment=donor)  # not shipped anywhere
    response = api_client_for(analyst).get(COLLECTIONS)
    assert response.json()["count"] == 1
    item = response.json()["items"][0]
    assert item["specimen_id"] == shipped.specimen_id and item["person"] is None
    assert donor.service_number not in response.content.decode()
    assert api_client_for(other_analyst).get(COLLECTIONS).json()["count"] == 0


# --- campaigns, panels, draws -----------------------------------------------------------


def test_campaign_list_and_progress(api_client_for, cast, siem_reap_cast, org_tree, donor):
    campaign = make_campaign(unit=org_tree.phnom_penh, mode=Campaign.Mode.CENSUS, code="PP-1")
    people(org_tree.phnom_penh, 3)
    make_collection(actor=cast.collector, employment=donor, campaign=campaign, reason="census")
    collector = api_client_for(cast.collector)
    listed = collector.get("/api/v1/campaigns").json()
    assert listed["count"] == 1 and listed["items"][0]["code"] == "PP-1"
    assert listed["items"][0]["mode"] == "census" and listed["items"][0]["state"] == "active"
    detail = collector.get("/api/v1/campaigns/PP-1")
    assert detail.status_code == 200, detail.content
    progress = detail.json()["progress"]
    assert progress["eligible"] == 4 and progress["selected"] == 4
    assert progress["collected"] == 1 and progress["refused"] == 0
    assert progress["coverage"] == 25.0
    assert progress["by_unit"] == [
        {
            "unit": "NP-PP",
            "eligible": 4,
            "selected": 4,
            "collected": 1,
            "refused": 0,
            "rejected": 0,
            "closed_screen": 0,
        }
    ]
    assert detail.json()["draws"] is None  # collectors do not see draws
    assert (
        api_client_for(cast.programme_manager).get("/api/v1/campaigns/PP-1").json()["draws"] == []
    )
    # Siem Reap's collectors neither list it nor read it; commanders see no campaigns.
    sr = api_client_for(siem_reap_cast.collector)
    assert sr.get("/api/v1/campaigns").json()["count"] == 0
    assert_error_shape(sr.get("/api/v1/campaigns/PP-1"), 404)
    assert_error_shape(api_client_for(cast.commander).get("/api/v1/campaigns"), 403)
    assert_error_shape(collector.get("/api/v1/campaigns", {"state": "open"}), 422)


def test_panels_are_published_to_testing_staff(api_client_for, cast, analyst):
    response = api_client_for(analyst).get("/api/v1/panels")
    assert response.status_code == 200, response.content
    panel = next(p for p in response.json()["items"] if p["code"] == "HHS-2025-URINE")
    assert panel["specimen_type"] == "urine" and panel["is_default"] is True
    version = panel["versions"][0]
    assert version["version"] == 1 and version["effective_from"] == "2025-07-07"
    assert "validity" in version["definition"]
    assert_error_shape(api_client_for(cast.commander).get("/api/v1/panels"), 403)


def test_draw_verification_for_the_programme_only(api_client_for, cast, siem_reap_cast, org_tree):
    people(org_tree.phnom_penh, 6)
    campaign = make_campaign(unit=org_tree.np_root, code="RND-1")
    draw = make_draw(campaign=campaign)
    url = f"/api/v1/draws/{draw.pk}/verification"
    response = api_client_for(cast.programme_manager).get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is True and body["campaign"] == "RND-1"
    assert body["selected"] == 3 and body["pool_size"] == 6
    assert {c["check"] for c in body["checks"]} >= {"seed", "pool", "selection"}
    assert all(c["passed"] for c in body["checks"])
    assert api_client_for(cast.auditor).get(url).json()["ok"] is True
    # Commanders and collectors: no draws. Siem Reap's manager: not this campaign's draw.
    assert_error_shape(api_client_for(cast.commander).get(url), 403)
    assert_error_shape(api_client_for(cast.collector).get(url), 403)
    assert_error_shape(api_client_for(siem_reap_cast.programme_manager).get(url), 404)
    assert_error_shape(
        api_client_for(cast.programme_manager).get("/api/v1/draws/9999/verification"), 404
    )
    # The campaign page lists it for the manager, with its commitment and revealed seed.
    draws = api_client_for(cast.programme_manager).get("/api/v1/campaigns/RND-1").json()["draws"]
    assert [d["number"] for d in draws] == [1]
    assert draws[0]["seed_hash"] == draw.seed_hash and draws[0]["seed"] == draw.seed


def test_a_tampered_draw_fails_verification(api_client_for, cast, org_tree):
    people(org_tree.phnom_penh, 4)
    draw = make_draw(campaign=make_campaign(unit=org_tree.np_root))
    first = draw.selections.filter(kind="selected").order_by("position").first()
    outsider = people(org_tree.phnom_penh, 1)[0]
    type(first).objects.filter(pk=first.pk).update(employment=outsider)
    body = api_client_for(cast.programme_manager).get(f"/api/v1/draws/{draw.pk}/verification")
    assert body.json()["ok"] is False
    failed = {c["check"] for c in body.json()["checks"] if not c["passed"]}
    assert "selection" in failed


# --- OpenAPI ----------------------------------------------------------------------------


def test_openapi_lists_the_testing_endpoints(api_client_for, cast):
    schema = api_client_for(cast.collector).get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert "post" in paths["/api/v1/collections"] and "get" in paths["/api/v1/collections"]
    assert "post" in paths["/api/v1/specimens/{specimen_id}/custody"]
    for path in (
        "/api/v1/specimens/{specimen_id}",
        "/api/v1/campaigns",
        "/api/v1/campaigns/{code}",
        "/api/v1/panels",
        "/api/v1/draws/{draw_id}/verification",
    ):
        assert "get" in paths[path], path
    assert "201" in paths["/api/v1/collections"]["post"]["responses"]
    assert "201" in paths["/api/v1/specimens/{specimen_id}/custody"]["post"]["responses"]
    reasons = schema["components"]["schemas"]["CollectionIn"]["properties"]["reason"]["enum"]
    assert set(reasons) == {
        "census",
        "random",
        "reasonable_suspicion",
        "post_incident",
        "return_to_duty",
        "follow_up",
        "other",
    }
    events = schema["components"]["schemas"]["CustodyIn"]["properties"]["event"]["enum"]
    assert set(events) == set(rules.CUSTODY_EVENTS)
