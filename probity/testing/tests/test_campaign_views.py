"""The programme's pages: panels, campaigns, draws and laboratory staff.

Each page both ways (the roles that may see it, and those refused), each form through its
service with the errors shown and nothing written, the published draw from commitment to
verification, and a campaign page whose query count does not grow with the data.
"""

import gzip
import hashlib
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from probity.audit.models import AuditEntry
from probity.org.models import Laboratory, Province
from probity.org.services import laboratory_create
from probity.testing import rules, services
from probity.testing.campaign_views import CHECK_LABELS
from probity.testing.models import (
    Campaign,
    Draw,
    LaboratoryStaff,
    Panel,
    PanelVersion,
    Selection,
)
from probity.testing.tests import factories

pytestmark = pytest.mark.django_db

SEED = "ab" * 16  # a ceremony's seed: 32 hex digits


def body(response) -> str:
    return response.content.decode()


def get(client, user, name, *args, **params):
    client.force_login(user)
    return client.get(reverse(f"testing:{name}", args=args), params)


def post(client, user, name, *args, data=None):
    client.force_login(user)
    return client.post(reverse(f"testing:{name}", args=args), data or {})


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def programme(org_tree, cast):
    """An active random campaign over the whole police with 12 people and a drawn draw, and
    a draft census campaign."""
    factories.people(org_tree.phnom_penh, 6)
    factories.people(org_tree.siem_reap_district, 6)
    pm = cast.programme_manager
    random = factories.make_campaign(
        actor=pm, unit=org_tree.np_root, code="NP-R1", name_en="Random round", alternates=2
    )
    draw = factories.make_draw(actor=pm, campaign=random, seed=SEED)
    census = factories.make_campaign(
        actor=pm,
        unit=org_tree.np_root,
        mode=Campaign.Mode.CENSUS,
        start=False,
        code="NP-C1",
        name_en="Census",
    )
    return SimpleNamespace(random=random, draw=draw, census=census, pm=pm)


def selected(draw, kind=Selection.Kind.SELECTED):
    return list(draw.selections.filter(kind=kind).order_by("position"))


# --- who sees what --------------------------------------------------------------------------

ROLES = ["programme_manager", "auditor", "administrator", "collector", "commander", "lab_analyst"]

# page -> the roles that may open it (every other role of ROLES is refused with 403).
ALLOWED = {
    "panels": {"programme_manager", "auditor", "administrator", "collector", "lab_analyst"},
    "panel": {"programme_manager", "auditor", "administrator", "collector", "lab_analyst"},
    "panel_add": {"administrator"},
    "panel_version_add": {"administrator"},
    "panel_assign": {"administrator"},
    "campaigns": {"programme_manager", "auditor", "collector"},
    "campaign": {"programme_manager", "auditor", "collector"},
    "campaign_add": {"programme_manager"},
    "campaign_edit": {"programme_manager"},
    "campaign_cancel": {"programme_manager"},
    "draw_commit": {"programme_manager"},
    "draw": {"programme_manager", "auditor"},
    "draw_verify": {"programme_manager", "auditor"},
    "draw_pool": {"programme_manager", "auditor"},
    "lab_staff": {"administrator"},
}


def _args(name, programme):
    panel = Panel.objects.get(is_default=True)
    return {
        "panel": [panel.pk],
        "panel_version_add": [panel.pk],
        "panel_assign": [panel.pk],
        "campaign": [programme.random.pk],
        "campaign_edit": [programme.census.pk],
        "campaign_cancel": [programme.census.pk],
        "draw_commit": [programme.random.pk],
        "draw": [programme.draw.pk],
        "draw_verify": [programme.draw.pk],
        "draw_pool": [programme.draw.pk],
    }.get(name, [])


