"""``manage.py seed_demo``: the demo data set, loaded once, never over real data."""

import io
import stat

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from probity.accounts.models import Assignment, User
from probity.accounts.roles import Role
from probity.audit.models import AuditEntry
from probity.demo.management.commands.seed_demo import DEMO_USERS, LOGINS_FILE
from probity.org import selectors
from probity.org.models import Agency, Laboratory, Province, Rank, Unit
from probity.personnel.models import Person

pytestmark = pytest.mark.django_db

# The default is about 5,000 people; the tests of the rest of the demo need only a few
# (test_demo_people.py checks the registry, and the full-size plan without the database).
FEW = "40"


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def seed(*args) -> str:
    out = io.StringIO()
    if "--people" not in args:
        args = (*args, "--people", FEW)
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _state():
    return (
        User.objects.count(),
        Unit.objects.count(),
        Agency.objects.count(),
        Rank.objects.count(),
        Laboratory.objects.count(),
        Assignment.objects.count(),
        AuditEntry.objects.count(),
        Person.objects.count(),
    )


def _read_logins(var_dir) -> dict[str, str]:
    logins = {}
    for line in (var_dir / LOGINS_FILE).read_text().splitlines():
        parts = line.split()
        if parts and parts[0].startswith("demo-"):
            logins[parts[0]] = parts[-1]
    return logins


def test_seed_demo_loads_the_demo(var_dir):
    output = seed()
    assert set(Agency.objects.values_list("code", flat=True)) == {"NP", "MP", "GDP", "MCS"}
    assert Agency.objects.get(code="MP").name_km == "កងរាជអាវុធហត្ថ"
    assert Agency.objects.get(code="MCS").kind == "civil_service"

    root = Unit.objects.get(code="NP-HQ")
    provincial = Unit.objects.filter(parent=root)
    assert provincial.count() == 25
    assert set(provincial.values_list("province__code", flat=True)) == {
        p.code for p in Province.objects.all()
    }
    siem_reap = Unit.objects.get(code="NP-KH-17")
    assert siem_reap.name_en == "Siem Reap Provincial Police Commissariat"
    assert siem_reap.name_km == "ស្នងការដ្ឋាននគរបាលខេត្តសៀមរាប"
    assert Unit.objects.get(code="NP-KH-12").name_km == "ស្នងការដ្ឋាននគរបាលរាជធានីភ្នំពេញ"
    inspectorates = Unit.objects.filter(parent=siem_reap)
    assert 2 <= inspectorates.count() <= 3
    for unit in inspectorates:
        assert unit.district.province == siem_reap.province
        assert unit.depth == 2
    for code in ["MP-HQ", "GDP-HQ", "MCS-HQ"]:
        assert Unit.objects.get(code=code).children.exists()
    assert Rank.objects.filter(agency__code="NP").count() >= 7
    assert all(Rank.objects.values_list("name_km", flat=True))
    assert Laboratory.objects.count() == 2

    # One demo user (at least) per role, each with an assignment.
    held = set(Assignment.objects.values_list("role", flat=True))
    assert held == set(Role.values)
    assert {name for name, _, _ in DEMO_USERS} == set(
        User.objects.values_list("username", flat=True)
    )

    # The logins are printed and written to a private file, and they work.
    logins = _read_logins(var_dir)
    assert set(logins) == {name for name, _, _ in DEMO_USERS}
    assert logins["demo-admin"] in output
    mode = stat.S_IMODE((var_dir / LOGINS_FILE).stat().st_mode)
    assert mode == 0o600
    assert User.objects.get(username="demo-commander").check_password(logins["demo-commander"])
    assert len(set(logins.values())) == len(logins)

    # Audited.
    assert AuditEntry.objects.filter(action="demo.seed").count() == 1
    assert AuditEntry.objects.filter(action="org.unit_create").count() == Unit.objects.count()


def test_seeded_commander_sees_siem_reap_only(var_dir):
    seed()
    commander = User.objects.get(username="demo-commander")
    codes = set(selectors.units_for(commander).values_list("code", flat=True))
    assert "NP-KH-17" in codes
    assert all(code.startswith("NP-KH-17") for code in codes)
    admin = User.objects.get(username="demo-admin")
    assert selectors.units_for(admin).count() == Unit.objects.count()


def test_seed_demo_is_idempotent(var_dir):
    seed()
    state = _state()
    logins = (var_dir / LOGINS_FILE).read_text()
    output = seed()
    assert "already loaded" in output
    assert _state() == state
    assert (var_dir / LOGINS_FILE).read_text() == logins
    assert seed("--if-empty") == ""
    assert _state() == state


def test_seed_demo_refuses_a_database_with_real_data(var_dir):
    User.objects.create_user("real.person", password="Real-pass-2026!")
    state = _state()
    with pytest.raises(CommandError, match="data the demo did not create"):
        seed()
    assert _state() == state
    assert not (var_dir / LOGINS_FILE).exists()


def test_seed_demo_refuses_real_units(org_tree, var_dir):
    state = _state()
    with pytest.raises(CommandError):
        seed()
    assert _state() == state


def test_if_empty_explains_and_does_nothing_over_real_data(var_dir):
    User.objects.create_user("real.person", password="Real-pass-2026!")
    state = _state()
    output = seed("--if-empty")
    assert "was not loaded" in output and "1 users" in output
    assert _state() == state


def test_if_empty_loads_an_empty_database(var_dir):
    output = seed("--if-empty")
    assert "Demo data set loaded" in output
    assert Unit.objects.filter(parent__code="NP-HQ").count() == 25


def test_seed_demo_refuses_production(settings, var_dir):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        seed()
    assert User.objects.count() == 0


def test_a_demo_without_people_has_the_testing_campaigns_only(var_dir):
    from probity.demo.testing_data import CIVIL_SERVICE_CAMPAIGN, POLICE_CAMPAIGN
    from probity.testing.models import Campaign, Collection, Draw

    seed("--people", "0")
    assert set(Campaign.objects.values_list("code", flat=True)) == {
        POLICE_CAMPAIGN,
        CIVIL_SERVICE_CAMPAIGN,
    }
    assert not Draw.objects.exists() and not Collection.objects.exists()
