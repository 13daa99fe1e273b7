"""The people API against API.md: 201/409/422/403/404 with the error shape, scoped and
paginated lists, reads, corrections, status and employment changes."""

import json
import unicodedata
from datetime import date

import pytest

from probity.accounts.models import User
from probity.audit.models import AccessLogEntry, AuditEntry
from probity.org.services import rank_create
from probity.personnel import services
from probity.personnel.models import Employment, Person, StatusChange

pytestmark = pytest.mark.django_db

PEOPLE = "/api/v1/people"


def hire(unit, service_number, family, given, **extra):
    registrar, _ = User.objects.get_or_create(username="registrar")
    extra.setdefault("start_date", date(2015, 1, 1))
    person = services.person_create(
        actor=registrar,
        family_name=family,
        given_name=given,
        service_number=service_number,
        unit=unit,
        **extra,
    )
    return person.employments.get()


@pytest.fixture
def ranks(org_tree):
    return {
        "COL": rank_create(
            actor=None, agency=org_tree.police, code="COL", name_en="Colonel", order=80
        ),
        "W1": rank_create(actor=None, agency=org_tree.prisons, code="W1", name_en="Warden"),
    }


@pytest.fixture
def staff(org_tree, ranks):
    dara = hire(org_tree.phnom_penh, "NP-000001", "Sok", "Dara", name_km="សុខ ដារា")
    sophea = hire(org_tree.siem_reap, "NP-000002", "Chan", "Sophea", name_km="ចាន់ សោភា")
    vichea = hire(org_tree.siem_reap_district, "NP-000003", "Keo", "Vichea", rank=ranks["COL"])
    bopha = hire(org_tree.prisons_root, "GDP-0001", "Meas", "Bopha")
    services.status_record(
        actor=User.objects.get(username="registrar"),
        employment=vichea,
        status="suspended",
        effective_date=date(2024, 1, 10),
        reason="Pending the committee",
    )
    return {"dara": dara, "sophea": sophea, "vichea": vichea, "bopha": bopha}


def post(api, url, body, **headers):
    return api.post(url, json.dumps(body), content_type="application/json", **headers)


def patch(api, url, body):
    return api.patch(url, json.dumps(body), content_type="application/json")


def fields(response) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