@pytest.mark.parametrize("role", ROLES)
def test_each_page_opens_for_the_roles_that_may_see_it_and_no_other(client, cast, programme, role):
    user = cast[role]
    for name, allowed in ALLOWED.items():
        response = get(client, user, name, *_args(name, programme))
        expected = 200 if role in allowed else 403
        assert response.status_code == expected, (name, role, response.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_posts_are_refused_to_roles_without_the_right(client, cast, programme, role):
    """Nobody but the programme manager starts, cancels, draws or excuses; nobody but the
    administrator changes panels or laboratory staff."""
    if role == "programme_manager":
        return
    user = cast[role]
    client.force_login(user)
    draw = services.draw_commit(actor=programme.pm, campaign=programme.random)
    first = selected(programme.draw)[0]
    panel = Panel.objects.get(is_default=True)
    attempts = [
        ("campaign_start", [programme.census.pk], {}),
        ("campaign_complete", [programme.random.pk], {}),
        ("campaign_cancel", [programme.census.pk], {"reason": "no"}),
        ("draw_perform", [draw.pk], {}),
        ("selection_excuse", [first.pk], {"reason": "on leave"}),
    ]
    if role != "administrator":
        attempts += [
            ("panel_assign", [panel.pk], {"is_default": "on"}),
            ("lab_staff", [], {}),
        ]
    for name, args, data in attempts:
        response = client.post(reverse(f"testing:{name}", args=args), data)
        assert response.status_code in (403, 404), (name, role)
    programme.census.refresh_from_db()
    draw.refresh_from_db()
    first.refresh_from_db()
    assert programme.census.state == Campaign.State.DRAFT
    assert draw.state == Draw.State.COMMITTED
    assert not first.excused


def test_anonymous_is_sent_to_log_in(client, programme):
    response = client.get(reverse("testing:campaign", args=[programme.random.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_commanders_never_learn_who_was_drawn(client, cast, siem_reap_cast, programme):
    for commander in (cast.commander, siem_reap_cast.commander):
        client.force_login(commander)
        for url in [
            reverse("testing:draw", args=[programme.draw.pk]),
            reverse("testing:draw_verify", args=[programme.draw.pk]),
            reverse("testing:draw_pool", args=[programme.draw.pk]),
            reverse("testing:campaign", args=[programme.random.pk]),
            reverse("testing:campaigns"),
        ]:
            response = client.get(url)
            assert response.status_code in (403, 404), url
            number = selected(programme.draw)[0].employment.service_number
            assert number not in body(response)


def test_collectors_see_the_campaign_but_not_its_draws(client, cast, programme):
    response = get(client, cast.collector, "campaign", programme.random.pk)
    assert response.status_code == 200
    text = body(response)
    assert reverse("testing:draw", args=[programme.draw.pk]) not in text
    assert programme.draw.seed_hash not in text
    assert "Progress" in text


def test_out_of_scope_is_not_found(client, org_tree, cast, siem_reap_cast, programme):
    """A Siem Reap programme manager sees the national campaign that covers them, but not
    its draws (organised above them), and not a Phnom Penh campaign at all."""
    pm_sr = siem_reap_cast.programme_manager
    assert get(client, pm_sr, "campaign", programme.random.pk).status_code == 200
    assert get(client, pm_sr, "draw", programme.draw.pk).status_code == 404
    assert get(client, pm_sr, "draw_verify", programme.draw.pk).status_code == 404
    assert get(client, pm_sr, "draw_pool", programme.draw.pk).status_code == 404
    assert get(client, pm_sr, "draw_commit", programme.random.pk).status_code == 403
    assert post(client, pm_sr, "campaign_start", programme.census.pk).status_code == 403
    phnom_penh = factories.make_campaign(actor=cast.programme_manager, unit=org_tree.phnom_penh)
    assert get(client, pm_sr, "campaign", phnom_penh.pk).status_code == 404
    codes = body(get(client, pm_sr, "campaigns"))
    assert "NP-R1" in codes and phnom_penh.code not in codes


@pytest.mark.parametrize(
    "url",
    [
        "/testing/campaigns/999999/",
        "/testing/campaigns/999999/edit/",
        "/testing/campaigns/999999/progress/",
        "/testing/campaigns/999999/draws/new/",
        "/testing/draws/999999/",
        "/testing/draws/999999/verify/",
        "/testing/draws/999999/pool.txt",
        "/testing/panels/999999/",
        "/testing/panels/999999/versions/new/",
    ],
)
def test_odd_ids_are_not_found(client, cast, programme, url):
    user = cast.administrator if "panels" in url else cast.programme_manager
    client.force_login(user)
    assert client.get(url).status_code == 404


def test_odd_posts_are_not_found_or_not_allowed(client, cast, programme):
    client.force_login(cast.programme_manager)
    assert client.post("/testing/selections/999999/excuse/", {"reason": "x"}).status_code == 404
    assert client.post("/testing/draws/999999/perform/").status_code == 404
    assert (
        client.get(reverse("testing:campaign_start", args=[programme.census.pk])).status_code == 405
    )
    assert client.get("/testing/campaigns/abc/").status_code == 404
    client.force_login(cast.administrator)
    assert client.post("/testing/laboratory-staff/999999/remove/").status_code == 404


def test_navigation_by_role(client, cast):
    client.force_login(cast.programme_manager)
    text = body(client.get(reverse("home")))
    assert reverse("testing:campaigns") in text and reverse("testing:panels") not in text
    client.force_login(cast.administrator)
    text = body(client.get(reverse("home")))
    assert reverse("testing:panels") in text and reverse("testing:campaigns") not in text
    client.force_login(cast.commander)
    text = body(client.get(reverse("home")))
    assert "/testing/" not in text


# --- campaigns ------------------------------------------------------------------------------


def campaign_data(org_tree, **overrides):
    today = timezone.localdate()
    data = {
        "code": "NP-2026-R2",
        "name_en": "Second round",
        "name_km": "ជុំទីពីរ",
        "unit": org_tree.np_root.code,
        "scope_units": f"{org_tree.siem_reap.code}, {org_tree.phnom_penh.code}",
        "provinces": ["KH-17"],
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=180)).isoformat(),
        "mode": "random",
        "rate_percent": "25",
        "frequency": "monthly",
        "target_coverage_percent": "50",
        "by_unit": "on",
        "alternates": "3",
        "panel": "",
        "depends_on": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_campaign_list_filters_by_state(client, cast, programme):
    text = body(get(client, cast.programme_manager, "campaigns"))
    assert "NP-R1" in text and "NP-C1" in text
    text = body(get(client, cast.programme_manager, "campaigns", state="draft"))
    assert "NP-C1" in text and "NP-R1" not in text
    text = body(get(client, cast.programme_manager, "campaigns", q="random"))
    assert "NP-R1" in text and "NP-C1" not in text
    response = get(client, cast.programme_manager, "campaigns", state="bogus")
    assert response.status_code == 200
    assert "NP-R1" not in body(response) and "Select a valid choice" in body(response)


def test_create_a_campaign_through_the_form(client, org_tree, cast, programme):
    pm = cast.programme_manager
    form_page = get(client, pm, "campaign_add")
    assert form_page.status_code == 200
    data = campaign_data(org_tree, depends_on="NP-C1")
    response = post(client, pm, "campaign_add", data=data)
    campaign = Campaign.objects.get(code="NP-2026-R2")
    assert response.status_code == 302
    assert response["Location"] == reverse("testing:campaign", args=[campaign.pk])
    assert campaign.agency == org_tree.police
    assert campaign.unit == org_tree.np_root
    assert campaign.name_km == "ជុំទីពីរ"
    assert sorted(campaign.scope_units.values_list("code", flat=True)) == ["NP-PP", "NP-SR"]
    assert list(campaign.provinces.values_list("code", flat=True)) == ["KH-17"]
    assert campaign.rate_percent == Decimal("25")
    assert campaign.by_unit and campaign.alternates == 3
    assert campaign.depends_on == programme.census
    assert campaign.state == Campaign.State.DRAFT and campaign.created_by == pm
    assert AuditEntry.objects.filter(action="testing.campaign_create", actor=pm).exists()
    text = body(client.get(response["Location"]))
    assert "Second round" in text and "Siem Reap Commissariat" in text


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"code": "", "name_en": ""}, "This field is required."),
        ({"starts_on": "2026-02-30"}, "Enter a valid date."),
        ({"ends_on": "2020-01-01"}, "The campaign cannot end before it starts."),
        ({"scope_units": "NP-SR, NOPE-1"}, "No unit with code NOPE-1."),
        ({"scope_units": "GDP-HQ"}, "Unit GDP-HQ is not under the organising unit."),
        ({"mode": "census"}, "Only a random campaign has a rate per draw."),
        ({"rate_percent": ""}, "A random campaign needs a rate per draw above 0 and up to 100"),
        ({"rate_percent": "250"}, "Ensure this value is less than or equal to 100."),
        ({"rate_percent": "abc"}, "Enter a number."),
        ({"target_coverage_percent": "0"}, "Ensure this value is greater than or equal to 0.01"),
        ({"code": "NP-R1"}, "A campaign with code NP-R1 already exists."),
        ({"unit": "NP-NOWHERE"}, "Select a valid choice."),
        ({"depends_on": "NO-SUCH"}, "Select a valid choice."),
        ({"provinces": ["XX-99"]}, "Select a valid choice."),
        ({"alternates": "-1"}, "Ensure this value is greater than or equal to 0."),
    ],
)
def test_campaign_form_errors_write_nothing(
    client, org_tree, cast, programme, overrides, field_error
):
    before = Campaign.objects.count()
    response = post(
        client, cast.programme_manager, "campaign_add", data=campaign_data(org_tree, **overrides)
    )
    assert response.status_code == 200
    text = body(response)
    assert "Nothing was saved" in text
    assert field_error in text
    assert Campaign.objects.count() == before


