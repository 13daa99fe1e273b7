"""factory-boy factories for the personnel registry. People go through
``services.person_create`` so that each one has an employment, its STARTED event, its first
ACTIVE status and an audit entry, exactly as in production.

The names are invented combinations of common Cambodian family and given names, each with
its Khmer spelling, so that search can be tested in both scripts.
"""

from datetime import date

import factory

from probity.accounts.models import User
from probity.org.tests.factories import UnitFactory
from probity.personnel import services
from probity.personnel.models import Employment, Person, Sex

# (Latin, Khmer) pairs.
FAMILY_NAMES = [
    ("Sok", "សុខ"),
    ("Chan", "ចាន់"),
    ("Keo", "កែវ"),
    ("Meas", "មាស"),
    ("Heng", "ហេង"),
    ("Prak", "ប្រាក់"),
    ("Chea", "ជា"),
    ("Nuon", "នួន"),
    ("Long", "ឡុង"),
    ("Touch", "ទូច"),
]
GIVEN_NAMES = [
    ("Dara", "ដារា"),
    ("Sophea", "សោភា"),
    ("Vichea", "វិជ្ជា"),
    ("Bopha", "បុប្ផា"),
    ("Rithy", "រិទ្ធី"),
    ("Kosal", "កុសល"),
    ("Chantha", "ចន្ថា"),
    ("Sovann", "សុវណ្ណ"),
    ("Pisey", "ពិសី"),
    ("Veasna", "វាសនា"),
]


def registrar() -> User:
    """The user every factory-made record is recorded by, unless a test passes ``actor``."""
    user, _ = User.objects.get_or_create(username="registrar", defaults={"first_name": "Reg"})
    return user


def _family(n: int) -> tuple[str, str]:
    return FAMILY_NAMES[n % len(FAMILY_NAMES)]


def _given(n: int) -> tuple[str, str]:
    # Walks the given names at another pace, so that the first 100 people all differ.
    return GIVEN_NAMES[(n // len(FAMILY_NAMES)) % len(GIVEN_NAMES)]


class PersonFactory(factory.django.DjangoModelFactory):
    """``PersonFactory(unit=..., rank=..., start_date=...)`` -> a registered ``Person``."""

    class Meta:
        model = Person

    class Params:
        n = factory.Sequence(lambda n: n)

    actor = factory.LazyFunction(registrar)
    family_name = factory.LazyAttribute(lambda o: _family(o.n)[0])
    given_name = factory.LazyAttribute(lambda o: _given(o.n)[0])
    name_km = factory.LazyAttribute(lambda o: f"{_family(o.n)[1]} {_given(o.n)[1]}")
    sex = factory.LazyAttribute(lambda o: Sex.FEMALE if o.n % 3 == 0 else Sex.MALE)
    date_of_birth = factory.LazyAttribute(lambda o: date(1970 + o.n % 30, 1 + o.n % 12, 1))
    national_id = factory.LazyAttribute(lambda o: f"1{o.n:08d}")
    service_number = factory.LazyAttribute(lambda o: f"SN{o.n:06d}")
    unit = factory.SubFactory(UnitFactory)
    rank = None
    position = ""
    start_date = date(2015, 1, 1)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.person_create(**kwargs)


class EmploymentFactory(PersonFactory):
    """The same, but returns the new person's ``Employment``."""

    class Meta:
        model = Employment

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        person = services.person_create(**kwargs)
        return person.employments.select_related("person", "unit", "rank").get()
