"""factory-boy factories for the organisation. Units go through ``org.services`` so that
their tree paths are maintained exactly as in production."""

import factory

from probity.org import services
from probity.org.models import Agency, Laboratory, Rank, Unit


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    code = factory.Sequence(lambda n: f"AG{n}")
    name_en = factory.Sequence(lambda n: f"Agency {n}")
    name_km = "ស្ថាប័ន"
    kind = Agency.Kind.POLICE

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.agency_create(actor=None, **kwargs)


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    agency = factory.LazyAttribute(lambda o: o.parent.agency if o.parent else AgencyFactory())
    parent = None
    code = factory.Sequence(lambda n: f"U{n:05d}")
    name_en = factory.Sequence(lambda n: f"Unit {n}")
    name_km = "អង្គភាព"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.unit_create(actor=None, **kwargs)


class RankFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rank

    agency = factory.SubFactory(AgencyFactory)
    code = factory.Sequence(lambda n: f"R{n}")
    name_en = factory.Sequence(lambda n: f"Rank {n}")
    order = factory.Sequence(lambda n: n)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.rank_create(actor=None, **kwargs)


class LaboratoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Laboratory

    code = factory.Sequence(lambda n: f"LAB{n}")
    name_en = factory.Sequence(lambda n: f"Laboratory {n}")
    accreditation = "ISO/IEC 17025"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.laboratory_create(actor=None, **kwargs)
