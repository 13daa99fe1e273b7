"""The organisation API against API.md: shape, pagination, scope, authentication."""

import pytest

from probity.org.services import laboratory_create, rank_create

pytestmark = pytest.mark.django_db


def test_units_need_authentication(client, org_tree):
    for url in ["/api/v1/units", "/api/v1/units/NP-HQ", "/api/v1/laboratories"]:
        response = client.get(url)
        assert response.status_code == 401, url
        body = response.json()
        assert body["detail"] and body["errors"] == []


def test_units_shape_and_pagination(api_client_for, cast):
    api = api_client_for(cast.commander)
    body = api.get("/api/v1/units").json()
    assert set(body) == {"items", "count"}
    assert body["count"] == 4
    assert [item["code"] for item in body["items"]] == ["NP-HQ", "NP-PP", "NP-SR", "NP-SR-01"]
    first = body["items"][0]
    assert first["name"] == "General Commissariat"
    assert first["name_km"] == "អគ្គស្នងការដ្ឋាន"
    assert first["agency"] == "NP" and first["parent"] is None and first["depth"] == 0
    district = body["items"][3]
    assert district["parent"] == "NP-SR" and district["province"] == "KH-17"
    assert district["district"]

    page = api.get("/api/v1/units", {"limit": 2, "offset": 1}).json()
    assert page["count"] == 4
    assert [item["code"] for item in page["items"]] == ["NP-PP", "NP-SR"]
    assert api.get("/api/v1/units", {"limit": 2, "offset": 4}).json() == {"items": [], "count": 4}


def test_units_filters(api_client_for, cast):
    api = api_client_for(cast.commander)
    codes = lambda params: [i["code"] for i in api.get("/api/v1/units", params).json()["items"]]  # noqa: E731
    assert codes({"province": "KH-17"}) == ["NP-SR", "NP-SR-01"]
    assert codes({"parent": "NP-HQ"}) == ["NP-PP", "NP-SR"]
    assert codes({"q": "phnom"}) == ["NP-PP"]
    assert codes({"agency": "GDP"}) == []


def test_units_are_scoped(api_client_for, siem_reap_cast):
    api = api_client_for(siem_reap_cast.commander)
    body = api.get("/api/v1/units").json()
    assert body["count"] == 2
    assert {item["code"] for item in body["items"]} == {"NP-SR", "NP-SR-01"}
    assert api.get("/api/v1/units/NP-SR").json()["code"] == "NP-SR"
    for code in ["NP-PP", "NP-HQ", "GDP-HQ", "NOPE"]:
        response = api.get(f"/api/v1/units/{code}")
        assert response.status_code == 404
        assert "within your jurisdiction" in response.json()["detail"]


def test_superuser_sees_every_unit(api_client_for, superuser, org_tree):
    body = api_client_for(superuser).get("/api/v1/units").json()
    assert body["count"] == 5


def test_unit_children(api_client_for, cast, siem_reap_cast):
    api = api_client_for(cast.commander)
    body = api.get("/api/v1/units/NP-HQ/children").json()
    assert [item["code"] for item in body["items"]] == ["NP-PP", "NP-SR"]
    assert body["count"] == 2
    assert body["items"][1]["child_count"] == 1
    sr_api = api_client_for(siem_reap_cast.commander)
    assert sr_api.get("/api/v1/units/NP-HQ/children").status_code == 404
    assert sr_api.get("/api/v1/units/NP-SR/children").json()["count"] == 1


def test_laboratories_need_the_permission(api_client_for, cast):
    laboratory_create(actor=None, code="LAB-A", name_en="Lab A", accreditation="ISO")
    laboratory_create(actor=None, code="LAB-B", name_en="Lab B")
    body = api_client_for(cast.lab_analyst).get("/api/v1/laboratories").json()
    assert body["count"] == 2
    assert body["items"][0]["code"] == "LAB-A" and body["items"][0]["name"] == "Lab A"
    assert body["items"][0]["accreditation"] == "ISO"
    limited = api_client_for(cast.collector).get("/api/v1/laboratories", {"limit": 1}).json()
    assert limited["count"] == 2 and len(limited["items"]) == 1
    response = api_client_for(cast.rehab_staff).get("/api/v1/laboratories")
    assert response.status_code == 403
    assert response.json()["detail"]


def test_agencies_ranks_and_provinces(api_client_for, org_tree, cast, siem_reap_cast):
    rank_create(actor=None, agency=org_tree.police, code="COL", name_en="Colonel", order=80)
    rank_create(actor=None, agency=org_tree.prisons, code="W1", name_en="Warden", order=10)
    api = api_client_for(siem_reap_cast.commander)
    agencies = api.get("/api/v1/agencies").json()
    assert agencies == {
        "items": [
            {
                "code": "NP",
                "name": "National Police",
                "name_en": "National Police",
                "name_km": "នគរបាលជាតិ",
                "kind": "police",
            }
        ],
        "count": 1,
    }
    ranks = api.get("/api/v1/ranks").json()
    assert [(r["agency"], r["code"]) for r in ranks["items"]] == [("NP", "COL")]
    provinces = api.get("/api/v1/provinces", {"limit": 100}).json()
    assert provinces["count"] == 25
    assert provinces["items"][11]["code"] == "KH-12"
    assert provinces["items"][11]["name_km"] == "រាជធានីភ្នំពេញ"


def test_openapi_lists_the_organisation_endpoints(api_client_for, cast):
    schema = api_client_for(cast.commander).get("/api/v1/openapi.json").json()
    for path in ["/api/v1/units", "/api/v1/units/{code}", "/api/v1/units/{code}/children"]:
        assert path in schema["paths"]