def assert_error_shape(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    return body


BODY = {
    "service_number": "NP-000123",
    "family_name": "Sok",
    "given_name": "Dara",
    "name_km": "សុខ តារា",
    "sex": "M",
    "date_of_birth": "1990-04-01",
    "unit": "NP-SR-01",
    "rank": "COL",
    "position": "Deputy chief",
    "national_id": "100200300",
}


# --- POST /people -----------------------------------------------------------------------


def test_create_answers_201_with_the_person(api_client_for, cast, ranks):
    officer = cast.personnel_officer
    response = post(api_client_for(officer), PEOPLE, BODY)
    assert response.status_code == 201, response.content
    body = response.json()
    employment = Employment.objects.get(service_number="NP-000123")
    assert body["id"] == employment.pk
    assert body["person_id"] == employment.person_id
    assert {k: body[k] for k in BODY} == BODY
    assert body["agency"] == "NP" and body["status"] == "active"
    assert body["unit_name"] == "District Inspectorate"
    entry = AuditEntry.objects.filter(action="personnel.person_create").latest("seq")
    assert entry.actor == officer


def test_create_with_only_the_required_fields(api_client_for, cast, org_tree):
    body = {"service_number": "NP-9", "family_name": "Chan", "given_name": "Bopha", "unit": "NP-PP"}
    response = post(api_client_for(cast.personnel_officer), PEOPLE, body)
    assert response.status_code == 201
    created = response.json()
    assert created["rank"] is None and created["sex"] == "" and created["date_of_birth"] is None


def test_duplicate_service_number_in_the_agency_is_409(api_client_for, cast, staff):
    api = api_client_for(cast.personnel_officer)
    people = Person.objects.count()
    response = post(api, PEOPLE, {**BODY, "service_number": "NP-000002", "national_id": ""})
    body = assert_error_shape(response, 409)
    assert "NP-000002" in body["detail"]
    assert body["errors"][0]["field"] == "service_number"
    assert Person.objects.count() == people
    # The same number in another agency is another person.
    administrator = api_client_for(cast.administrator)
    other = {**BODY, "service_number": "GDP-0001", "unit": "NP-PP", "rank": ""}
    assert post(administrator, PEOPLE, other).status_code == 201


def test_unknown_unit_is_422_naming_the_unit(api_client_for, cast, org_tree):
    response = post(api_client_for(cast.personnel_officer), PEOPLE, {**BODY, "unit": "NOPE"})
    assert_error_shape(response, 422)
    assert fields(response) == {"unit"}
    assert not Person.objects.exists()


def test_unit_outside_the_jurisdiction_is_403(api_client_for, siem_reap_cast, ranks):
    api = api_client_for(siem_reap_cast.personnel_officer)
    response = post(api, PEOPLE, {**BODY, "unit": "NP-PP"})
    body = assert_error_shape(response, 403)
    assert "NP-PP" in body["detail"] and "jurisdiction" in body["detail"]
    assert not Person.objects.exists()
    assert post(api, PEOPLE, BODY).status_code == 201  # NP-SR-01 is within it


def test_create_is_refused_to_roles_that_do_not_keep_the_roster(api_client_for, cast, ranks):
    for role in ["commander", "lab_analyst", "analyst"]:
        response = post(api_client_for(cast[role]), PEOPLE, BODY)
        assert_error_shape(response, 403)
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"service_number": None}, "service_number"),
        ({"family_name": ""}, "family_name"),
        ({"given_name": None}, "given_name"),
        ({"unit": None}, "unit"),
        ({"sex": "X"}, "sex"),
        ({"date_of_birth": "1990-02-30"}, "date_of_birth"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"rank": "W1"}, "rank"),  # a prisons rank for a police unit
        ({"family_name": "x" * 101}, "family_name"),
        ({"family_name": "So\x00k"}, "family_name"),
        ({"family_name": "   "}, "family_name"),
        ({"national_id": "n" * 31}, "national_id"),
    ],
)
def test_invalid_input_is_422_naming_the_field(api_client_for, cast, ranks, change, field):
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    response = post(api_client_for(cast.personnel_officer), PEOPLE, body)
    assert_error_shape(response, 422)
    assert field in fields(response), response.json()
    assert not Person.objects.exists()


def test_national_id_of_another_person_is_422(api_client_for, cast, staff):
    Person.objects.filter(pk=staff["dara"].person_id).update(national_id="100200300")
    response = post(api_client_for(cast.personnel_officer), PEOPLE, BODY)
    assert_error_shape(response, 422)
    assert fields(response) == {"national_id"}


def test_a_repeat_with_the_same_idempotency_key_changes_nothing(api_client_for, cast, ranks):
    api = api_client_for(cast.personnel_officer)
    first = post(api, PEOPLE, BODY, HTTP_IDEMPOTENCY_KEY="k-1")
    again = post(api, PEOPLE, BODY, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Employment.objects.count() == 1


# --- GET /people ------------------------------------------------------------------------


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["service_number"] for item in response.json()["items"]]


def test_list_is_paginated_and_scoped(api_client_for, cast, siem_reap_cast, staff):
    api = api_client_for(cast.commander)
    body = api.get(PEOPLE).json()
    assert set(body) == {"items", "count"}
    assert body["count"] == 3
    assert [i["service_number"] for i in body["items"]] == ["NP-000002", "NP-000003", "NP-000001"]
    item = body["items"][1]
    assert item["id"] == staff["vichea"].pk and item["status"] == "suspended"
    assert item["unit"] == "NP-SR-01" and item["rank"] == "COL" and item["agency"] == "NP"

    page = api.get(PEOPLE, {"limit": 2, "offset": 1}).json()
    assert page["count"] == 3 and [i["service_number"] for i in page["items"]] == [
        "NP-000003",
        "NP-000001",
    ]
    assert api.get(PEOPLE, {"limit": 2, "offset": 3}).json() == {"items": [], "count": 3}
    assert_error_shape(api.get(PEOPLE, {"limit": 0}), 422)
    assert_error_shape(api.get(PEOPLE, {"limit": 100000}), 422)

    sr = api_client_for(siem_reap_cast.commander).get(PEOPLE).json()
    assert sr["count"] == 2
    assert {i["service_number"] for i in sr["items"]} == {"NP-000002", "NP-000003"}


