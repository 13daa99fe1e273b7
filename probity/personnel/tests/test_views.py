"""Personnel pages: the list (search, filters, sorting, pages), a person's page, the forms
and a unit's headcount; each one both ways: in scope, out of scope, without the permission."""

import re
import unicodedata
from datetime import date
from types import SimpleNamespace

import pytest
from django.urls import NoReverseMatch, reverse

from probity.accounts.models import User
from probity.audit.models import AccessLogEntry, AuditEntry
from probity.core.khmer import ZWSP
from probity.org.services import rank_create
from probity.personnel import services
from probity.personnel.models import (
    Employment,
    EmploymentEvent,
    ImportBatch,
    Person,
    StatusChange,
)

pytestmark = pytest.mark.django_db

PEOPLE = reverse("personnel:people")


def registrar():
    user, _ = User.objects.get_or_create(username="registrar")
    return user


def hire(unit, service_number, family, given, name_km="", **extra) -> Employment:
    extra.setdefault("start_date", date(2015, 1, 1))
    person = services.person_create(
        actor=registrar(),
        family_name=family,
        given_name=given,
        name_km=name_km,
        service_number=service_number,
        unit=unit,
        **extra,
    )
    return person.employments.get()


@pytest.fixture
def staff(org_tree):
    """Three police officers (Phnom Penh, Siem Reap and its district) and a prison guard."""
    colonel = rank_create(
        actor=None, agency=org_tree.police, code="COL", name_en="Colonel", order=80
    )
    lieutenant = rank_create(
        actor=None, agency=org_tree.police, code="LT", name_en="Lieutenant", order=30
    )
    warden = rank_create(actor=None, agency=org_tree.prisons, code="W1", name_en="Warden", order=5)
    dara = hire(org_tree.phnom_penh, "NP-000001", "Sok", "Dara", "សុខ ដារា", rank=colonel, sex="M")
    sophea = hire(
        org_tree.siem_reap, "NP-000002", "Chan", "Sophea", "ចាន់ សោភា", rank=lieutenant, sex="F"
    )
    vichea = hire(
        org_tree.siem_reap_district, "NP-000003", "Keo", "Vichea", "កែវ វិជ្ជា", rank=colonel
    )
    bopha = hire(org_tree.prisons_root, "GDP-0001", "Meas", "Bopha", "មាស បុប្ផា", rank=warden)
    services.status_record(
        actor=registrar(),
        employment=vichea,
        status="suspended",
        effective_date=date(2024, 1, 10),
        reason="Positive test, pending the committee",
    )
    return SimpleNamespace(
        dara=dara,
        sophea=sophea,
        vichea=vichea,
        bopha=bopha,
        colonel=colonel,
        lieutenant=lieutenant,
        warden=warden,
    )


def page(client, user, url=PEOPLE, **params):
    client.force_login(user)
    return client.get(url, params)


def listed(response) -> list[str]:
    """The service numbers in the list, in order."""
    return re.findall(r'<td class="mono">([^<]+)</td>', response.content.decode())


def person_url(employment, name="personnel:person"):
    return reverse(name, args=[employment.pk])