def test_a_unit_outside_the_jurisdiction_cannot_organise(client, org_tree, siem_reap_cast):
    pm = siem_reap_cast.programme_manager
    form = get(client, pm, "campaign_add").context["form"]
    assert set(form.fields["unit"].queryset.values_list("code", flat=True)) == {
        "NP-SR",
        "NP-SR-01",
    }
    data = campaign_data(org_tree, unit=org_tree.np_root.code, scope_units="")
    response = post(client, pm, "campaign_add", data=data)
    assert response.status_code == 200
    assert "Select a valid choice" in body(response)
    assert not Campaign.objects.filter(code="NP-2026-R2").exists()


def test_edit_a_draft_and_not_a_started_campaign(client, org_tree, cast, programme):
    pm = cast.programme_manager
    page = get(client, pm, "campaign_edit", programme.census.pk)
    assert page.status_code == 200 and "NP-C1" in body(page)
    data = campaign_data(
        org_tree,
        code=None,
        name_en="Census, renamed",
        mode="census",
        rate_percent="",
        scope_units="NP-SR",
        provinces=[],
        by_unit="",
    )
    data.pop("by_unit")
    response = post(client, pm, "campaign_edit", programme.census.pk, data=data)
    assert response.status_code == 302
    programme.census.refresh_from_db()
    assert programme.census.name_en == "Census, renamed"
    assert list(programme.census.scope_units.values_list("code", flat=True)) == ["NP-SR"]
    assert programme.census.code == "NP-C1"
    response = get(client, pm, "campaign_edit", programme.random.pk)
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert "Only a draft campaign can be changed" in body(response)


