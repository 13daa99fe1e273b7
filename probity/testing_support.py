"""Builders for the shared test cast (used by conftest.py and benchmarks; never at run time).

Kept plain so that a test reads as a story: a police force, two provinces, a user per role.
"""

from dataclasses import dataclass, field

from probity.accounts.models import User
from probity.accounts.roles import Role
from probity.accounts.services import assignment_grant
from probity.org.models import Agency, District, Province, Unit
from probity.org.services import agency_create, unit_create

PASSWORD = "Test-pass-2026!"  # noqa: S105 - test users only


@dataclass
class OrgTree:
    police: Agency
    prisons: Agency
    np_root: Unit
    phnom_penh: Unit
    siem_reap: Unit
    siem_reap_district: Unit
    prisons_root: Unit


@dataclass
class Cast:
    unit: Unit
    users: dict[str, User] = field(default_factory=dict)

    def __getitem__(self, role: str) -> User:
        return self.users[role]

    def __getattr__(self, role: str) -> User:
        try:
            return self.__dict__["users"][role]
        except KeyError as exc:
            raise AttributeError(role) from exc


def build_org_tree() -> OrgTree:
    pp = Province.objects.get(code="KH-12")
    sr = Province.objects.get(code="KH-17")
    sr_district = District.objects.filter(province=sr).order_by("code").first()
    police = agency_create(
        actor=None, code="NP", name_en="National Police", name_km="នគរបាលជាតិ", kind="police"
    )
    prisons = agency_create(
        actor=None,
        code="GDP",
        name_en="General Department of Prisons",
        name_km="អគ្គនាយកដ្ឋានពន្ធនាគារ",
        kind="prisons",
    )
    np_root = unit_create(
        actor=None,
        agency=police,
        code="NP-HQ",
        name_en="General Commissariat",
        name_km="អគ្គស្នងការដ្ឋាន",
    )
    phnom_penh = unit_create(
        actor=None,
        agency=police,
        code="NP-PP",
        name_en="Phnom Penh Commissariat",
        name_km="ស្នងការដ្ឋានរាជធានីភ្នំពេញ",
        parent=np_root,
        province=pp,
    )
    siem_reap = unit_create(
        actor=None,
        agency=police,
        code="NP-SR",
        name_en="Siem Reap Commissariat",
        name_km="ស្នងការដ្ឋាននគរបាលខេត្តសៀមរាប",
        parent=np_root,
        province=sr,
    )
    siem_reap_district = unit_create(
        actor=None,
        agency=police,
        code="NP-SR-01",
        name_en="District Inspectorate",
        name_km="អធិការដ្ឋាន",
        parent=siem_reap,
        district=sr_district,
    )
    prisons_root = unit_create(
        actor=None, agency=prisons, code="GDP-HQ", name_en="Prisons Headquarters", name_km=""
    )
    return OrgTree(
        police, prisons, np_root, phnom_penh, siem_reap, siem_reap_district, prisons_root
    )


def build_cast(tree: OrgTree, unit: Unit, *, suffix: str) -> Cast:
    cast = Cast(unit=unit)
    for role in Role.values:
        user = User.objects.create_user(username=f"{role}{suffix}", password=PASSWORD)
        assignment_grant(actor=None, user=user, role=role, unit=unit)
        cast.users[role] = user
    return cast