def test_list_filters(api_client_for, cast, staff):
    api = api_client_for(cast.commander)
    assert numbers(api.get(PEOPLE, {"q": "sophea"})) == ["NP-000002"]
    assert numbers(api.get(PEOPLE, {"q": unicodedata.normalize("NFD", "សុខ ដារា")})) == ["NP-000001"]
    assert numbers(api.get(PEOPLE, {"q": "NP-000003"})) == ["NP-000003"]
    assert numbers(api.get(PEOPLE, {"unit": "NP-SR"})) == ["NP-000002", "NP-000003"]
    assert numbers(api.get(PEOPLE, {"status": "suspended"})) == ["NP-000003"]
    assert numbers(api.get(PEOPLE, {"rank": "COL"})) == ["NP-000003"]
    assert numbers(api.get(PEOPLE, {"sort": "-service_number"})) == [
        "NP-000003",
        "NP-000002",
        "NP-000001",
    ]
    for params, field in [
        ({"unit": "NOPE"}, "unit"),
        ({"status": "on_holiday"}, "status"),
        ({"sort": "salary"}, "sort"),
        ({"q": "So\x00k"}, "q"),
    ]:
        response = api.get(PEOPLE, params)
        assert_error_shape(response, 422)
        assert fields(response) == {field}


def test_list_filter_by_a_unit_outside_the_jurisdiction_is_422(
    api_client_for, siem_reap_cast, staff
):
    response = api_client_for(siem_reap_cast.commander).get(PEOPLE, {"unit": "NP-PP"})
    body = assert_error_shape(response, 422)
    assert "within your jurisdiction" in body["detail"]


def test_list_needs_authentication_and_the_permission(client, api_client_for, cast, staff):
    assert_error_shape(client.get(PEOPLE), 401)
    for role in ["lab_analyst", "analyst"]:
        assert_error_shape(api_client_for(cast[role]).get(PEOPLE), 403)


# --- one person -------------------------------------------------------------------------


def test_get_one_with_its_history(api_client_for, cast, staff):
    api = api_client_for(cast.commander)
    vichea = staff["vichea"]
    body = api.get(f"{PEOPLE}/{vichea.pk}").json()
    assert body["id"] == vichea.pk and body["family_name"] == "Keo"
    assert [s["status"] for s in body["status_history"]] == ["active", "suspended"]
    assert body["status_history"][1]["recorded_by"] == "registrar"
    assert [e["kind"] for e in body["employment_events"]] == ["started"]
    entry = AccessLogEntry.objects.get(object_type="personnel.person")
    assert entry.user == cast.commander and entry.object_id == str(vichea.person_id)


def test_get_one_outside_the_jurisdiction_is_404(api_client_for, siem_reap_cast, staff):
    api = api_client_for(siem_reap_cast.commander)
    for pk in [staff["dara"].pk, staff["bopha"].pk, 999999]:
        body = assert_error_shape(api.get(f"{PEOPLE}/{pk}"), 404)
        assert "within your jurisdiction" in body["detail"]
    assert api.get(f"{PEOPLE}/{staff['sophea'].pk}").status_code == 200