# --- the list ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(client, staff):
    response = client.get(PEOPLE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_list_shows_only_the_jurisdiction(client, cast, siem_reap_cast, staff):
    response = page(client, cast.commander)
    assert response.status_code == 200
    assert listed(response) == ["NP-000002", "NP-000003", "NP-000001"]  # by name: Chan, Keo, Sok
    body = response.content.decode()
    assert "3 people within your jurisdiction" in body
    assert "Meas" not in body and "GDP-0001" not in body
    assert 'lang="km"' in body

    response = page(client, siem_reap_cast.commander)
    assert listed(response) == ["NP-000002", "NP-000003"]
    assert "Sok" not in response.content.decode()


def test_superuser_sees_everyone(client, superuser, staff):
    assert len(listed(page(client, superuser))) == 4


@pytest.mark.parametrize("role", ["lab_analyst", "analyst", "lab_certifier", "rehab_staff"])
def test_roles_without_the_permission_are_refused(client, cast, staff, role):
    user = cast[role]
    client.force_login(user)
    for url in [
        PEOPLE,
        reverse("personnel:people_export_csv"),
        reverse("personnel:people_export_xlsx"),
        person_url(staff.sophea),
        person_url(staff.sophea, "personnel:person_edit"),
        person_url(staff.sophea, "personnel:employment_change"),
        person_url(staff.sophea, "personnel:status_record"),
        reverse("personnel:person_add"),
        reverse("personnel:unit_headcount", args=["NP-SR"]),
    ]:
        assert client.get(url).status_code == 403, url
    assert not AccessLogEntry.objects.filter(object_type="personnel.person").exists()


def test_search_by_latin_name_in_any_case_and_order(client, cast, staff):
    assert listed(page(client, cast.commander, q="sophea")) == ["NP-000002"]
    assert listed(page(client, cast.commander, q="  SOK  ")) == ["NP-000001"]
    assert listed(page(client, cast.commander, q="Dara Sok")) == ["NP-000001"]
    body = page(client, cast.commander, q="Sophea").content.decode()
    assert "1 person found" in body


def test_search_in_khmer_normalises_the_input(client, cast, staff):
    assert listed(page(client, cast.commander, q="សោភា")) == ["NP-000002"]
    # Decomposed input (NFD), and a name copied from a page that marks word breaks with
    # zero-width spaces: both find the stored (NFC) name.
    nfd = unicodedata.normalize("NFD", "កែវ វិជ្ជា")
    assert listed(page(client, cast.commander, q=nfd)) == ["NP-000003"]
    assert listed(page(client, cast.commander, q=f"វិ{ZWSP}ជ្ជា")) == ["NP-000003"]


def test_search_normalises_decomposed_latin_letters(client, cast, org_tree):
    hire(org_tree.phnom_penh, "NP-000009", "L\u00ea", "Minh")  # stored as NFC "Lê"
    decomposed = "Le\u0302"
    assert unicodedata.normalize("NFC", decomposed) != decomposed
    assert listed(page(client, cast.commander, q=decomposed)) == ["NP-000009"]


def test_search_by_service_number(client, cast, siem_reap_cast, staff):
    assert listed(page(client, cast.commander, q="NP-000003")) == ["NP-000003"]
    assert listed(page(client, cast.commander, q="np-00000")) == [
        "NP-000002",
        "NP-000003",
        "NP-000001",
    ]
    # Out of scope: not found by number either.
    assert listed(page(client, siem_reap_cast.commander, q="NP-000001")) == []
    assert listed(page(client, cast.commander, q="GDP-0001")) == []


def test_filter_by_unit_includes_the_subtree(client, cast, siem_reap_cast, staff):
    assert listed(page(client, cast.commander, unit="NP-SR")) == ["NP-000002", "NP-000003"]
    assert listed(page(client, cast.commander, unit="NP-SR-01")) == ["NP-000003"]
    assert listed(page(client, cast.commander, unit="NP-PP")) == ["NP-000001"]


def test_filter_by_a_unit_outside_the_jurisdiction_is_an_error(client, siem_reap_cast, staff):
    for code in ["NP-PP", "NO-SUCH-UNIT"]:
        response = page(client, siem_reap_cast.commander, unit=code)
        assert response.status_code == 200
        body = response.content.decode()
        assert f"No unit with code {code} within your jurisdiction." in body
        assert listed(response) == []
        assert "Sok" not in body


def test_filter_by_rank_and_status(client, cast, staff):
    assert listed(page(client, cast.commander, rank="COL")) == ["NP-000003", "NP-000001"]
    assert listed(page(client, cast.commander, status="suspended")) == ["NP-000003"]
    assert listed(page(client, cast.commander, status="active")) == ["NP-000002", "NP-000001"]
    assert listed(page(client, cast.commander, status="active", rank="COL")) == ["NP-000001"]
    body = page(client, cast.commander, status="suspended").content.decode()
    assert "Suspended" in body
    # The rank chooser offers the ranks of the agencies in scope only.
    assert 'value="COL"' in body and 'value="W1"' not in body


def test_bad_filter_values_are_errors_not_an_unfiltered_list(client, cast, staff):
    response = page(client, cast.commander, status="on_holiday")
    assert response.status_code == 200
    assert listed(response) == []
    assert "is-invalid" in response.content.decode()


def test_sorting_by_each_column(client, cast, staff):
    user = cast.commander
    assert listed(page(client, user, sort="service_number")) == [
        "NP-000001",
        "NP-000002",
        "NP-000003",
    ]
    assert listed(page(client, user, sort="-service_number")) == [
        "NP-000003",
        "NP-000002",
        "NP-000001",
    ]
    assert listed(page(client, user, sort="-name")) == ["NP-000001", "NP-000003", "NP-000002"]
    assert listed(page(client, user, sort="unit")) == ["NP-000001", "NP-000002", "NP-000003"]
    assert listed(page(client, user, sort="rank")) == ["NP-000001", "NP-000003", "NP-000002"]
    assert listed(page(client, user, sort="status")) == ["NP-000001", "NP-000002", "NP-000003"]
    assert listed(page(client, user, sort="-status")) == ["NP-000003", "NP-000001", "NP-000002"]


def test_column_headers_sort_and_keep_the_filters(client, cast, staff):
    body = page(client, cast.commander, unit="NP-SR", sort="service_number").content.decode()
    assert 'aria-sort="ascending"' in body
    assert "?unit=NP-SR&amp;sort=-service_number" in body  # a second click reverses
    assert "?unit=NP-SR&amp;sort=name" in body
    body = page(client, cast.commander, sort="-unit").content.decode()
    assert 'aria-sort="descending"' in body


def test_pagination_fifty_a_page_with_the_count(client, cast, org_tree):
    for n in range(55):
        hire(org_tree.phnom_penh, f"PP-{n:04d}", "Heng", f"Officer{n:02d}")
    first = page(client, cast.commander, sort="service_number")
    assert len(listed(first)) == 50
    body = first.content.decode()
    assert "55 people within your jurisdiction" in body
    assert "Page 1 of 2" in body
    assert "sort=service_number&amp;page=2" in body
    second = page(client, cast.commander, sort="service_number", page=2)
    assert listed(second) == [f"PP-{n:04d}" for n in range(50, 55)]
    found = page(client, cast.commander, q="officer5", sort="service_number")
    assert listed(found) == [f"PP-{n:04d}" for n in range(50, 55)]


def test_list_links_to_the_exports_with_the_filters(client, cast, staff):
    body = page(client, cast.commander, unit="NP-SR", status="active").content.decode()
    assert reverse("personnel:people_export_csv") + "?unit=NP-SR&amp;status=active" in body
    assert reverse("personnel:people_export_xlsx") + "?unit=NP-SR&amp;status=active" in body


def test_list_offers_adding_only_to_those_who_may(client, cast, staff):
    add = reverse("personnel:person_add")
    assert add in page(client, cast.personnel_officer).content.decode()
    assert add not in page(client, cast.commander).content.decode()


def test_list_in_khmer(client, cast, staff):
    client.force_login(cast.commander)
    client.cookies["django_language"] = "km"
    response = client.get(PEOPLE)
    assert response.status_code == 200
    assert '<html lang="km">' in response.content.decode()


# --- a person's page --------------------------------------------------------------------


def test_person_page_shows_identity_employment_and_history(client, cast, staff, org_tree):
    officer = cast.personnel_officer
    services.employment_change(
        actor=officer,
        employment=staff.sophea,
        effective_date=date(2023, 5, 1),
        unit=org_tree.siem_reap_district,
        rank=staff.colonel,
        reference="Order 12/2023",
    )
    response = page(client, cast.commander, person_url(staff.sophea))
    assert response.status_code == 200
    body = response.content.decode()
    for text in [
        "Chan Sophea",
        "ចាន់",
        "Female",
        "National Police",
        "NP-000002",
        "District Inspectorate",
        "Colonel",
        "Employment timeline",
        "Transfer",
        "NP-SR",
        "NP-SR-01",
        "Rank change",
        "LT",
        "Order 12/2023",
        officer.username,
        "Status history",
        "Registered",
    ]:
        assert text in body, text
    assert "Tests and cases" not in body
    assert reverse("org:unit", args=["NP-SR-01"]) in body
    # A commander reads but does not change.
    assert person_url(staff.sophea, "personnel:person_edit") not in body
    assert person_url(staff.sophea, "personnel:status_record") not in body


def test_person_page_highlights_the_current_status(client, cast, staff):
    body = page(client, cast.commander, person_url(staff.vichea)).content.decode()
    rows = re.findall(r"<tr[^>]*>.*?</tr>", body.split('id="status-history"')[1], re.S)
    current = [row for row in rows if 'aria-current="true"' in row]
    assert len(current) == 1
    assert "Suspended" in current[0] and "current" in current[0]
    assert "Positive test, pending the committee" in current[0]


def test_person_page_is_recorded_in_the_access_log(client, cast, staff):
    page(client, cast.commander, person_url(staff.dara))
    entry = AccessLogEntry.objects.get(object_type="personnel.person")
    assert entry.user == cast.commander
    assert entry.object_id == str(staff.dara.person_id)


def test_person_outside_the_jurisdiction_is_not_found(client, siem_reap_cast, staff):
    client.force_login(siem_reap_cast.personnel_officer)
    for name in [
        "personnel:person",
        "personnel:person_edit",
        "personnel:employment_change",
        "personnel:status_record",
    ]:
        assert client.get(person_url(staff.dara, name)).status_code == 404, name
        assert client.get(person_url(staff.bopha, name)).status_code == 404, name
    assert client.get(reverse("personnel:person", args=[999999])).status_code == 404
    client.force_login(siem_reap_cast.commander)
    assert client.get(person_url(staff.dara)).status_code == 404
    assert client.get(person_url(staff.sophea)).status_code == 200
    assert AccessLogEntry.objects.filter(object_type="personnel.person").count() == 1


def test_person_page_names_the_import_that_made_a_change(client, cast, org_tree):
    batch = ImportBatch.objects.create(
        file_name="roster-2024.xlsx", sha256="0" * 64, created_by=registrar(), state="done"
    )
    employment = hire(org_tree.siem_reap, "NP-000777", "Long", "Kosal", import_batch=batch)
    body = page(client, cast.commander, person_url(employment)).content.decode()
    assert f"by import #{batch.pk} (roster-2024.xlsx)" in body
    try:
        batch_url = reverse("personnel:import_batch", args=[batch.pk])
    except NoReverseMatch:
        return
    assert f'href="{batch_url}"' in body


def test_person_page_lists_the_other_employments_in_scope(client, superuser, staff, org_tree):
    person = staff.dara.person
    Employment.objects.create(
        person=person,
        agency=org_tree.prisons,
        service_number="GDP-0777",
        unit=org_tree.prisons_root,
    )
    body = page(client, superuser, person_url(staff.dara)).content.decode()
    assert "GDP-0777" in body


# --- adding and editing -----------------------------------------------------------------


def _add_data(**overrides):
    data = {
        "service_number": "NP-000100",
        "unit": "NP-SR-01",
        "rank": "",
        "position": "Traffic officer",
        "start_date": "2020-03-01",
        "family_name": "Prak",
        "given_name": "Rithy",
        "name_km": "ប្រាក់ រិទ្ធី",
        "sex": "M",
        "date_of_birth": "1990-04-01",
        "national_id": "110000001",
    }
    data.update(overrides)
    return data


def test_personnel_officer_adds_a_person_and_it_is_audited(client, siem_reap_cast, staff):
    officer = siem_reap_cast.personnel_officer
    client.force_login(officer)
    url = reverse("personnel:person_add")
    form = client.get(url).content.decode()
    assert 'value="NP-SR-01"' in form and 'value="NP-SR"' in form
    assert 'value="NP-PP"' not in form and 'value="GDP-HQ"' not in form  # only where allowed
    assert 'for="id_family_name"' in form and 'type="date"' in form

    response = client.post(url, _add_data(rank=str(staff.lieutenant.pk)))
    employment = Employment.objects.get(service_number="NP-000100")
    assert response.status_code == 302
    assert response["Location"] == person_url(employment)
    assert employment.unit.code == "NP-SR-01" and employment.rank == staff.lieutenant
    assert employment.person.name_km == "ប្រាក់ រិទ្ធី"
    assert employment.start_date == date(2020, 3, 1)
    assert employment.status_changes.get().status == "active"
    entry = AuditEntry.objects.filter(action="personnel.person_create").latest("seq")
    assert entry.actor == officer


def test_adding_outside_the_jurisdiction_or_twice_writes_nothing(client, siem_reap_cast, staff):
    client.force_login(siem_reap_cast.personnel_officer)
    url = reverse("personnel:person_add")
    people = Person.objects.count()
    response = client.post(url, _add_data(unit="NP-PP"))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    response = client.post(url, _add_data(service_number="NP-000002"))
    assert response.status_code == 200
    assert "already used in this agency" in response.content.decode()
    response = client.post(url, _add_data(family_name="", date_of_birth="2999-01-01"))
    body = response.content.decode()
    assert "This field is required." in body and "cannot be in the future" in body
    assert 'aria-invalid="true"' in body
    response = client.post(url, _add_data(rank=str(staff.warden.pk)))  # another agency's
    assert response.status_code == 200
    assert Person.objects.count() == people


def test_adding_is_refused_without_the_permission(client, cast, staff):
    client.force_login(cast.commander)
    url = reverse("personnel:person_add")
    assert client.get(url).status_code == 403
    assert client.post(url, _add_data()).status_code == 403
    assert not Employment.objects.filter(service_number="NP-000100").exists()


def test_editing_personal_details_goes_through_the_service(client, cast, staff):
    officer = cast.personnel_officer
    client.force_login(officer)
    url = person_url(staff.sophea, "personnel:person_edit")
    form = client.get(url).content.decode()
    assert 'value="Sophea"' in form and 'value="2015' not in form
    response = client.post(
        url,
        {"family_name": "Chan", "given_name": "Sophia", "name_km": "ចាន់ សោភា", "sex": "F"},
    )
    assert response.status_code == 302
    person = Person.objects.get(pk=staff.sophea.person_id)
    assert person.given_name == "Sophia"
    entry = AuditEntry.objects.filter(action="personnel.person_update").latest("seq")
    assert entry.actor == officer and entry.after["given_name"] == "Sophia"
    event = staff.sophea.events.get(kind=EmploymentEvent.Kind.DETAILS)
    assert event.before == {"given_name": "Sophea"} and event.after == {"given_name": "Sophia"}


def test_editing_with_bad_input_writes_nothing(client, cast, staff):
    client.force_login(cast.personnel_officer)
    url = person_url(staff.sophea, "personnel:person_edit")
    before = AuditEntry.objects.count()
    response = client.post(url, {"family_name": "", "given_name": "X", "sex": "Q"})
    assert response.status_code == 200
    assert "Nothing was saved" in response.content.decode()
    assert Person.objects.get(pk=staff.sophea.person_id).family_name == "Chan"
    assert AuditEntry.objects.count() == before


def test_editing_is_refused_to_a_commander(client, cast, staff):
    client.force_login(cast.commander)
    url = person_url(staff.sophea, "personnel:person_edit")
    assert client.get(url).status_code == 403
    assert client.post(url, {"family_name": "X", "given_name": "Y"}).status_code == 403
    assert Person.objects.get(pk=staff.sophea.person_id).family_name == "Chan"


# --- employment and status --------------------------------------------------------------


def test_transfer_within_the_jurisdiction(client, siem_reap_cast, staff):
    officer = siem_reap_cast.personnel_officer
    client.force_login(officer)
    url = person_url(staff.sophea, "personnel:employment_change")
    form = client.get(url).content.decode()
    assert 'value="NP-SR-01"' in form and 'value="NP-PP"' not in form
    response = client.post(
        url,
        {
            "unit": "NP-SR-01",
            "rank": str(staff.lieutenant.pk),
            "position": "Deputy chief",
            "effective_date": "2024-02-01",
            "reference": "Order 7",
        },
    )
    assert response.status_code == 302
    employment = Employment.objects.get(pk=staff.sophea.pk)
    assert employment.unit.code == "NP-SR-01" and employment.position == "Deputy chief"
    kinds = set(employment.events.values_list("kind", flat=True))
    assert {"transfer", "position"} <= kinds and "rank" not in kinds
    transfer = employment.events.get(kind="transfer")
    assert transfer.before == {"unit": "NP-SR"} and transfer.reference == "Order 7"
    assert AuditEntry.objects.filter(action="personnel.employment_change").exists()

    response = client.post(
        url, {"unit": "NP-PP", "rank": str(staff.lieutenant.pk), "effective_date": "2024-03-01"}
    )
    assert response.status_code == 200
    assert Employment.objects.get(pk=staff.sophea.pk).unit.code == "NP-SR-01"


def test_employment_change_refuses_a_date_before_the_last_change(client, cast, staff):
    client.force_login(cast.personnel_officer)
    url = person_url(staff.sophea, "personnel:employment_change")
    events = EmploymentEvent.objects.count()
    response = client.post(
        url, {"unit": "NP-SR-01", "rank": str(staff.lieutenant.pk), "effective_date": "2001-01-01"}
    )
    assert response.status_code == 200
    assert "before the last recorded change" in response.content.decode()
    assert EmploymentEvent.objects.count() == events


def test_recording_a_status_change(client, cast, staff):
    officer = cast.personnel_officer
    client.force_login(officer)
    url = person_url(staff.sophea, "personnel:status_record")
    assert "Current status: Active." in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "status": "suspended",
            "effective_date": "2024-02-01",
            "reason": "Refused a test",
            "reference": "Decision 3",
        },
    )
    assert response.status_code == 302
    change = staff.sophea.status_changes.latest("id")
    assert (change.status, change.reference, change.recorded_by) == (
        "suspended",
        "Decision 3",
        officer,
    )
    entry = AuditEntry.objects.filter(action="personnel.status_record").latest("seq")
    assert entry.actor == officer and entry.after["status"] == "suspended"


