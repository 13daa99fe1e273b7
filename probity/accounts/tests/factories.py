"""factory-boy factories for accounts. Assignments go through ``accounts.services`` so that
each grant is audited as in production."""

import factory

from probity.accounts import services
from probity.accounts.models import User
from probity.testing_support import PASSWORD


class UserFactory(factory.django.DjangoModelFactory):
    """``UserFactory(roles=[("commander", unit), ...])`` creates a user with those roles."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n:04d}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role, unit in extracted or []:
            services.assignment_grant(actor=None, user=self, role=role, unit=unit)
