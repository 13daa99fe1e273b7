"""Every write to the registry: atomic, validated against ``rules``, audited.

The roster import (``imports.py``) writes in bulk for speed; it writes the same history
rows, under the same rules, as these one-at-a-time functions.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from probity.audit.services import audit_record, snapshot
from probity.core.khmer import normalise
from probity.personnel import rules
from probity.personnel.models import (
    Employment,
    EmploymentEvent,
    ImportBatch,
    Person,
    StatusChange,
)

PERSON_FIELDS = ["family_name", "given_name", "name_km", "sex", "date_of_birth", "national_id"]


def search_text(*, family_name: str, given_name: str, name_km: str) -> str:
    """What the name search looks in: both scripts, NFC, lower case, single spaces."""
    latin = normalise(f"{family_name} {given_name}").lower()
    return f"{latin} {normalise(name_km)}".strip()[:500]


def _clean_person(person: Person) -> None:
    person.family_name = normalise(person.family_name)
    person.given_name = normalise(person.given_name)
    person.name_km = normalise(person.name_km)
    person.national_id = (person.national_id or "").strip()
    person.search_text = search_text(
        family_name=person.family_name, given_name=person.given_name, name_km=person.name_km
    )


def _check_national_id(person: Person) -> None:
    """A field error (rather than the constraint's generic message) for a national ID that
    another person already has."""
    if not person.national_id:
        return
    others = Person.objects.filter(national_id=person.national_id)
    if person.pk:
        others = others.exclude(pk=person.pk)
    if others.exists():
        raise ValidationError(
            {
                "national_id": _("National ID %(value)s belongs to another person.")
                % {"value": person.national_id}
            }
        )


def _check_unit_open(unit) -> None:
    if not unit.active:
        raise ValidationError({"unit": _("The unit %(code)s is closed.") % {"code": unit.code}})


def _sentence(problem: str) -> str:
    """A rule's answer (a lower-case clause) as a sentence: capitalised, with its full stop."""
    return pgettext("a rule's answer as a sentence", "%(clause)s.") % {
        "clause": problem[0].upper() + problem[1:]
    }


def _latest_status(employment: Employment) -> StatusChange | None:
    return employment.status_changes.order_by("-effective_date", "-id").first()


@transaction.atomic
def person_create(
    *,
    actor,
    family_name: str,
    given_name: str,
    service_number: str,
    unit,
    name_km: str = "",
    sex: str = "",
    date_of_birth: date | None = None,
    national_id: str = "",
    rank=None,
    position: str = "",
    start_date: date | None = None,
    import_batch: ImportBatch | None = None,
) -> Person:
    """A new person, employed in ``unit``'s agency, active from ``start_date`` (or today)."""
    person = Person(
        family_name=family_name,
        given_name=given_name,
        name_km=name_km,
        sex=sex,
        date_of_birth=date_of_birth,
        national_id=national_id,
    )
    _clean_person(person)
    _check_national_id(person)
    person.full_clean()
    _check_unit_open(unit)
    service_number = service_number.strip()
    if Employment.objects.filter(agency=unit.agency_id, service_number=service_number).exists():
        raise ValidationError(
            {
                "service_number": _("Service number %(value)s is already used in this agency.")
                % {"value": service_number}
            }
        )
    if rank is not None and rank.agency_id != unit.agency_id:
        raise ValidationError({"rank": _("The rank belongs to another agency than the unit.")})
    person.save()
    effective = start_date or timezone.localdate()
    employment = Employment(
        person=person,
        agency_id=unit.agency_id,
        service_number=service_number,
        unit=unit,
        rank=rank,
        position=position.strip(),
        start_date=start_date,
        import_batch=import_batch,
    )
    employment.full_clean(exclude=["person", "import_batch"])
    employment.save()
    EmploymentEvent.objects.create(
        employment=employment,
        kind=EmploymentEvent.Kind.STARTED,
        effective_date=effective,
        after={
            "unit": unit.code,
            "rank": rank.code if rank else "",
            "position": employment.position,
        },
        recorded_by=actor,
        import_batch=import_batch,
    )
    StatusChange.objects.create(
        employment=employment,
        status=rules.ACTIVE,
        effective_date=effective,
        reason="Registered",
        recorded_by=actor,
        import_batch=import_batch,
    )
    audit_record(
        actor=actor,
        action="personnel.person_create",
        obj=person,
        after={**snapshot(person, PERSON_FIELDS), **snapshot(employment)},
    )
    return person


@transaction.atomic
def person_update(*, actor, person: Person, import_batch: ImportBatch | None = None, **changes):
    """Correct a person's identity (names, sex, date of birth, national ID)."""
    unknown = set(changes) - set(PERSON_FIELDS)
    if unknown:
        raise ValidationError(
            _("Cannot change %(fields)s here.") % {"fields": ", ".join(sorted(unknown))}
        )
    person = Person.objects.select_for_update().get(pk=person.pk)
    before = snapshot(person, PERSON_FIELDS)
    for name, value in changes.items():
        setattr(person, name, value)
    _clean_person(person)
    _check_national_id(person)
    person.full_clean()
    after = snapshot(person, PERSON_FIELDS)
    if after == before:
        return person
    person.save()
    diff_before = {k: v for k, v in before.items() if after[k] != v}
    diff_after = {k: after[k] for k in diff_before}
    for employment in person.employments.all():
        EmploymentEvent.objects.create(
            employment=employment,
            kind=EmploymentEvent.Kind.DETAILS,
            effective_date=timezone.localdate(),
            before=diff_before,
            after=diff_after,
            recorded_by=actor,
            import_batch=import_batch,
        )
    audit_record(
        actor=actor, action="personnel.person_update", obj=person, before=before, after=after
    )
    return person


@transaction.atomic
def employment_change(
    *,
    actor,
    employment: Employment,
    effective_date: date,
    unit=None,
    rank=None,
    position: str | None = None,
    reference: str = "",
    import_batch: ImportBatch | None = None,
) -> Employment:
    """Transfer to another unit, change rank or position; each change is a dated event."""
    employment = Employment.objects.select_for_update().get(pk=employment.pk)
    # Corrections of personal details are dated the day they are made; they do not stop a
    # transfer from being recorded late with its real (earlier) date.
    latest = (
        employment.events.exclude(kind=EmploymentEvent.Kind.DETAILS)
        .order_by("-effective_date")
        .values_list("effective_date", flat=True)
        .first()
    )
    problem = rules.chronology_error(latest, effective_date)
    if problem:
        raise ValidationError({"effective_date": problem})
    changes = []
    if unit is not None and unit.pk != employment.unit_id:
        if unit.agency_id != employment.agency_id:
            raise ValidationError(
                {"unit": _("A transfer stays within the agency; use a new employment otherwise.")}
            )
        _check_unit_open(unit)
        changes.append((EmploymentEvent.Kind.TRANSFER, "unit", employment.unit.code, unit.code))
        employment.unit = unit
    if rank is not None and rank.pk != employment.rank_id:
        if rank.agency_id != employment.agency_id:
            raise ValidationError({"rank": _("The rank belongs to another agency.")})
        old = employment.rank.code if employment.rank_id else ""
        changes.append((EmploymentEvent.Kind.RANK, "rank", old, rank.code))
        employment.rank = rank
    if position is not None and position.strip() != employment.position:
        changes.append(
            (EmploymentEvent.Kind.POSITION, "position", employment.position, position.strip())
        )
        employment.position = position.strip()
    if not changes:
        return employment
    history = [
        rules.StatusEvent(status, day, seq)
        for status, day, seq in employment.status_changes.values_list(
            "status", "effective_date", "id"
        )
    ]
    problem = rules.employment_change_error(rules.current_status(history, on=effective_date))
    if problem:
        raise ValidationError({"effective_date": _sentence(problem)})
    before = snapshot(Employment.objects.get(pk=employment.pk))
    employment.save()
    for kind, field, old, new in changes:
        EmploymentEvent.objects.create(
            employment=employment,
            kind=kind,
            effective_date=effective_date,
            before={field: old},
            after={field: new},
            reference=reference,
            recorded_by=actor,
            import_batch=import_batch,
        )
    audit_record(
        actor=actor,
        action="personnel.employment_change",
        obj=employment,
        before=before,
        after=snapshot(employment),
    )
    return employment


@transaction.atomic
def status_record(
    *,
    actor,
    employment: Employment,
    status: str,
    effective_date: date,
    reason: str = "",
    reference: str = "",
    reinstatement: bool = False,
    import_batch: ImportBatch | None = None,
) -> StatusChange:
    """Add an entry to the status history, if the rules allow it."""
    employment = Employment.objects.select_for_update().get(pk=employment.pk)
    latest = _latest_status(employment)
    problem = rules.chronology_error(latest.effective_date if latest else None, effective_date)
    if problem:
        raise ValidationError({"effective_date": problem})
    problem = rules.transition_error(
        latest.status if latest else None, status, reinstatement=reinstatement
    )
    if problem:
        raise ValidationError({"status": _sentence(problem)})
    if (status != rules.ACTIVE or reinstatement) and not reason.strip():
        raise ValidationError({"reason": _("Give the reason for this status.")})
    change = StatusChange.objects.create(
        employment=employment,
        status=status,
        effective_date=effective_date,
        reason=reason.strip(),
        reference=reference.strip(),
        reinstatement=reinstatement,
        recorded_by=actor,
        import_batch=import_batch,
    )
    if status in rules.SEPARATED | rules.FINAL and employment.end_date is None:
        employment.end_date = effective_date
        employment.save(update_fields=["end_date"])
    elif reinstatement:
        employment.end_date = None
        employment.save(update_fields=["end_date"])
    audit_record(
        actor=actor,
        action="personnel.status_record",
        obj=employment,
        before={"status": latest.status if latest else None},
        after={
            "status": status,
            "effective_date": effective_date,
            "reason": change.reason,
            "reference": change.reference,
            "reinstatement": reinstatement,
        },
    )
    return change
