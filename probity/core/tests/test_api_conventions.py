"""The API conventions of API.md, implemented once in probity/core: error shape, status
codes, pagination, the OpenAPI schema and offline docs, and no 5xx from bad input."""

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db

ERROR_MIDDLEWARE = "probity.core.middleware.ApiErrorShapeMiddleware"


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], list)
    return body


@pytest.fixture
def commander(cast, api_client_for):
    return api_client_for(cast.commander)


# --- 401, 403, 404 ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/units", "/api/v1/me", "/api/v1/units/NP-HQ"])
def test_no_authentication_is_401(client, org_tree, path):
    assert_error(client.get(path), 401)


def test_unknown_token_is_401(client, org_tree):
    response = client.get("/api/v1/units", HTTP_AUTHORIZATION="Bearer not-a-real-token")
    assert_error(response, 401)


def test_missing_role_is_403(cast, api_client_for):
    assert_error(api_client_for(cast.commander).get("/api/v1/audit/verify"), 403)
    assert_error(api_client_for(cast.rehab_staff).get("/api/v1/laboratories"), 403)


def test_unknown_unit_is_404(commander):
    body = assert_error(commander.get("/api/v1/units/NOPE"), 404)
    assert "NOPE" in body["detail"]


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_route_is_404(commander, client, method):
    assert_error(getattr(commander, method)("/api/v1/nope"), 404)
    assert_error(getattr(client, method)("/api/v1/nope"), 404)
    assert_error(commander.get("/api/v1/units/NP-HQ/nope"), 404)


@pytest.fixture
def error_shape_middleware(settings):
    """``ApiErrorShapeMiddleware`` installed right after ``RequestIdMiddleware``."""
    if ERROR_MIDDLEWARE not in settings.MIDDLEWARE:
        middleware = list(settings.MIDDLEWARE)
        middleware.insert(
            middleware.index("probity.core.middleware.RequestIdMiddleware") + 1, ERROR_MIDDLEWARE
        )
        settings.MIDDLEWARE = middleware


def test_method_not_allowed_is_405_in_the_error_shape(commander, error_shape_middleware):
    response = commander.delete("/api/v1/units")
    assert_error(response, 405)
    assert "GET" in response["Allow"]


def test_error_shape_middleware_leaves_json_and_pages_alone(
    commander, client, error_shape_middleware
):
    body = assert_error(commander.get("/api/v1/units/NOPE"), 404)
    assert "NOPE" in body["detail"]  # the endpoint's own message is kept
    page = client.get("/accounts/nope/")
    assert not page["Content-Type"].startswith("application/json")


# --- 422 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("limit=-5", "limit"),
        (f"limit={settings.NINJA_PAGINATION_MAX_LIMIT + 1}", "limit"),
        ("offset=-1", "offset"),
        ("offset=abc", "offset"),
        ("offset=100000000000000000000", "offset"),
        ("limit=1.5", "limit"),
    ],
)
def test_bad_query_parameter_is_422_naming_it(commander, query, field):
    body = assert_error(commander.get(f"/api/v1/units?{query}"), 422)
    assert body["errors"][0]["field"] == field
    assert body["errors"][0]["message"]
    assert field in body["detail"]


# --- pagination -------------------------------------------------------------------------


def test_lists_are_items_and_count_with_limit_and_offset(commander):
    everything = commander.get("/api/v1/units?limit=500").json()
    assert set(everything) == {"items", "count"}
    total = everything["count"]
    assert total == len(everything["items"]) >= 3
    codes = [unit["code"] for unit in everything["items"]]

    first = commander.get("/api/v1/units?limit=2").json()
    assert first["count"] == total
    assert [u["code"] for u in first["items"]] == codes[:2]
    second = commander.get("/api/v1/units?limit=2&offset=2").json()
    assert [u["code"] for u in second["items"]] == codes[2:4]
    beyond = commander.get(f"/api/v1/units?limit=2&offset={total}").json()
    assert beyond == {"items": [], "count": total}
    for unit in first["items"]:
        assert {"code", "name"} <= set(unit)


def test_default_page_size(commander):
    assert len(commander.get("/api/v1/units").json()["items"]) <= (
        settings.NINJA_PAGINATION_PER_PAGE
    )


@pytest.mark.urls("probity.core.tests.idempotency_urls")
def test_core_pagination_bounds_offset(commander):
    assert commander.get("/api/test/entries?offset=1000000000").json()["items"] == []
    body = assert_error(commander.get("/api/test/entries?offset=1000000001"), 422)
    assert body["errors"][0]["field"] == "offset"


# --- OpenAPI and docs -------------------------------------------------------------------


def test_openapi_schema_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/units" in schema["paths"]
    assert "/api/v1/audit/verify" in schema["paths"]


def test_docs_load_without_internet(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), html
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert assets
    for asset in assets:
        assert asset.startswith(settings.STATIC_URL), asset
        name = re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", asset[len(settings.STATIC_URL) :])
        assert finders.find(name), f"{name} is not among the static files"
    assert "/api/v1/openapi.json" in html


# --- no 5xx from bad input --------------------------------------------------------------

ODD_VALUES = [
    "\x00",
    "a\x00b",
    "'; DROP TABLE org_unit; --",
    "%",
    "_",
    "\\",
    "ក្រុម",
    "\U0001f600",
    "x" * 5000,
    " ",
    "NP-HQ\n",
]


@pytest.mark.parametrize("value", ODD_VALUES)
@pytest.mark.parametrize("param", ["q", "agency", "parent", "province"])
def test_odd_query_values_never_fail(commander, param, value):
    response = commander.get("/api/v1/units", {param: value})
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert_error(response, response.status_code)


@pytest.mark.parametrize("value", ["%00", "a%00b", "x" * 2000, "%F0%9F%98%80", "..%2F..", "%25"])
def test_odd_path_values_never_fail(commander, value):
    response = commander.get(f"/api/v1/units/{value}")
    assert response.status_code < 500, response.content
    assert_error(response, response.status_code)


@pytest.mark.urls("probity.core.tests.idempotency_urls")
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{bad json", "application/json"),
        ("", "application/json"),
        ("[]", "application/json"),
        ('"text"', "application/json"),
        ('{"text": 5}', "application/json"),
        ('{"text": null}', "application/json"),
        ('{"text": "' + "x" * 300 + '"}', "application/json"),
        ("text=hello", "application/x-www-form-urlencoded"),
        ("\xff\xfe", "application/json"),
    ],
)
def test_bad_bodies_are_4xx(commander, body, content_type):
    response = commander.post("/api/test/notes", data=body, content_type=content_type)
    assert 400 <= response.status_code < 500, response.content
    assert_error(response, response.status_code)


@pytest.mark.urls("probity.core.tests.idempotency_urls")
@pytest.mark.parametrize("seq", ["99999999999999999999999", "-1", "abc", "1e3"])
def test_odd_integer_path_values_never_fail(commander, seq):
    response = commander.get(f"/api/test/entries/{seq}")
    assert 400 <= response.status_code < 500, response.content
    assert_error(response, response.status_code)
