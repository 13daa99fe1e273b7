"""Every write to the organisation: atomic, validated, audited."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from probity.audit.services import audit_record, snapshot
from probity.org.models import Agency, District, Laboratory, Province, Rank, Unit


def _set_path(unit: Unit) -> None:
    parent_path = unit.parent.path if unit.parent_id else "/"
    unit.path = f"{parent_path}{unit.pk}/"
    unit.depth = unit.path.count("/") - 2
    Unit.objects.filter(pk=unit.pk).update(path=unit.path, depth=unit.depth)


@transaction.atomic
def agency_create(*, actor, code: str, name_en: str, name_km: str = "", kind: str) -> Agency:
    agency = Agency(code=code, name_en=name_en, name_km=name_km, kind=kind)
    agency.full_clean()
    agency.save()
    audit_record(actor=actor, action="org.agency_create", obj=agency, after=snapshot(agency))
    return agency


@transaction.atomic
def unit_create(
    *,
    actor,
    agency: Agency,
    code: str,
    name_en: str,
    name_km: str = "",
    parent: Unit | None = None,
    province: Province | None = None,
    district: District | None = None,
) -> Unit:
    if district is not None and province is None:
        province = district.province
    if province is None and parent is not None:
        province = parent.province
    unit = Unit(
        agency=agency,
        code=code,
        name_en=name_en,
        name_km=name_km,
        parent=parent,
        province=province,
        district=district,
    )
    unit.full_clean(exclude=["path", "depth"])
    unit.save()
    _set_path(unit)
    audit_record(actor=actor, action="org.unit_create", obj=unit, after=snapshot(unit))
    return unit


@transaction.atomic
def unit_update(*, actor, unit: Unit, **changes) -> Unit:
    """Change a unit's names, place, parent or active flag; moving keeps the subtree.

    A move re-roots every descendant in one statement: the old path prefix is replaced by
    the new one and every depth shifts by the same amount.
    """
    allowed = {"name_en", "name_km", "province", "district", "active", "parent"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"Cannot change {', '.join(sorted(unknown))} of a unit.")
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    before = snapshot(unit)
    old_path, old_depth = unit.path, unit.depth
    for name, value in changes.items():
        setattr(unit, name, value)
    if changes.get("district") is not None and "province" not in changes:
        unit.province = changes["district"].province
    unit.full_clean(exclude=["path", "depth"])
    unit.save()
    new_parent_path = unit.parent.path if unit.parent_id else "/"
    if "parent" in changes and old_path != f"{new_parent_path}{unit.pk}/":
        _set_path(unit)
        Unit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk).update(
            path=Concat(Value(unit.path), Substr("path", len(old_path) + 1)),
            depth=F("depth") + (unit.depth - old_depth),
        )
    unit.refresh_from_db()
    audit_record(
        actor=actor, action="org.unit_update", obj=unit, before=before, after=snapshot(unit)
    )
    return unit


@transaction.atomic
def rank_create(
    *, actor, agency: Agency, code: str, name_en: str, name_km: str = "", order: int = 0
) -> Rank:
    rank = Rank(agency=agency, code=code, name_en=name_en, name_km=name_km, order=order)
    rank.full_clean()
    rank.save()
    audit_record(actor=actor, action="org.rank_create", obj=rank, after=snapshot(rank))
    return rank


@transaction.atomic
def laboratory_create(
    *,
    actor,
    code: str,
    name_en: str,
    name_km: str = "",
    accreditation: str = "",
    contact: str = "",
    province: Province | None = None,
) -> Laboratory:
    lab = Laboratory(
        code=code,
        name_en=name_en,
        name_km=name_km,
        accreditation=accreditation,
        contact=contact,
        province=province,
    )
    lab.full_clean()
    lab.save()
    audit_record(actor=actor, action="org.laboratory_create", obj=lab, after=snapshot(lab))
    return lab