def test_a_dismissed_person_is_not_made_active_without_reinstatement(client, cast, staff):
    client.force_login(cast.personnel_officer)
    url = person_url(staff.sophea, "personnel:status_record")
    client.post(url, {"status": "dismissed", "effective_date": "2024-02-01", "reason": "Drug test"})
    assert staff.sophea.status_changes.latest("id").status == "dismissed"
    count = StatusChange.objects.count()
    response = client.post(
        url, {"status": "active", "effective_date": "2024-06-01", "reason": "Appeal won"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "only by a recorded reinstatement" in body
    # The message is shown on the status field.
    field = body.split('for="id_status"')[1].split('for="id_effective_date"')[0]
    assert "only by a recorded reinstatement" in field and "is-invalid" in field
    assert StatusChange.objects.count() == count

    response = client.post(
        url,
        {
            "status": "active",
            "effective_date": "2024-06-01",
            "reason": "Appeal won",
            "reinstatement": "on",
        },
    )
    assert response.status_code == 302
    latest = staff.sophea.status_changes.latest("id")
    assert latest.status == "active" and latest.reinstatement


def test_status_form_is_refused_to_a_commander(client, cast, staff):
    client.force_login(cast.commander)
    url = person_url(staff.sophea, "personnel:status_record")
    assert client.get(url).status_code == 403
    data = {"status": "suspended", "effective_date": "2024-02-01", "reason": "x"}
    assert client.post(url, data).status_code == 403
    assert staff.sophea.status_changes.count() == 1


# --- a unit's headcount -----------------------------------------------------------------


def test_headcount_partial_for_htmx(client, cast, staff):
    client.force_login(cast.commander)
    url = reverse("personnel:unit_headcount", args=["NP-SR"])
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))
    assert "Active 1" in text and "Suspended 1" in text and "Total 2" in text
    assert f"{PEOPLE}?unit=NP-SR&amp;status=suspended" in body
    assert f"{PEOPLE}?unit=NP-SR&amp;status=active" in body


