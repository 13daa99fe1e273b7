"""The roster import as a Django team would write it with django-import-export.

One ``ModelResource`` on ``Employment`` (matched by service number within the unit's agency),
foreign keys through ``ForeignKeyWidget``, the person written from the same row before the
employment is saved, and the two history rows every new employment gets (``STARTED`` and
``ACTIVE``) after it. It writes the same rows as Probity's import and the floor; used only
by ``bench_import.py`` (with ``bench.settings``).
"""

from datetime import date

from django.db.models import Subquery
from django.utils import timezone
from import_export import fields, resources, widgets

from probity.org.models import Rank, Unit
from probity.personnel import rules
from probity.personnel.models import Employment, EmploymentEvent, Person, StatusChange
from probity.personnel.services import search_text

PERSON_COLUMNS = ["family_name", "given_name", "name_km", "sex", "date_of_birth", "national_id"]


def _agency_of(row) -> Subquery:
    return Subquery(Unit.objects.filter(code=row["unit"]).values("agency_id")[:1])


class RankOfUnitAgency(widgets.ForeignKeyWidget):
    """A rank code is unique within an agency: look it up in the unit's agency."""

    def __init__(self):
        super().__init__(Rank, "code")

    def get_queryset(self, value, row, *args, **kwargs):
        return Rank.objects.filter(agency_id=_agency_of(row))


class RosterResource(resources.ModelResource):
    unit = fields.Field(
        attribute="unit", column_name="unit", widget=widgets.ForeignKeyWidget(Unit, "code")
    )
    rank = fields.Field(attribute="rank", column_name="rank", widget=RankOfUnitAgency())

    class Meta:
        model = Employment
        fields = ("service_number", "unit", "rank", "position")
        import_id_fields = ("service_number",)
        skip_unchanged = True

    def __init__(self, *, actor, **kwargs):
        super().__init__(**kwargs)
        self.actor = actor

    def get_instance(self, instance_loader, row):
        return (
            Employment.objects.filter(
                agency_id=_agency_of(row), service_number=row["service_number"]
            )
            .select_related("person")
            .first()
        )

    def before_save_instance(self, instance, row, **kwargs):
        instance._bench_new = instance.pk is None
        person = instance.person if instance.person_id else Person()
        for column in PERSON_COLUMNS:
            setattr(person, column, (row.get(column) or "").strip())
        person.date_of_birth = (
            date.fromisoformat(person.date_of_birth) if person.date_of_birth else None
        )
        person.search_text = search_text(
            family_name=person.family_name, given_name=person.given_name, name_km=person.name_km
        )
        person.save()
        instance.person = person
        instance.agency_id = instance.unit.agency_id

    def after_save_instance(self, instance, row, **kwargs):
        if not getattr(instance, "_bench_new", False):
            return
        today = timezone.localdate()
        EmploymentEvent.objects.create(
            employment=instance,
            kind=EmploymentEvent.Kind.STARTED,
            effective_date=today,
            after={
                "unit": instance.unit.code,
                "rank": instance.rank.code if instance.rank_id else "",
                "position": instance.position,
            },
            recorded_by=self.actor,
        )
        StatusChange.objects.create(
            employment=instance,
            status=rules.ACTIVE,
            effective_date=today,
            reason="Registered",
            recorded_by=self.actor,
        )