def test_dependency_refusal_is_shown_before_and_after_the_click(client, org_tree, cast):
    pm = cast.programme_manager
    first = factories.make_campaign(
        actor=pm, unit=org_tree.np_root, code="FIRST", name_en="First", start=False
    )
    second = factories.make_campaign(
        actor=pm, unit=org_tree.np_root, code="SECOND", start=False, depends_on=first
    )
    expected = services.campaign_start_error(second)
    assert "FIRST" in expected
    text = body(get(client, pm, "campaign", second.pk))
    assert expected in text
    assert 'disabled aria-describedby="start-error"' in text
    response = post(client, pm, "campaign_start", second.pk)
    assert response.status_code == 302
    assert expected in body(client.get(response["Location"]))
    second.refresh_from_db()
    assert second.state == Campaign.State.DRAFT

    post(client, pm, "campaign_start", first.pk)
    post(client, pm, "campaign_complete", first.pk)
    first.refresh_from_db()
    assert first.state == Campaign.State.COMPLETE
    assert "cannot start yet" not in body(get(client, pm, "campaign", second.pk))
    response = post(client, pm, "campaign_start", second.pk)
    assert "Campaign SECOND has started." in body(client.get(response["Location"]))
    second.refresh_from_db()
    assert second.state == Campaign.State.ACTIVE


def test_start_and_complete(client, cast, programme):
    pm = cast.programme_manager
    response = post(client, pm, "campaign_complete", programme.census.pk)
    assert "Only an active campaign can be completed." in body(client.get(response["Location"]))
    post(client, pm, "campaign_start", programme.census.pk)
    programme.census.refresh_from_db()
    assert programme.census.state == Campaign.State.ACTIVE
    assert programme.census.started_at is not None
    text = body(get(client, pm, "campaign", programme.census.pk))
    assert reverse("testing:campaign_complete", args=[programme.census.pk]) in text
    assert reverse("testing:campaign_start", args=[programme.census.pk]) not in text
    post(client, pm, "campaign_complete", programme.census.pk)
    programme.census.refresh_from_db()
    assert programme.census.state == Campaign.State.COMPLETE


def test_cancel_needs_a_reason(client, cast, programme):
    pm = cast.programme_manager
    response = post(client, pm, "campaign_cancel", programme.census.pk, data={"reason": "  "})
    assert response.status_code == 200
    assert "Say why the campaign is cancelled." in body(response)
    programme.census.refresh_from_db()
    assert programme.census.state == Campaign.State.DRAFT
    response = post(
        client, pm, "campaign_cancel", programme.census.pk, data={"reason": "Budget withdrawn"}
    )
    assert response.status_code == 302
    programme.census.refresh_from_db()
    assert programme.census.state == Campaign.State.CANCELLED