def test_patch_corrects_identity(api_client_for, cast, staff):
    api = api_client_for(cast.personnel_officer)
    url = f"{PEOPLE}/{staff['sophea'].pk}"
    response = patch(api, url, {"given_name": "Sophia", "sex": "F", "date_of_birth": "1991-02-03"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["given_name"] == "Sophia" and body["family_name"] == "Chan"
    assert body["sex"] == "F" and body["date_of_birth"] == "1991-02-03"
    assert AuditEntry.objects.filter(action="personnel.person_update").exists()
    response = patch(api, url, {"family_name": ""})
    assert_error_shape(response, 422)
    assert fields(response) == {"family_name"}
    assert Person.objects.get(pk=staff["sophea"].person_id).family_name == "Chan"


def test_patch_is_refused_out_of_role_or_scope(api_client_for, cast, siem_reap_cast, staff):
    url = f"{PEOPLE}/{staff['sophea'].pk}"
    assert_error_shape(patch(api_client_for(cast.commander), url, {"given_name": "X"}), 403)
    other = f"{PEOPLE}/{staff['dara'].pk}"
    sr_officer = api_client_for(siem_reap_cast.personnel_officer)
    assert_error_shape(patch(sr_officer, other, {"given_name": "X"}), 404)
    assert Person.objects.filter(given_name="X").count() == 0


# --- status and employment --------------------------------------------------------------


def test_status_change_is_201(api_client_for, cast, staff):
    api = api_client_for(cast.personnel_officer)
    url = f"{PEOPLE}/{staff['sophea'].pk}/status"
    body = {"status": "dismissed", "effective_date": "2024-03-01", "reason": "Drug test"}
    response = post(api, url, body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "dismissed" and created["person"] == staff["sophea"].pk
    assert created["recorded_by"] == cast.personnel_officer.username
    assert api.get(f"{PEOPLE}/{staff['sophea'].pk}").json()["status"] == "dismissed"


def test_status_rule_violations_are_422_naming_status(api_client_for, cast, staff):
    api = api_client_for(cast.personnel_officer)
    url = f"{PEOPLE}/{staff['sophea'].pk}/status"
    post(api, url, {"status": "dismissed", "effective_date": "2024-03-01", "reason": "Test"})
    count = StatusChange.objects.count()
    response = post(api, url, {"status": "active", "effective_date": "2024-05-01", "reason": "x"})
    body = assert_error_shape(response, 422)
    assert fields(response) == {"status"}
    assert "reinstatement" in body["detail"]
    response = post(api, url, {"status": "on_holiday", "effective_date": "2024-05-01"})
    assert_error_shape(response, 422)
    assert fields(response) == {"status"}
    response = post(api, url, {"status": "deceased", "effective_date": "2001-01-01", "reason": "x"})
    assert fields(response) == {"effective_date"}
    assert StatusChange.objects.count() == count
    response = post(
        api,
        url,
        {
            "status": "active",
            "effective_date": "2024-05-01",
            "reason": "Appeal won",
            "reinstatement": True,
        },
    )
    assert response.status_code == 201 and response.json()["reinstatement"] is True


def test_status_change_is_refused_out_of_role_or_scope(api_client_for, cast, siem_reap_cast, staff):
    body = {"status": "suspended", "effective_date": "2024-03-01", "reason": "x"}
    url = f"{PEOPLE}/{staff['sophea'].pk}/status"
    assert_error_shape(post(api_client_for(cast.commander), url, body), 403)
    other = f"{PEOPLE}/{staff['dara'].pk}/status"
    assert_error_shape(post(api_client_for(siem_reap_cast.personnel_officer), other, body), 404)
    assert StatusChange.objects.filter(status="suspended").count() == 1  # only the fixture's


def test_employment_change(api_client_for, cast, siem_reap_cast, staff):
    api = api_client_for(siem_reap_cast.personnel_officer)
    url = f"{PEOPLE}/{staff['sophea'].pk}/employment"
    response = post(
        api,
        url,
        {"unit": "NP-SR-01", "rank": "COL", "effective_date": "2024-02-01", "reference": "O-7"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["unit"] == "NP-SR-01" and body["rank"] == "COL"
    assert AuditEntry.objects.filter(action="personnel.employment_change").exists()

    response = post(api, url, {"unit": "NP-PP", "effective_date": "2024-03-01"})
    assert_error_shape(response, 403)
    response = post(api, url, {"unit": "NOPE", "effective_date": "2024-03-01"})
    assert_error_shape(response, 422)
    assert fields(response) == {"unit"}
    response = post(api, url, {"rank": "W1", "effective_date": "2024-03-01"})
    assert fields(response) == {"rank"}
    response = post(api, url, {"position": "Chief", "effective_date": "2001-01-01"})
    assert fields(response) == {"effective_date"}
    response = post(api, url, {"position": "Chief"})
    assert fields(response) == {"effective_date"}
    assert Employment.objects.get(pk=staff["sophea"].pk).unit.code == "NP-SR-01"


def test_path_ids_are_integers(api_client_for, cast, staff):
    api = api_client_for(cast.commander)
    assert_error_shape(api.get(f"{PEOPLE}/abc"), 404)
    schema = api.get("/api/v1/openapi.json").json()
    for path in [
        PEOPLE,
        f"{PEOPLE}/{{id}}",
        f"{PEOPLE}/{{id}}/status",
        f"{PEOPLE}/{{id}}/employment",
    ]:
        assert path in schema["paths"], path
