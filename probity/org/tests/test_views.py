"""Organisation pages: the tree, unit pages, forms, reference data, provinces."""

import pytest
from django.urls import reverse

from probity.audit.models import AuditEntry
from probity.org.models import Agency, District, Laboratory, Rank, Unit
from probity.org.services import laboratory_create

pytestmark = pytest.mark.django_db


def unit_url(code, name="org:unit"):
    return reverse(name, args=[code])


# --- tree -------------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(client, org_tree):
    response = client.get(reverse("org:tree"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_tree_shows_the_roots_of_the_jurisdiction(client, cast, siem_reap_cast):
    client.force_login(cast.commander)
    body = client.get(reverse("org:tree")).content.decode()
    assert "General Commissariat" in body
    assert "National Police" in body  # grouped under its agency
    assert "Prisons Headquarters" not in body
    assert reverse("org:unit_children", args=["NP-HQ"]) in body  # expandable with htmx
    assert 'hx-trigger="toggle once"' in body

    client.force_login(siem_reap_cast.commander)
    body = client.get(reverse("org:tree")).content.decode()
    assert "Siem Reap Commissariat" in body
    assert "General Commissariat" not in body
    assert "Phnom Penh Commissariat" not in body


def test_tree_groups_roots_by_agency_for_the_superuser(client, superuser, org_tree):
    client.force_login(superuser)
    body = client.get(reverse("org:tree")).content.decode()
    assert body.index("General Department of Prisons") < body.index("National Police")
    assert "Prisons Headquarters" in body and "General Commissariat" in body
    assert reverse("org:unit_create_root") in body


def test_tree_is_refused_to_roles_that_do_not_browse_units(client, cast):
    client.force_login(cast.lab_analyst)
    assert client.get(reverse("org:tree")).status_code == 403


def test_tree_search_stays_in_scope(client, cast, siem_reap_cast):
    client.force_login(siem_reap_cast.commander)
    response = client.get(reverse("org:tree"), {"q": "Phnom"})
    assert "0 units found" in response.content.decode()
    response = client.get(reverse("org:tree"), {"q": "district"})
    body = response.content.decode()
    assert "1 unit found" in body and "NP-SR-01" in body
    response = client.get(reverse("org:tree"), {"province": "KH-17"})
    assert "2 units found" in response.content.decode()

    client.force_login(cast.commander)
    body = client.get(reverse("org:tree"), {"q": "Phnom"}).content.decode()
    assert "1 unit found" in body and "NP-PP" in body


def test_children_partial_for_htmx(client, siem_reap_cast):
    client.force_login(siem_reap_cast.commander)
    url = unit_url("NP-SR", "org:unit_children")
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert body.strip().startswith("<li>")
    assert "District Inspectorate" in body
    assert unit_url("NP-SR-01") in body


def test_children_without_javascript_go_to_the_unit_page(client, siem_reap_cast):
    client.force_login(siem_reap_cast.commander)
    response = client.get(unit_url("NP-SR", "org:unit_children"))
    assert response.status_code == 302
    assert response["Location"] == unit_url("NP-SR") + "#children"


def test_children_partial_outside_scope_is_not_found(client, siem_reap_cast):
    client.force_login(siem_reap_cast.commander)
    url = unit_url("NP-HQ", "org:unit_children")
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 404


# --- unit page --------------------------------------------------------------------------


def test_unit_page_shows_the_details(client, cast, org_tree):
    client.force_login(cast.commander)
    response = client.get(unit_url("NP-SR"))
    assert response.status_code == 200
    body = response.content.decode()
    for text in [
        "Siem Reap Commissariat",
        "ស្នងការដ្ឋាននគរបាលខេត្តសៀមរាប",
        'lang="km"',
        "NP-SR",
        "National Police",
        "Siem Reap",
        reverse("org:province", args=["KH-17"]),
        "General Commissariat",  # parent, in the breadcrumb
        "District Inspectorate",  # child
        org_tree.siem_reap_district.district.name_en,
    ]:
        assert text in body, text
    assert unit_url("NP-SR", "org:unit_edit") not in body  # a commander does not edit


def test_unit_page_hides_ancestors_outside_the_jurisdiction(client, siem_reap_cast):
    client.force_login(siem_reap_cast.commander)
    body = client.get(unit_url("NP-SR-01")).content.decode()
    assert "Siem Reap Commissariat" in body
    assert "General Commissariat" not in body
    body = client.get(unit_url("NP-SR")).content.decode()
    assert "outside your jurisdiction" in body
    assert "General Commissariat" not in body


def test_unit_page_outside_the_jurisdiction_is_not_found(client, siem_reap_cast):
    client.force_login(siem_reap_cast.commander)
    outside = client.get(unit_url("NP-PP"))
    missing = client.get(unit_url("NO-SUCH-UNIT"))
    assert outside.status_code == missing.status_code == 404
    assert client.get(unit_url("GDP-HQ")).status_code == 404


def test_unit_page_in_khmer(client, cast):
    client.force_login(cast.commander)
    client.cookies["django_language"] = "km"
    body = client.get(unit_url("NP-HQ")).content.decode()
    assert "<h1" in body and "អគ្គស្នងការដ្ឋាន</h1>" in body


# --- editing ----------------------------------------------------------------------------


def test_edit_form_is_refused_to_non_administrators(client, cast, org_tree):
    client.force_login(cast.commander)
    url = unit_url("NP-SR", "org:unit_edit")
    assert client.get(url).status_code == 403
    response = client.post(url, {"name_en": "Hijacked", "parent": "NP-HQ", "active": "on"})
    assert response.status_code == 403
    org_tree.siem_reap.refresh_from_db()
    assert org_tree.siem_reap.name_en == "Siem Reap Commissariat"
    assert client.get(unit_url("NP-SR", "org:unit_create")).status_code == 403


def test_edit_outside_the_jurisdiction_is_not_found(client, siem_reap_cast):
    client.force_login(siem_reap_cast.administrator)
    assert client.get(unit_url("NP-PP", "org:unit_edit")).status_code == 404
    assert client.post(unit_url("NP-PP", "org:unit_edit"), {}).status_code == 404


def _edit_data(unit, **overrides):
    data = {
        "name_en": unit.name_en,
        "name_km": unit.name_km,
        "parent": unit.parent.code if unit.parent_id else "",
        "province": unit.province_id or "",
        "district": unit.district_id or "",
    }
    if unit.active:
        data["active"] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_administrator_edits_a_unit_and_it_is_audited(client, cast, org_tree):
    admin = cast.administrator
    client.force_login(admin)
    url = unit_url("NP-SR", "org:unit_edit")
    page = client.get(url).content.decode()
    assert 'value="Siem Reap Commissariat"' in page
    assert "<optgroup" in page  # districts grouped by province
    assert 'for="id_name_en"' in page

    data = _edit_data(org_tree.siem_reap, name_en="Siem Reap Provincial Police", active=None)
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == unit_url("NP-SR")
    unit = Unit.objects.get(code="NP-SR")
    assert unit.name_en == "Siem Reap Provincial Police"
    assert unit.active is False
    entry = AuditEntry.objects.filter(action="org.unit_update").latest("seq")
    assert entry.actor == admin
    assert entry.after["name_en"] == "Siem Reap Provincial Police"


def test_administrator_moves_a_unit_by_parent_code(client, cast, org_tree):
    client.force_login(cast.administrator)
    district = org_tree.siem_reap_district
    response = client.post(
        unit_url("NP-SR-01", "org:unit_edit"), _edit_data(district, parent="NP-PP")
    )
    assert response.status_code == 302
    district.refresh_from_db()
    assert district.parent == org_tree.phnom_penh
    assert district.path.startswith(org_tree.phnom_penh.path)


def test_bad_input_is_shown_and_nothing_is_written(client, cast, org_tree):
    client.force_login(cast.administrator)
    url = unit_url("NP-PP", "org:unit_edit")
    sr_district = District.objects.filter(province__code="KH-17").first()
    before = AuditEntry.objects.count()
    response = client.post(
        url, _edit_data(org_tree.phnom_penh, name_en="Renamed", district=sr_district.pk)
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "The district is not in the unit&#x27;s province." in body
    assert "is-invalid" in body and 'aria-invalid="true"' in body
    assert "Nothing was saved" in body

    response = client.post(url, _edit_data(org_tree.phnom_penh, parent="GDP-HQ"))
    assert response.status_code == 200
    assert "No unit of this agency with code GDP-HQ" in response.content.decode()

    response = client.post(url, _edit_data(org_tree.phnom_penh, parent="NP-PP"))
    assert response.status_code == 200
    assert "cannot be placed under itself" in response.content.decode()

    response = client.post(url, _edit_data(org_tree.phnom_penh, name_en=""))
    assert response.status_code == 200
    org_tree.phnom_penh.refresh_from_db()
    assert org_tree.phnom_penh.name_en == "Phnom Penh Commissariat"
    assert org_tree.phnom_penh.parent == org_tree.np_root
    assert AuditEntry.objects.count() == before


def test_scoped_administrator_cannot_move_a_unit_out_of_reach(client, siem_reap_cast, org_tree):
    client.force_login(siem_reap_cast.administrator)
    district = org_tree.siem_reap_district
    url = unit_url("NP-SR-01", "org:unit_edit")
    response = client.post(url, _edit_data(district, parent="NP-PP"))
    assert response.status_code == 200
    assert "No unit of this agency with code NP-PP" in response.content.decode()
    response = client.post(url, _edit_data(district, parent=""))
    assert response.status_code == 200
    district.refresh_from_db()
    assert district.parent == org_tree.siem_reap
    # Its own top unit keeps the parent it cannot see; renaming it still works.
    response = client.post(
        unit_url("NP-SR", "org:unit_edit"), _edit_data(org_tree.siem_reap, name_en="SR")
    )
    assert response.status_code == 302
    assert Unit.objects.get(code="NP-SR").parent == org_tree.np_root


def test_nothing_changed_writes_nothing(client, cast, org_tree):
    client.force_login(cast.administrator)
    before = AuditEntry.objects.count()
    response = client.post(unit_url("NP-SR", "org:unit_edit"), _edit_data(org_tree.siem_reap))
    assert response.status_code == 302
    assert AuditEntry.objects.count() == before


def test_administrator_creates_a_sub_unit(client, siem_reap_cast, org_tree):
    admin = siem_reap_cast.administrator
    client.force_login(admin)
    url = unit_url("NP-SR", "org:unit_create")
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"code": "NP-SR-02", "name_en": "Second inspectorate", "name_km": "អធិការដ្ឋាន"}
    )
    assert response.status_code == 302
    unit = Unit.objects.get(code="NP-SR-02")
    assert unit.parent == org_tree.siem_reap
    assert unit.agency == org_tree.police
    assert unit.province == org_tree.siem_reap.province
    assert unit.path == f"{org_tree.siem_reap.path}{unit.pk}/"
    entry = AuditEntry.objects.filter(action="org.unit_create").latest("seq")
    assert entry.actor == admin and entry.object_id == str(unit.pk)

    count = Unit.objects.count()
    response = client.post(url, {"code": "NP-SR-02", "name_en": "Duplicate"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    response = client.post(url, {"code": "bad code!", "name_en": "Bad"})
    assert response.status_code == 200
    assert Unit.objects.count() == count

    assert client.get(unit_url("NP-PP", "org:unit_create")).status_code == 404


def test_only_the_installation_root_creates_top_units(client, cast, superuser):
    client.force_login(cast.administrator)
    assert client.get(reverse("org:unit_create_root")).status_code == 403
    client.force_login(superuser)
    agency = Agency.objects.get(code="GDP")
    response = client.post(
        reverse("org:unit_create_root"),
        {"agency": agency.pk, "code": "GDP-2", "name_en": "Second root"},
    )
    assert response.status_code == 302
    unit = Unit.objects.get(code="GDP-2")
    assert unit.parent is None and unit.depth == 0 and unit.path == f"/{unit.pk}/"


# --- reference data ---------------------------------------------------------------------


def test_laboratories_page_needs_the_permission(client, cast):
    laboratory_create(
        actor=None,
        code="LAB-T",
        name_en="Test laboratory",
        name_km="មន្ទីរពិសោធន៍",
        accreditation="ISO/IEC 17025",
        contact="lab@example.invalid",
    )
    client.force_login(cast.collector)
    response = client.get(reverse("org:laboratories"))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ["LAB-T", "Test laboratory", "ISO/IEC 17025", "lab@example.invalid"]:
        assert text in body
    assert reverse("org:laboratory_create") not in body
    client.force_login(cast.rehab_staff)
    assert client.get(reverse("org:laboratories")).status_code == 403


def test_administrator_creates_a_laboratory(client, cast):
    client.force_login(cast.commander)
    assert client.get(reverse("org:laboratory_create")).status_code == 403
    client.force_login(cast.administrator)
    response = client.post(
        reverse("org:laboratory_create"), {"code": "LAB-X", "name_en": "Lab X", "contact": "x"}
    )
    assert response.status_code == 302
    lab = Laboratory.objects.get(code="LAB-X")
    assert AuditEntry.objects.filter(action="org.laboratory_create", object_id=str(lab.pk))
    response = client.post(reverse("org:laboratory_create"), {"code": "LAB-X", "name_en": "Y"})
    assert response.status_code == 200
    assert Laboratory.objects.count() == 1


def test_agencies_and_ranks(client, cast, org_tree):
    client.force_login(cast.commander)
    body = client.get(reverse("org:agencies")).content.decode()
    assert "National Police" in body and "General Department of Prisons" not in body
    assert client.get(reverse("org:agency_create")).status_code == 403
    assert client.get(reverse("org:rank_create")).status_code == 403

    client.force_login(cast.administrator)
    response = client.post(
        reverse("org:agency_create"),
        {"code": "MCS", "name_en": "Ministry of Civil Service", "kind": "civil_service"},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("org:rank_create"),
        {
            "agency": org_tree.police.pk,
            "code": "COL",
            "name_en": "Colonel",
            "name_km": "វរសេនីយ៍ឯក",
            "order": 80,
        },
    )
    assert response.status_code == 302
    assert Rank.objects.get(agency=org_tree.police, code="COL").order == 80
    body = client.get(reverse("org:agencies")).content.decode()
    assert "Ministry of Civil Service" in body and "វរសេនីយ៍ឯក" in body
    response = client.post(
        reverse("org:rank_create"),
        {"agency": org_tree.police.pk, "code": "COL", "name_en": "Again", "order": 1},
    )
    assert response.status_code == 200
    assert Rank.objects.filter(code="COL").count() == 1


def test_provinces_pages(client, cast):
    client.force_login(cast.lab_analyst)  # reference data for every logged-in user
    body = client.get(reverse("org:provinces")).content.decode()
    assert body.count(reverse("org:province", args=["KH-1"])) == 1
    assert "KH-25" in body and "រាជធានីភ្នំពេញ" in body
    response = client.get(reverse("org:province", args=["KH-17"]))
    assert response.status_code == 200
    body = response.content.decode()
    for district in District.objects.filter(province__code="KH-17"):
        assert district.name_km in body
    assert "Units you can see here" not in body
    assert client.get(reverse("org:province", args=["KH-99"])).status_code == 404

    client.force_login(cast.commander)
    body = client.get(reverse("org:province", args=["KH-17"])).content.decode()
    assert "Units you can see here" in body
    assert reverse("org:tree") + "?province=KH-17" in body