def test_progress_counts_and_refreshes(client, org_tree, cast, programme):
    pm = cast.programme_manager
    text = body(get(client, pm, "campaign", programme.random.pk))
    assert 'hx-trigger="every 30s"' in text
    assert reverse("testing:campaign_progress", args=[programme.random.pk]) in text
    # Collect one selected person: the htmx partial shows it.
    person = selected(programme.draw)[0]
    factories.make_collection(
        actor=cast.collector,
        employment=person.employment,
        selection=person,
        campaign=programme.random,
    )
    client.force_login(pm)
    url = reverse("testing:campaign_progress", args=[programme.random.pk])
    partial = client.get(url, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    fragment = body(partial)
    assert fragment.lstrip().startswith('<section id="progress"')
    assert "<html" not in fragment

    def figure(label):
        return f'<div class="fs-5 fw-bold">{{}}</div><div class="small">{label}</div>'

    assert figure("Eligible").format(12) in fragment
    assert figure("Collected").format(1) in fragment
    assert figure("To test").format(programme.draw.sample_size) in fragment
    assert "NP-PP" in fragment and "NP-SR-01" in fragment
    # Without htmx: the campaign page.
    plain = client.get(url)
    assert plain.status_code == 302 and plain["Location"].endswith("#progress")


def test_the_campaign_page_costs_the_same_queries_whatever_the_data(client, org_tree, cast):
    pm = cast.programme_manager

    def build(code, n):
        unit = factories.people(org_tree.phnom_penh, n)[0].unit
        campaign = factories.make_campaign(actor=pm, unit=unit, code=code, alternates=2)
        for _ in range(1 if n < 10 else 3):
            draw = factories.make_draw(actor=pm, campaign=campaign)
            first = draw.selections.filter(kind=Selection.Kind.SELECTED).first()
            services.selection_excuse(actor=pm, selection=first, reason="Sick leave")
        return campaign

    small, large = build("SMALL", 3), build("LARGE", 30)
    factories.people(org_tree.siem_reap_district, 10)
    client.force_login(pm)
    counts = []
    for campaign in (small, large):
        url = reverse("testing:campaign", args=[campaign.pk])
        client.get(url)  # warm the session
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_draw_page_costs_the_same_queries_whatever_the_draw(client, org_tree, cast):
    pm = cast.programme_manager
    counts = []
    for code, n in (("D-SMALL", 4), ("D-LARGE", 40)):
        unit = factories.people(org_tree.phnom_penh, n)[0].unit
        campaign = factories.make_campaign(actor=pm, unit=unit, code=code, alternates=2)
        draw = factories.make_draw(actor=pm, campaign=campaign)
        first = draw.selections.filter(kind=Selection.Kind.SELECTED).first()
        services.selection_excuse(actor=pm, selection=first, reason="Sick leave")
        url = reverse("testing:draw", args=[draw.pk])
        client.force_login(pm)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


# --- draws ----------------------------------------------------------------------------------


def test_commit_shows_the_hash_and_hides_the_seed(client, cast, programme):
    pm = cast.programme_manager
    assert get(client, pm, "draw_commit", programme.random.pk).status_code == 200
    seed = "0123456789abcdef" * 2
    response = post(client, pm, "draw_commit", programme.random.pk, data={"seed": seed.upper()})
    draw = Draw.objects.get(campaign=programme.random, number=2)
    assert response.status_code == 302
    assert response["Location"] == reverse("testing:draw", args=[draw.pk])
    assert draw.state == Draw.State.COMMITTED and draw.seed == seed
    text = body(client.get(response["Location"]))
    assert rules.seed_commitment(seed) in text
    assert seed not in text
    assert "Make the draw now" in text
    campaign_page = body(get(client, pm, "campaign", programme.random.pk))
    assert seed not in campaign_page
    assert "the draw is still to be made" in campaign_page
    # Another commitment must wait for this draw.
    assert reverse("testing:draw_commit", args=[programme.random.pk]) not in campaign_page
    # The auditor sees the hash, not the seed, and no button.
    auditor_page = body(get(client, cast.auditor, "draw", draw.pk))
    assert rules.seed_commitment(seed) in auditor_page and seed not in auditor_page
    assert "Make the draw now" not in auditor_page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"seed": "xyz"}, "A seed is 16 to 128 characters."),
        ({"seed": "g" * 32}, "A seed is written in lower-case hexadecimal digits"),
        ({"rate_percent": "0"}, "Ensure this value is greater than or equal to 0.01."),
        ({"sample_size": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"rate_percent": "5", "sample_size": "3"}, "Give either a rate or a number of people"),
        ({"sample_size": "many"}, "Enter a whole number."),
    ],
)
def test_commit_errors_write_nothing(client, cast, programme, data, message):
    response = post(client, cast.programme_manager, "draw_commit", programme.random.pk, data=data)
    assert response.status_code == 200
    assert message in body(response)
    assert programme.random.draws.count() == 1


def test_no_draw_for_a_census_campaign(client, cast, programme):
    post(client, cast.programme_manager, "campaign_start", programme.census.pk)
    response = post(client, cast.programme_manager, "draw_commit", programme.census.pk)
    assert response.status_code == 200
    assert "Only a random campaign has draws" in body(response)
    assert not Draw.objects.filter(campaign=programme.census).exists()


