"""Organisation writes: paths, moves, invariants, audit."""

import pytest
from django.core.exceptions import ValidationError

from probity.audit.models import AuditEntry
from probity.org.models import District, Province, Unit
from probity.org.services import laboratory_create, rank_create, unit_create, unit_update

pytestmark = pytest.mark.django_db


def _assert_paths_consistent():
    for unit in Unit.objects.select_related("parent"):
        parent_path = unit.parent.path if unit.parent_id else "/"
        assert unit.path == f"{parent_path}{unit.pk}/"
        assert unit.depth == unit.path.count("/") - 2


def test_unit_create_sets_path_and_depth(org_tree):
    root, sr, district = org_tree.np_root, org_tree.siem_reap, org_tree.siem_reap_district
    assert root.path == f"/{root.pk}/" and root.depth == 0
    assert sr.path == f"{root.path}{sr.pk}/" and sr.depth == 1
    assert district.path == f"{sr.path}{district.pk}/" and district.depth == 2
    assert district.is_within(sr) and district.is_within(root)
    assert not sr.is_within(district)
    assert list(district.ancestors()) == [root, sr, district]
    _assert_paths_consistent()


def test_unit_create_takes_province_from_district_or_parent(org_tree):
    sr = org_tree.siem_reap
    assert org_tree.siem_reap_district.province == sr.province  # from its district
    post = unit_create(
        actor=None, agency=org_tree.police, code="NP-SR-02", name_en="Post", parent=sr
    )
    assert post.province == sr.province  # from its parent


def test_moving_a_unit_re_roots_its_subtree(org_tree, superuser):
    sr, pp = org_tree.siem_reap, org_tree.phnom_penh
    post = unit_create(
        actor=None,
        agency=org_tree.police,
        code="NP-SR-01-A",
        name_en="Border post",
        parent=org_tree.siem_reap_district,
    )
    moved = unit_update(actor=superuser, unit=sr, parent=pp)
    assert moved.parent == pp
    assert moved.path == f"{pp.path}{sr.pk}/" and moved.depth == 2
    district = Unit.objects.get(code="NP-SR-01")
    post.refresh_from_db()
    assert district.path == f"{moved.path}{district.pk}/" and district.depth == 3
    assert post.path == f"{district.path}{post.pk}/" and post.depth == 4
    assert {u.code for u in pp.descendants()} == {"NP-PP", "NP-SR", "NP-SR-01", "NP-SR-01-A"}
    _assert_paths_consistent()

    # And back up again: depths shrink by the same amount.
    unit_update(actor=superuser, unit=moved, parent=org_tree.np_root)
    post.refresh_from_db()
    assert post.depth == 3
    _assert_paths_consistent()


def test_jurisdiction_follows_a_moved_unit(org_tree, siem_reap_cast, superuser):
    commander = siem_reap_cast.commander
    post = unit_create(
        actor=None, agency=org_tree.police, code="NP-X", name_en="Post", parent=org_tree.np_root
    )
    from probity.org.selectors import units_for

    assert not units_for(commander).filter(pk=post.pk).exists()
    unit_update(actor=superuser, unit=post, parent=org_tree.siem_reap_district)
    commander = type(commander).objects.get(pk=commander.pk)
    assert units_for(commander).filter(pk=post.pk).exists()


def test_parent_must_belong_to_the_same_agency(org_tree):
    before = Unit.objects.count()
    with pytest.raises(ValidationError) as exc:
        unit_create(
            actor=None,
            agency=org_tree.police,
            code="NP-BAD",
            name_en="Bad",
            parent=org_tree.prisons_root,
        )
    assert "parent" in exc.value.message_dict
    with pytest.raises(ValidationError):
        unit_update(actor=None, unit=org_tree.siem_reap, parent=org_tree.prisons_root)
    assert Unit.objects.count() == before
    org_tree.siem_reap.refresh_from_db()
    assert org_tree.siem_reap.parent == org_tree.np_root


def test_a_unit_cannot_move_under_itself(org_tree):
    with pytest.raises(ValidationError):
        unit_update(actor=None, unit=org_tree.siem_reap, parent=org_tree.siem_reap_district)
    with pytest.raises(ValidationError):
        unit_update(actor=None, unit=org_tree.siem_reap, parent=org_tree.siem_reap)
    _assert_paths_consistent()


def test_district_must_lie_in_the_province(org_tree):
    pp = Province.objects.get(code="KH-12")
    sr_district = District.objects.filter(province__code="KH-17").first()
    with pytest.raises(ValidationError) as exc:
        unit_create(
            actor=None,
            agency=org_tree.police,
            code="NP-BAD",
            name_en="Bad",
            parent=org_tree.np_root,
            province=pp,
            district=sr_district,
        )
    assert "district" in exc.value.message_dict
    assert not Unit.objects.filter(code="NP-BAD").exists()
    with pytest.raises(ValidationError):
        unit_update(actor=None, unit=org_tree.phnom_penh, province=pp, district=sr_district)
    org_tree.phnom_penh.refresh_from_db()
    assert org_tree.phnom_penh.district is None


def test_unit_update_refuses_unknown_fields(org_tree):
    with pytest.raises(ValidationError):
        unit_update(actor=None, unit=org_tree.siem_reap, code="NEW")


def test_unit_update_takes_province_from_a_new_district(org_tree):
    district = District.objects.filter(province__code="KH-2").first()
    unit = unit_update(actor=None, unit=org_tree.phnom_penh, district=district)
    assert unit.province.code == "KH-2"


def test_duplicate_code_is_refused(org_tree):
    with pytest.raises(ValidationError) as exc:
        unit_create(actor=None, agency=org_tree.police, code="NP-SR", name_en="Again")
    assert "code" in exc.value.message_dict


def test_writes_are_audited(org_tree, superuser):
    creates = AuditEntry.objects.filter(action="org.unit_create")
    assert set(creates.values_list("object_id", flat=True)) >= {
        str(org_tree.np_root.pk),
        str(org_tree.siem_reap.pk),
    }
    unit_update(actor=superuser, unit=org_tree.siem_reap, name_en="Siem Reap Police", active=False)
    entry = AuditEntry.objects.filter(action="org.unit_update").latest("seq")
    assert entry.actor == superuser
    assert entry.object_type == "org.unit"
    assert entry.before["name_en"] == "Siem Reap Commissariat" and entry.before["active"] is True
    assert entry.after["name_en"] == "Siem Reap Police" and entry.after["active"] is False

    rank = rank_create(actor=superuser, agency=org_tree.police, code="COL", name_en="Colonel")
    lab = laboratory_create(actor=superuser, code="LAB-1", name_en="Lab one")
    assert AuditEntry.objects.filter(action="org.rank_create", object_id=str(rank.pk)).exists()
    assert AuditEntry.objects.filter(action="org.laboratory_create", object_id=str(lab.pk)).exists()


def test_failed_write_leaves_no_audit_entry(org_tree):
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError):
        unit_create(actor=None, agency=org_tree.police, code="bad code!", name_en="x")
    assert AuditEntry.objects.count() == before
