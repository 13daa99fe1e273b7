"""End to end in a real Chromium: log in, the home page, the switch to Khmer, and no serious
or critical accessibility problems (axe-core) on the pages a new user sees first."""

from importlib import import_module

import pytest
from django.utils import translation
from django.utils.translation import gettext

from probity.testing_support import PASSWORD, build_cast, build_org_tree
from tests.conftest import axe_violations, describe

# The live server needs committed data, hence transactional tests (the database is emptied
# after each one).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HQ_KM = "អគ្គស្នងការដ្ឋាន"  # the General Commissariat, in Khmer


def ensure_reference_data() -> None:
    """Put back the provinces and districts that a migration loads, if an earlier
    transactional test emptied the database. (``serialized_rollback`` cannot do it: the flush
    of a transactional test without it recreates content types under new ids, and restoring
    the serialised ones then collides with them.)"""
    from django.apps import apps

    from probity.org.models import Province

    if not Province.objects.exists():
        migration = import_module("probity.org.migrations.0002_provinces_and_districts")
        migration.load(apps, None)  # idempotent: update_or_create by code


@pytest.fixture
def commander():  # listed before ``page`` in the tests: see tests/conftest.py
    ensure_reference_data()
    tree = build_org_tree()
    return build_cast(tree, tree.np_root, suffix="")["commander"]


def assert_accessible(page, where: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe found problems on {where}:\n{describe(violations)}"


def log_in(page, username: str) -> None:
    page.goto("/")
    page.wait_for_url("**/accounts/login/**")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_log_in_switch_to_khmer_and_accessibility(commander, page):
    page.goto("/")
    assert "/accounts/login/" in page.url  # deny by default
    assert page.locator("html").get_attribute("lang") == "en"
    assert_accessible(page, "the log-in page")

    log_in(page, commander.username)
    assert "/accounts/login/" not in page.url
    assert page.locator("h1").inner_text().startswith("Welcome")
    assert "General Commissariat" in page.locator("main").inner_text()
    assert_accessible(page, "the home page (English)")

    with page.expect_navigation():
        page.select_option("#language-select", "km")
    assert page.locator("html").get_attribute("lang") == "km"
    assert HQ_KM in page.locator("main").inner_text()
    with translation.override("km"):
        organisation_km = gettext("Organisation")
    assert organisation_km != "Organisation"  # the Khmer catalogue has it
    assert organisation_km in page.locator("nav").inner_text()
    assert_accessible(page, "the home page (Khmer)")

    # the choice is remembered: a new page load stays in Khmer
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "km"
    assert not page.failed_static, page.failed_static


def test_organisation_tree_is_accessible(commander, page):
    log_in(page, commander.username)
    assert "/accounts/login/" not in page.url
    page.goto("/org/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "General Commissariat" in page.locator("main").inner_text()
    assert_accessible(page, "the organisation tree")
    assert not page.failed_static, page.failed_static