def test_perform_reveals_the_seed_and_lists_the_selection_in_order(client, cast, programme):
    pm = cast.programme_manager
    draw = services.draw_commit(actor=pm, campaign=programme.random, seed=SEED[::-1])
    response = post(client, pm, "draw_perform", draw.pk)
    assert response.status_code == 302
    draw.refresh_from_db()
    assert draw.state == Draw.State.DRAWN
    page = client.get(response["Location"])
    text = body(page)
    assert draw.seed in text and draw.pool_digest in text
    assert "was made" in text
    numbers = [s.employment.service_number for s in selected(draw)]
    assert numbers and all(n in text for n in numbers)
    positions = [text.index(n) for n in numbers]
    assert positions == sorted(positions)
    for alternate in selected(draw, Selection.Kind.ALTERNATE):
        assert alternate.employment.service_number in text
    # A second click does not draw again.
    response = post(client, pm, "draw_perform", draw.pk)
    assert "This draw has already been made." in body(client.get(response["Location"]))
    assert draw.selections.filter(kind=Selection.Kind.SELECTED).count() == len(numbers)


def test_excuse_with_and_without_a_reason(client, cast, programme):
    pm = cast.programme_manager
    person = selected(programme.draw)[0]
    response = post(client, pm, "selection_excuse", person.pk, data={"reason": "   "})
    assert response.status_code == 200
    assert "An excusal needs its reason." in body(response)
    assert 'aria-invalid="true"' in body(response)
    person.refresh_from_db()
    assert not person.excused
    assert not AuditEntry.objects.filter(action="testing.selection_excuse").exists()

    response = post(client, pm, "selection_excuse", person.pk, data={"reason": "On medical leave"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.excused and person.excusal_reason == "On medical leave"
    alternate = Selection.objects.get(replaces=person)
    text = body(client.get(response["Location"]))
    assert "On medical leave" in text
    assert f"alternate {alternate.employment.service_number} is called in" in text

    response = post(client, pm, "selection_excuse", person.pk, data={"reason": "Again"})
    assert "This person is already excused." in body(response)


def test_verify_passes_then_fails_after_tampering(client, cast, programme):
    response = get(client, cast.auditor, "draw_verify", programme.draw.pk)
    assert response.status_code == 200
    checks = response.context["checks"]
    assert len(checks) >= 5 and all(c["passed"] for c in checks)
    # Every check has its title and explanation in the reader's language.
    assert {c["key"] for c in checks} <= set(CHECK_LABELS)
    text = body(response)
    assert "Every check passes" in text and "✗" not in text
    assert f"python manage.py verify_draw {programme.draw.pk}" in text

    Draw.objects.filter(pk=programme.draw.pk).update(pool_digest="0" * 64)
    response = get(client, cast.auditor, "draw_verify", programme.draw.pk)
    failed = {c["key"] for c in response.context["checks"] if not c["passed"]}
    assert "pool" in failed
    assert "At least one check fails" in body(response)


def test_verify_a_draw_not_yet_made(client, cast, programme):
    draw = services.draw_commit(actor=cast.programme_manager, campaign=programme.random)
    response = get(client, cast.auditor, "draw_verify", draw.pk)
    assert response.status_code == 200
    text = body(response)
    assert "This draw has not been made yet" in text
    # Not a failure: nobody is told to distrust a draw that simply has not happened.
    assert "At least one check fails" not in text and "✗" not in text
    assert get(client, cast.auditor, "draw_pool", draw.pk).status_code == 404


def test_the_pool_download_re_runs_the_draw(client, cast, programme):
    response = get(client, cast.auditor, "draw_pool", programme.draw.pk)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content
    assert text == gzip.decompress(bytes(programme.draw.pool_snapshot))
    assert hashlib.sha256(text).hexdigest() == programme.draw.pool_digest
    pool = rules.pool_parse(text)
    outcome = rules.draw(
        programme.draw.seed, pool, programme.draw.sample_size, alternates=programme.draw.alternates
    )
    assert [e.key for e in outcome.selected] == [s.employment_id for s in selected(programme.draw)]


# --- panels ---------------------------------------------------------------------------------

KETAMINE = "KET | 1000 | KET=500, NKET=500"


def panel_form(**overrides):
    """The add form as the page fills it (from the default panel), with changes."""
    defaults = {
        "code": "NP-URINE-KET",
        "name_en": "Urine with ketamine",
        "name_km": "ទឹកនោម",
        "specimen_type": "urine",
        "effective_from": timezone.localdate().isoformat(),
        "source": "Ministry decision 12/2026",
        "concentration_unit": "ng/mL",
        "groups": "AMP/MAMP | 500 | AMP=250, MAMP=250\n" + KETAMINE,
        "requires": "MAMP | AMP | 100",
    }
    for key, value in rules.HHS_2025_URINE["validity"].items():
        defaults[f"validity_{key}"] = str(value)
    defaults.update(overrides)
    return defaults


def test_panel_pages_show_versions_groups_rules_and_thresholds(client, cast):
    response = get(client, cast.collector, "panels")
    text = body(response)
    default = Panel.objects.get(is_default=True)
    assert default.code in text and "Installation default" in text
    text = body(get(client, cast.lab_analyst, "panel", default.pk))
    assert "AMP/MAMP" in text and "MDMA" in text
    assert "MAMP is reported positive only when AMP ≥ 100 ng/mL" in text
    assert "Substituted: creatinine below (mg/dL)" in text and "1.0010" in text
    assert "Add a version" not in text


def test_add_a_panel_with_ketamine(client, cast, org_tree):
    admin = cast.administrator
    form = get(client, admin, "panel_add")
    assert form.status_code == 200
    assert "THC | 50 | THCC=15" in body(form)  # prefilled from the default panel
    assert "1.0010" in body(form)
    data = panel_form(agencies=["GDP"])
    response = post(client, admin, "panel_add", data=data)
    assert response.status_code == 302
    panel = Panel.objects.get(code="NP-URINE-KET")
    version = panel.versions.get()
    groups = {g["code"]: g for g in version.definition["groups"]}
    assert groups["KET"] == {
        "code": "KET",
        "initial_cutoff": 1000,
        "analytes": [{"code": "KET", "cutoff": 500}, {"code": "NKET", "cutoff": 500}],
    }
    assert version.definition["requires"] == [{"analyte": "MAMP", "other": "AMP", "minimum": 100}]
    assert version.definition["validity"]["sg_substituted_at_or_below"] == "1.0010"
    assert rules.panel_definition_errors(version.definition) == []
    assert list(panel.agencies.values_list("code", flat=True)) == ["GDP"]
    assert not panel.is_default
    assert AuditEntry.objects.filter(action="testing.panel_create", actor=admin).exists()
    text = body(client.get(response["Location"]))
    assert "NKET" in text and "Ministry decision 12/2026" in text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"groups": "KET 1000 KET=500"}, "Line 1: write group code | initial cutoff"),
        ({"groups": "KET | lots | KET=500"}, "Line 1: the initial cutoff lots is not a number."),
        ({"groups": "KET | 1000 | KET:500"}, "Line 1: write each analyte as CODE=cutoff"),
        (
            {"groups": "KET | 0 | KET=500"},
            "&#x27;initial_cutoff&#x27; must be a number above zero.",
        ),
        ({"groups": "KET | 1000 |"}, "at least one confirmatory analyte is needed."),
        (
            {"groups": "KET | 1000 | KET=5\nKET2 | 1 | KET=5"},
            "the analyte KET appears in two groups.",
        ),
        (
            {"requires": "MAMP | AMP | 100"},
            "&#x27;analyte&#x27; must name an analyte of the panel.",
        ),
        ({"requires": "MAMP needs AMP"}, "Line 1: write analyte | other analyte | minimum."),
        ({"validity_ph_adulterated_below": "acid"}, "Enter a number."),
        (
            {"validity_ph_adulterated_below": "-4"},
            "validity.ph_adulterated_below must be a number above zero.",
        ),
        ({"groups": ""}, "This field is required."),
        ({"code": "HHS-2025-URINE"}, "A panel with code HHS-2025-URINE already exists."),
        ({"effective_from": "yesterday"}, "Enter a valid date."),
        ({"specimen_type": "blood"}, "Select a valid choice."),
    ],
)
def test_invalid_panels_show_the_errors_and_write_nothing(client, cast, overrides, message):
    if "groups" in overrides and "requires" not in overrides:
        overrides["requires"] = ""
    if overrides.get("requires") == "MAMP | AMP | 100":
        overrides["groups"] = KETAMINE
    before = (Panel.objects.count(), PanelVersion.objects.count(), AuditEntry.objects.count())
    response = post(client, cast.administrator, "panel_add", data=panel_form(**overrides))
    assert response.status_code == 200
    text = body(response)
    assert "Nothing was saved" in text
    assert message in text
    after = (Panel.objects.count(), PanelVersion.objects.count(), AuditEntry.objects.count())
    assert after == before


