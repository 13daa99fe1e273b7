"""A collector on a phone, in a real Chromium: open the session, collect a specimen for one
person, see its ID, record a refusal for another. Every page fits a 390 px wide screen
without horizontal scrolling and has no serious or critical accessibility problem."""

import re
from importlib import import_module

import pytest

from probity.testing.models import Collection
from probity.testing_support import build_cast, build_org_tree
from tests.test_browser import assert_accessible, ensure_reference_data, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def ensure_testing_reference_data() -> None:
    """Put back the specimen types and the default panel that a migration loads, if an
    earlier transactional test emptied the database (see ``ensure_reference_data``)."""
    from django.apps import apps

    from probity.testing.models import SpecimenType

    if not SpecimenType.objects.filter(code="urine").exists():
        import_module("probity.testing.migrations.0002_default_panel").load(apps, None)


@pytest.fixture
def worklist():  # listed before ``page``: see tests/conftest.py
    from probity.testing import services
    from probity.testing.tests.factories import make_session, people

    ensure_reference_data()
    ensure_testing_reference_data()
    tree = build_org_tree()
    collector = build_cast(tree, tree.np_root, suffix="")["collector"]
    session = make_session(actor=collector, unit=tree.phnom_penh, site="Phnom Penh station 3")
    first, second = people(tree.phnom_penh, 2)
    services.session_add_people(
        actor=collector, session=session, employments=[first, second], reason="census"
    )
    return {"collector": collector, "session": session, "first": first, "second": second}


@pytest.fixture
def phone(page, live_server):
    """A second browser context on the same Chromium, sized and behaving like a phone."""
    context = page.context.browser.new_context(
        base_url=live_server.url,
        locale="en-GB",
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    context.set_default_timeout(15_000)
    phone = context.new_page()
    phone.failed_static = []

    def note_missing_static(response):
        if "/static/" in response.url and response.status >= 400:
            phone.failed_static.append(f"{response.status} {response.url}")

    phone.on("response", note_missing_static)
    try:
        yield phone
    finally:
        context.close()


def assert_fits(page, where: str) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.evaluate("() => window.innerWidth")
    assert width <= viewport, f"{where} scrolls sideways: {width} px wide on a {viewport} px screen"


def test_collector_collects_and_records_a_refusal_on_a_phone(worklist, phone):
    first, second = worklist["first"].person, worklist["second"].person
    log_in(phone, worklist["collector"].username)
    assert "/accounts/login/" not in phone.url

    phone.goto("/testing/sessions/")
    assert_fits(phone, "the session list")
    assert_accessible(phone, "the session list")
    with phone.expect_navigation():
        phone.get_by_role("link", name=re.compile("Phnom Penh station 3")).first.click()
    assert_fits(phone, "the session page")
    assert_accessible(phone, "the session page")

    with phone.expect_navigation():
        phone.get_by_role("link", name=re.compile(rf"^Collect\W+{first.full_name}$")).click()
    assert first.full_name in phone.locator("main").inner_text()
    assert_fits(phone, "the collection form")

    # forgetting the confirmations: nothing is saved, the fields say why
    phone.get_by_label("I checked the donor's identity").check()
    phone.get_by_label("How the identity was checked").select_option("id_card")
    phone.get_by_label("Temperature (°C)").fill("34.5")
    phone.get_by_label("Volume in bottle A (mL)").fill("40")
    phone.get_by_label("Seal number of bottle A").fill("SA-7001")
    phone.get_by_label("Volume in bottle B (mL)").fill("20")
    phone.get_by_label("Seal number of bottle B").fill("SB-7002")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Record the collection").click()
    assert "Nothing was saved" in phone.locator("main").inner_text()
    assert "The collector must confirm the collection." in phone.locator("main").inner_text()
    assert_fits(phone, "the collection form with errors")
    assert_accessible(phone, "the collection form with errors")

    phone.get_by_label("I checked the donor's identity").check()
    phone.get_by_label("The donor confirms").check()
    phone.get_by_label("I confirm the collection was done as recorded").check()
    with phone.expect_navigation():
        phone.get_by_role("button", name="Record the collection").click()
    specimen_id = phone.locator("#specimen-id").inner_text().strip()
    collection = Collection.objects.get(employment=worklist["first"])
    assert specimen_id == collection.specimen_id
    assert phone.get_by_role("link", name="Bottle labels (PDF)").is_visible()
    assert_fits(phone, "the specimen page")
    assert_accessible(phone, "the specimen page")

    with phone.expect_navigation():
        phone.get_by_role("link", name="Back to the list: next person").click()
    assert specimen_id in phone.locator("main").inner_text()
    with phone.expect_navigation():
        phone.get_by_role("link", name=re.compile(rf"^Refusal\W+{second.full_name}$")).click()
    assert_fits(phone, "the refusal form")
    assert_accessible(phone, "the refusal form")
    phone.get_by_label("Did not appear").check()
    phone.get_by_label("What happened").fill("Not at the station at 09:00 or 11:00.")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Record the refusal").click()
    text = phone.locator("main").inner_text()
    assert "Refusal recorded" in text
    assert "Refused at collection" in text
    assert_fits(phone, "the session page after a refusal")
    assert_accessible(phone, "the session page after a refusal")

    refusal = Collection.objects.get(employment=worklist["second"])
    assert refusal.state == Collection.State.REFUSED
    assert refusal.refusal_reason == "no_show"
    assert not phone.failed_static, phone.failed_static
