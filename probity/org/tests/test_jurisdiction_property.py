"""Jurisdiction as a filter equals jurisdiction by walking the tree, for any tree.

For random trees and random assignments, the units that ``units_visible_to`` lets through
are exactly those whose chain of parents reaches an assigned unit: the materialised paths
and the ``Q`` filter can neither leak a unit nor hide one.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probity.accounts.roles import Role
from probity.accounts.tests.factories import UserFactory
from probity.org.models import Unit
from probity.org.policies import units_visible_to
from probity.org.tests.factories import AgencyFactory, UnitFactory

pytestmark = pytest.mark.django_db

# A tree of up to 25 units: each new unit's parent is an earlier unit or none (a new root).
trees = st.lists(st.integers(min_value=-1, max_value=24), min_size=1, max_size=25)


def build(parent_choices: list[int]) -> list[Unit]:
    agency = AgencyFactory()
    units: list[Unit] = []
    for i, choice in enumerate(parent_choices):
        parent = units[choice % i] if i and choice >= 0 else None
        units.append(UnitFactory(agency=agency, parent=parent))
    return units


def reaches(unit: Unit, targets: set[int], by_id: dict[int, Unit]) -> bool:
    node: Unit | None = unit
    while node is not None:
        if node.pk in targets:
            return True
        node = by_id.get(node.parent_id) if node.parent_id else None
    return False


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parent_choices=trees, picks=st.lists(st.integers(min_value=0, max_value=24), max_size=3))
def test_visible_units_are_exactly_the_assigned_subtrees(parent_choices, picks):
    units = build(parent_choices)
    assigned = {units[p % len(units)] for p in picks}
    user = UserFactory(roles=[(Role.COMMANDER, unit) for unit in assigned])
    by_id = {u.pk: u for u in Unit.objects.filter(pk__in=[u.pk for u in units])}
    expected = {pk for pk, u in by_id.items() if reaches(u, {a.pk for a in assigned}, by_id)}
    visible = set(
        Unit.objects.filter(units_visible_to(user), pk__in=by_id).values_list("pk", flat=True)
    )
    assert visible == expected


def test_a_user_without_assignments_sees_no_unit():
    UnitFactory()
    assert not Unit.objects.filter(units_visible_to(UserFactory())).exists()


def test_a_revoked_assignment_no_longer_gives_sight():
    from probity.accounts.services import assignment_revoke

    unit = UnitFactory()
    user = UserFactory(roles=[(Role.COMMANDER, unit)])
    assert Unit.objects.filter(units_visible_to(user)).exists()
    assignment_revoke(actor=None, assignment=user.assignments.get())
    user = type(user).objects.get(pk=user.pk)  # fresh: no cached roles
    assert not Unit.objects.filter(units_visible_to(user)).exists()


def test_an_inactive_user_sees_nothing():
    unit = UnitFactory()
    user = UserFactory(roles=[(Role.COMMANDER, unit)], is_active=False)
    assert not Unit.objects.filter(units_visible_to(user)).exists()