def test_add_a_version_prefilled_from_the_latest(client, cast):
    admin = cast.administrator
    panel = Panel.objects.get(is_default=True)
    latest = panel.versions.order_by("-version").first()
    form = get(client, admin, "panel_version_add", panel.pk)
    assert "AMP/MAMP | 500 | AMP=250, MAMP=250" in body(form)
    assert form.context["form"]["requires"].value() == "MAMP | AMP | 100"
    initial = form.context["form"].initial
    data = {
        "effective_from": timezone.localdate().isoformat(),
        "source": "Adds ketamine",
        "concentration_unit": initial["concentration_unit"],
        "groups": initial["groups"] + "\n" + KETAMINE,
        "requires": initial["requires"],
        **{k: v for k, v in initial.items() if k.startswith("validity_")},
    }
    response = post(client, admin, "panel_version_add", panel.pk, data=data)
    assert response.status_code == 302
    new = panel.versions.order_by("-version").first()
    assert new.version == latest.version + 1
    assert new.definition["groups"][:-1] == latest.definition["groups"]
    assert new.definition["groups"][-1]["code"] == "KET"
    assert new.definition["validity"] == latest.definition["validity"]
    assert new.definition["requires"] == latest.definition["requires"]
    text = body(client.get(response["Location"]))
    assert f"Version {new.version}" in text and f"Version {latest.version}" in text

    # Before the latest version's date: refused by the service, nothing written.
    data["effective_from"] = (latest.effective_from - timedelta(days=1)).isoformat()
    response = post(client, admin, "panel_version_add", panel.pk, data=data)
    assert response.status_code == 200
    assert "A new version cannot take effect before version" in body(response)
    assert panel.versions.count() == new.version