def test_headcount_page_without_javascript(client, cast, staff):
    client.force_login(cast.commander)
    response = client.get(reverse("personnel:unit_headcount", args=["NP-HQ"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body and "Headcount of General Commissariat" in body
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))
    assert "Active 2" in text and "Total 3" in text  # not the prison guard


def test_headcount_stays_in_scope(client, siem_reap_cast, staff):
    client.force_login(siem_reap_cast.commander)
    assert client.get(reverse("personnel:unit_headcount", args=["NP-PP"])).status_code == 404
    assert client.get(reverse("personnel:unit_headcount", args=["NOPE"])).status_code == 404
    body = client.get(
        reverse("personnel:unit_headcount", args=["NP-SR-01"]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Suspended" in body and "Active" not in body


def test_unit_page_loads_the_headcount_with_htmx(client, cast, staff):
    client.force_login(cast.commander)
    body = client.get(reverse("org:unit", args=["NP-SR"])).content.decode()
    url = reverse("personnel:unit_headcount", args=["NP-SR"])
    assert f'hx-get="{url}"' in body and 'hx-trigger="load"' in body
    assert f'href="{url}"' in body  # without JavaScript, a link
    client.force_login(cast.analyst)  # browses units, does not see people
    body = client.get(reverse("org:unit", args=["NP-SR"])).content.decode()
    assert url not in body