def test_assign_a_panel_to_agencies_and_make_it_the_default(client, cast, org_tree):
    admin = cast.administrator
    services.panel_create(
        actor=admin,
        code="KET-PANEL",
        name_en="Ketamine",
        specimen_type=factories.urine(),
        definition={
            **rules.HHS_2025_URINE,
            "groups": [
                {
                    "code": "KET",
                    "initial_cutoff": 1000,
                    "analytes": [{"code": "KET", "cutoff": 500}],
                }
            ],
            "requires": [],
        },
        effective_from=timezone.localdate(),
    )
    panel = Panel.objects.get(code="KET-PANEL")
    response = post(client, admin, "panel_assign", panel.pk, data={"agencies": ["NP"]})
    assert response.status_code == 302
    assert list(panel.agencies.values_list("code", flat=True)) == ["NP"]
    response = post(
        client, admin, "panel_assign", panel.pk, data={"agencies": ["NP"], "is_default": "on"}
    )
    panel.refresh_from_db()
    assert panel.is_default
    assert Panel.objects.filter(is_default=True).count() == 1
    response = post(client, admin, "panel_assign", panel.pk, data={"agencies": ["NOPE"]})
    assert response.status_code == 200 and "Select a valid choice" in body(response)


def test_the_default_panel_cannot_be_unticked_leaving_no_default(client, cast, org_tree):
    default = Panel.objects.get(is_default=True)
    response = post(client, cast.administrator, "panel_assign", default.pk, data={"agencies": []})
    assert response.status_code == 200
    assert "make another panel the default instead" in body(response)
    default.refresh_from_db()
    assert default.is_default and Panel.objects.filter(is_default=True).count() == 1


# --- laboratory staff -----------------------------------------------------------------------


def test_add_and_remove_laboratory_staff(client, cast):
    admin = cast.administrator
    lab = laboratory_create(actor=admin, code="NACD", name_en="National Authority Laboratory")
    response = get(client, admin, "lab_staff")
    choices = set(
        response.context["form"].fields["user"].queryset.values_list("username", flat=True)
    )
    assert "lab_analyst" in choices and "commander" not in choices
    response = post(client, admin, "lab_staff", data={"user": "lab_analyst", "laboratory": "NACD"})
    assert response.status_code == 302
    post_ = LaboratoryStaff.objects.get(user=cast.lab_analyst, laboratory=lab)
    text = body(client.get(response["Location"]))
    assert "lab_analyst now works for NACD." in text
    response = post(client, admin, "lab_staff", data={"user": "lab_analyst", "laboratory": "NACD"})
    assert response.status_code == 200
    assert "lab_analyst already works for NACD." in body(response)
    response = post(client, admin, "lab_staff", data={"user": "commander", "laboratory": ""})
    assert response.status_code == 200 and "Select a valid choice" in body(response)
    assert LaboratoryStaff.objects.count() == 1
    response = post(client, admin, "lab_staff_remove", post_.pk)
    assert response.status_code == 302
    assert not LaboratoryStaff.objects.exists()
    assert AuditEntry.objects.filter(action="testing.lab_staff_remove", actor=admin).exists()
    assert Laboratory.objects.filter(code="NACD").exists()


def test_province_choices_are_the_real_provinces(client, cast):
    form = get(client, cast.programme_manager, "campaign_add").context["form"]
    assert form.fields["provinces"].queryset.count() == Province.objects.count() > 0


def test_every_page_renders_in_khmer(client, settings, cast, programme):
    """The pages follow the reader's language: names in Khmer where recorded, and no
    template breaks on the Khmer locale's number and date formats."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "km"
    for name, allowed in ALLOWED.items():
        if name == "draw_pool":
            continue
        user = cast.administrator if "administrator" in allowed else cast.programme_manager
        response = get(client, user, name, *_args(name, programme))
        assert response.status_code == 200, name
        assert '<html lang="km">' in body(response), name
