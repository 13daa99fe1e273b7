"""``manage.py seed_demo``: load the demo data set into an empty database.

Everything is written through the services, so the demo is audited like real work. The
run ends with an audit entry ``demo.seed``; its presence is how a later run knows the
demo is already there (and then changes nothing). A database holding anything the demo
did not create — a user, an agency, a unit, a laboratory — is refused.

Demo users get random passwords, printed once and written to ``var/demo-logins.txt``
(readable by the owner only). People and passwords are invented; never commit them.

The personnel registry gets about 5,000 invented officers (``--people N``), recorded by the
demo personnel officer through the personnel services: each registered with their start
date, then a few historic status changes, transfers and promotions, so the rules of
``personnel.rules`` are enforced on them.

Drug testing (``probity.demo.testing_data``): laboratory posts, a National Police random
campaign with two draws made and a third committed, excusals, collection sessions in three
provinces with collections, refusals, two rejected specimens and chains of custody, and a
civil-service campaign that cannot start until the police one is complete.
"""

import os
import random
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from probity.accounts.models import User
from probity.accounts.roles import Role
from probity.accounts.services import assignment_grant, user_create
from probity.audit.models import AuditEntry
from probity.audit.services import audit_record
from probity.demo import people as demo_people
from probity.demo import testing_data
from probity.org.models import Agency, District, Laboratory, Province, Rank, Unit
from probity.org.services import agency_create, laboratory_create, rank_create, unit_create
from probity.personnel import services as personnel
from probity.personnel.models import Employment, Person

DEMO_ACTION = "demo.seed"
LOGINS_FILE = "demo-logins.txt"

AGENCIES = [
    ("NP", "National Police", "នគរបាលជាតិ", Agency.Kind.POLICE),
    ("MP", "Military Police", "កងរាជអាវុធហត្ថ", Agency.Kind.MILITARY_POLICE),
    ("GDP", "General Department of Prisons", "អគ្គនាយកដ្ឋានពន្ធនាគារ", Agency.Kind.PRISONS),
    ("MCS", "Ministry of Civil Service", "ក្រសួងមុខងារសាធារណៈ", Agency.Kind.CIVIL_SERVICE),
]

# (code, English, Khmer, seniority). Police, Military Police and prison officers hold the
# same officer ranks; civil servants are in frameworks A to D.
UNIFORMED_RANKS = [
    ("GEN", "General", "ឧត្តមសេនីយ៍", 90),
    ("COL", "Colonel", "វរសេនីយ៍ឯក", 80),
    ("LTC", "Lieutenant colonel", "វរសេនីយ៍ទោ", 70),
    ("MAJ", "Major", "វរសេនីយ៍ត្រី", 60),
    ("CPT", "Captain", "អនុសេនីយ៍ឯក", 50),
    ("LT", "Lieutenant", "អនុសេនីយ៍ទោ", 40),
    ("2LT", "Second lieutenant", "អនុសេនីយ៍ត្រី", 30),
    ("SGT", "Sergeant", "ពលបាលឯក", 20),
]
CIVIL_SERVICE_RANKS = [
    ("A", "Framework A", "ក្របខណ្ឌ ក", 40),
    ("B", "Framework B", "ក្របខណ្ឌ ខ", 30),
    ("C", "Framework C", "ក្របខណ្ឌ គ", 20),
    ("D", "Framework D", "ក្របខណ្ឌ ឃ", 10),
]
RANKS = {"NP": UNIFORMED_RANKS, "MP": UNIFORMED_RANKS, "GDP": UNIFORMED_RANKS}
RANKS["MCS"] = CIVIL_SERVICE_RANKS

CAPITAL = "KH-12"

# District police inspectorates under a few provincial commissariats:
# province -> [(district code, kind)], kind being a Phnom Penh khan, a city or a district.
NP_DISTRICTS = {
    "KH-12": [("1201", "khan"), ("1204", "khan"), ("1213", "khan")],
    "KH-17": [("1710", "city"), ("1702", "district"), ("1703", "district")],
    "KH-1": [("0110", "city"), ("0102", "district")],
    "KH-18": [("1802", "district"), ("1804", "district")],
    "KH-13": [("1301", "district")],
}
DISTRICT_KINDS = {
    "khan": ("Khan {name} Police Inspectorate", "ខណ្ឌ"),
    "city": ("{name} City Police Inspectorate", "ក្រុង"),
    "district": ("{name} District Police Inspectorate", "ស្រុក"),
}

# (code, English, Khmer, province)
MP_UNITS = [
    ("MP-KH-12", "Phnom Penh Military Police", "កងរាជអាវុធហត្ថរាជធានីភ្នំពេញ", "KH-12"),
    (
        "MP-KH-1",
        "Banteay Meanchey Provincial Military Police",
        "កងរាជអាវុធហត្ថខេត្តបន្ទាយមានជ័យ",
        "KH-1",
    ),
    ("MP-KH-13", "Preah Vihear Provincial Military Police", "កងរាជអាវុធហត្ថខេត្តព្រះវិហារ", "KH-13"),
    ("MP-KH-18", "Preah Sihanouk Provincial Military Police", "កងរាជអាវុធហត្ថខេត្តព្រះសីហនុ", "KH-18"),
]
GDP_UNITS = [
    ("GDP-CC1", "Correctional Centre 1", "មណ្ឌលអប់រំកែប្រែទី១", "KH-12"),
    ("GDP-CC2", "Correctional Centre 2", "មណ្ឌលអប់រំកែប្រែទី២", "KH-12"),
    ("GDP-KH-17", "Siem Reap Provincial Prison", "ពន្ធនាគារខេត្តសៀមរាប", "KH-17"),
    ("GDP-KH-2", "Battambang Provincial Prison", "ពន្ធនាគារខេត្តបាត់ដំបង", "KH-2"),
]
MCS_PROVINCES = ["KH-12", "KH-2", "KH-3", "KH-17"]

LABORATORIES = [
    {
        "code": "LAB-NPF",
        "name_en": "National Police Forensic Toxicology Laboratory",
        "name_km": "មន្ទីរពិសោធន៍ពុលវិទ្យាកោសល្យវិច្ឆ័យនៃនគរបាលជាតិ",
        "accreditation": "ISO/IEC 17025 (demo)",
        "contact": "npf-lab@example.invalid",
        "province": CAPITAL,
    },
    {
        "code": "LAB-MOH",
        "name_en": "Ministry of Health Reference Toxicology Laboratory",
        "name_km": "មន្ទីរពិសោធន៍ពុលវិទ្យាយោងនៃក្រសួងសុខាភិបាល",
        "accreditation": "ISO 15189 (demo)",
        "contact": "moh-lab@example.invalid",
        "province": CAPITAL,
    },
]

ROOTS = ["NP-HQ", "MP-HQ", "GDP-HQ", "MCS-HQ"]
SIEM_REAP = "NP-KH-17"

# (username, role, units the role is held over). Every role appears at least once.
DEMO_USERS = [
    ("demo-admin", Role.ADMINISTRATOR, ROOTS),
    ("demo-manager", Role.PROGRAMME_MANAGER, ROOTS),
    ("demo-collector", Role.COLLECTOR, [SIEM_REAP]),
    ("demo-collector-2", Role.COLLECTOR, ["NP-KH-12", "NP-KH-1"]),
    ("demo-lab-analyst", Role.LAB_ANALYST, ["NP-HQ"]),
    ("demo-lab-certifier", Role.LAB_CERTIFIER, ["NP-HQ"]),
    ("demo-medical-reviewer", Role.MEDICAL_REVIEWER, ROOTS),
    ("demo-case-officer", Role.CASE_OFFICER, ["NP-HQ"]),
    ("demo-committee-1", Role.COMMITTEE_MEMBER, ["NP-HQ"]),
    ("demo-committee-2", Role.COMMITTEE_MEMBER, ["NP-HQ"]),
    ("demo-commander", Role.COMMANDER, [SIEM_REAP]),
    ("demo-personnel", Role.PERSONNEL_OFFICER, ROOTS),
    ("demo-rehab", Role.REHAB_STAFF, ["NP-KH-1"]),
    ("demo-investigator", Role.INVESTIGATOR, ["NP-HQ"]),
    ("demo-analyst", Role.ANALYST, ROOTS),
    ("demo-auditor", Role.AUDITOR, ROOTS),
]

# Who records the demo roster and its history.
PERSONNEL_USER = "demo-personnel"
DEFAULT_PEOPLE = 5000
SEED = 2024

_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105 - an alphabet, not a password


def new_password() -> str:
    """Four groups of four characters, without look-alikes (0/O, 1/l/I)."""
    groups = ["".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)


@dataclass
class Login:
    username: str
    role: str
    units: str
    password: str


def demo_is_loaded() -> bool:
    return AuditEntry.objects.filter(action=DEMO_ACTION).exists()


def existing_data() -> dict[str, int]:
    counts = {
        "users": User.objects.count(),
        "agencies": Agency.objects.count(),
        "units": Unit.objects.count(),
        "laboratories": Laboratory.objects.count(),
        "people": Person.objects.count(),
    }
    return {name: n for name, n in counts.items() if n}


class Command(BaseCommand):
    help = (
        "Load the demo data set (agencies, units, ranks, laboratories, demo users, people, "
        "drug testing)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Exit quietly when the demo is loaded; do nothing when there is other data.",
        )
        parser.add_argument(
            "--people",
            type=int,
            default=DEFAULT_PEOPLE,
            metavar="N",
            help=f"How many invented officers to add to the registry (default {DEFAULT_PEOPLE}).",
        )

    def handle(self, *args, if_empty: bool = False, people: int = DEFAULT_PEOPLE, **options):
        if people < 0:
            raise CommandError("--people cannot be negative.")
        if demo_is_loaded():
            if not if_empty:
                self.stdout.write(
                    "The demo data set is already loaded; nothing was changed. "
                    f"The demo logins are in {Path(settings.VAR_DIR) / LOGINS_FILE}."
                )
            return
        found = existing_data()
        if found or settings.PRODUCTION:
            if settings.PRODUCTION:
                reason = "Probity runs in production mode (PROBITY_ENV=production)"
            else:
                listed = ", ".join(f"{n} {name}" for name, n in found.items())
                reason = f"the database already holds data the demo did not create ({listed})"
            message = f"The demo data set was not loaded: {reason}."
            if if_empty:
                self.stdout.write(message)
                return
            raise CommandError(message + " Use an empty database for the demo.")
        logins = self.seed(people=people)
        self.print_logins(logins)

    @transaction.atomic
    def seed(self, *, people: int = DEFAULT_PEOPLE) -> list[Login]:
        provinces = {p.code: p for p in Province.objects.all()}
        if len(provinces) != 25:
            raise CommandError("The provinces are missing: run `manage.py migrate` first.")
        agencies = {}
        for code, name_en, name_km, kind in AGENCIES:
            agencies[code] = agency_create(
                actor=None, code=code, name_en=name_en, name_km=name_km, kind=kind
            )
        for agency_code, ranks in RANKS.items():
            for code, name_en, name_km, order in ranks:
                rank_create(
                    actor=None,
                    agency=agencies[agency_code],
                    code=code,
                    name_en=name_en,
                    name_km=name_km,
                    order=order,
                )
        units = self.seed_units(agencies, provinces)
        for lab in LABORATORIES:
            laboratory_create(actor=None, **{**lab, "province": provinces[lab["province"]]})
        logins = self.seed_users(units)
        registry = self.seed_people(units, people) if people else {}
        testing = self.seed_testing(units)
        audit_record(
            actor=None,
            action=DEMO_ACTION,
            object_repr="Demo data set",
            after={
                "agencies": sorted(agencies),
                "units": len(units),
                "laboratories": [lab["code"] for lab in LABORATORIES],
                "users": [login.username for login in logins],
                "people": registry,
                "testing": testing,
            },
        )
        self.write_logins_file(logins)
        return logins

    def seed_units(self, agencies, provinces) -> dict[str, Unit]:
        units: dict[str, Unit] = {}

        def add(code, name_en, name_km, *, agency, parent=None, province=None, district=None):
            units[code] = unit_create(
                actor=None,
                agency=agencies[agency],
                code=code,
                name_en=name_en,
                name_km=name_km,
                parent=units[parent] if parent else None,
                province=provinces[province] if province else None,
                district=district,
            )

        # National Police: a commissariat in every province, inspectorates under a few.
        add(
            "NP-HQ",
            "General Commissariat of National Police",
            "អគ្គស្នងការដ្ឋាននគរបាលជាតិ",
            agency="NP",
            province=CAPITAL,
        )
        for province in sorted(provinces.values(), key=lambda p: p.mef_code):
            if province.code == CAPITAL:
                name_en = f"{province.name_en} Municipal Police Commissariat"
                name_km = f"ស្នងការដ្ឋាននគរបាល{province.name_km}"  # "រាជធានីភ្នំពេញ"
            else:
                name_en = f"{province.name_en} Provincial Police Commissariat"
                name_km = f"ស្នងការដ្ឋាននគរបាលខេត្ត{province.name_km}"
            add(
                f"NP-{province.code}",
                name_en,
                name_km,
                agency="NP",
                parent="NP-HQ",
                province=province.code,
            )
        districts = District.objects.select_related("province").in_bulk(
            [code for pairs in NP_DISTRICTS.values() for code, _ in pairs], field_name="code"
        )
        for province_code, pairs in NP_DISTRICTS.items():
            for district_code, kind in pairs:
                district = districts.get(district_code)
                if district is None or district.province.code != province_code:
                    continue  # a district list without this code: leave it out
                pattern_en, prefix_km = DISTRICT_KINDS[kind]
                add(
                    f"NP-{province_code}-{district_code}",
                    pattern_en.format(name=district.name_en),
                    f"អធិការដ្ឋាននគរបាល{prefix_km}{district.name_km}",
                    agency="NP",
                    parent=f"NP-{province_code}",
                    province=province_code,
                    district=district,
                )

        # Military Police, prisons and the civil service: smaller trees.
        add(
            "MP-HQ",
            "Military Police Headquarters",
            "ទីបញ្ជាការដ្ឋានកងរាជអាវុធហត្ថលើផ្ទៃប្រទេស",
            agency="MP",
            province=CAPITAL,
        )
        for code, name_en, name_km, province in MP_UNITS:
            add(code, name_en, name_km, agency="MP", parent="MP-HQ", province=province)
        add(
            "GDP-HQ",
            "General Department of Prisons Headquarters",
            "ទីស្ដីការអគ្គនាយកដ្ឋានពន្ធនាគារ",
            agency="GDP",
            province=CAPITAL,
        )
        for code, name_en, name_km, province in GDP_UNITS:
            add(code, name_en, name_km, agency="GDP", parent="GDP-HQ", province=province)
        add(
            "MCS-HQ",
            "Ministry of Civil Service, central administration",
            "រដ្ឋបាលកណ្ដាល ក្រសួងមុខងារសាធារណៈ",
            agency="MCS",
            province=CAPITAL,
        )
        for code in MCS_PROVINCES:
            province = provinces[code]
            if code == CAPITAL:
                name_en = f"{province.name_en} Municipal Department of Civil Service"
                name_km = f"មន្ទីរមុខងារសាធារណៈ{province.name_km}"
            else:
                name_en = f"{province.name_en} Provincial Department of Civil Service"
                name_km = f"មន្ទីរមុខងារសាធារណៈខេត្ត{province.name_km}"
            add(f"MCS-{code}", name_en, name_km, agency="MCS", parent="MCS-HQ", province=code)
        return units

    def seed_users(self, units: dict[str, Unit]) -> list[Login]:
        logins = []
        for username, role, unit_codes in DEMO_USERS:
            password = new_password()
            label = str(Role(role).label)
            user = user_create(
                actor=None,
                username=username,
                password=password,
                first_name="Demo",
                last_name=label,
                language="en",
            )
            for code in unit_codes:
                assignment_grant(actor=None, user=user, role=role, unit=units[code])
            logins.append(Login(username, label, ", ".join(unit_codes), password))
        return logins

    def seed_people(self, units: dict[str, Unit], n: int) -> dict:
        """``n`` invented officers, then their historic changes, all recorded by the demo
        personnel officer. Returns what was written, for the ``demo.seed`` audit entry."""
        actor = User.objects.get(username=PERSONNEL_USER)
        rng = random.Random(SEED)  # noqa: S311 - invented data, reproducible on purpose
        pool = people_units(units)
        officers = demo_people.invent_officers(n, pool, rng=rng)
        changes, counts = demo_people.plan_history(officers, pool, rng=rng)
        self.write_roster(officers, actor)
        self.record_history(changes, units, actor)
        self.stdout.write(
            f"Demo registry: {n} people; "
            + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items() if v)
            + "."
        )
        return {"count": n, "history": counts}

    def seed_testing(self, units: dict[str, Unit]) -> dict:
        """Drug testing: see ``probity.demo.testing_data``."""
        rng = random.Random(SEED)  # noqa: S311 - invented data, reproducible on purpose
        summary = testing_data.seed_testing(units, rng=rng)
        self.stdout.write(
            f"Demo testing: campaigns {', '.join(summary.campaigns)}; {summary.draws} draws "
            f"made and one committed; {summary.excusals} excusals; {summary.sessions} "
            f"sessions; {summary.collections} collections, {summary.refusals} refusals, "
            f"{summary.rejected} specimens rejected; {summary.custody_events} custody events."
        )
        return summary.as_dict()

    def write_roster(self, officers: list[demo_people.Officer], actor: User) -> None:
        """Everyone through ``services.person_create``: active (and ``STARTED``) from their
        start date, one audit entry each.

        Not through the roster import: a roster file has no start date (the columns of
        API.md), so an import registers people as active from the day of the import, and
        the demo's history (the 2023–2024 campaign) would then come before their start.
        """
        units = {u.code: u for u in Unit.objects.all()}
        ranks = {(r.agency_id, r.code): r for r in Rank.objects.all()}
        for o in officers:
            unit = units[o.unit]
            personnel.person_create(
                actor=actor,
                family_name=o.family_name,
                given_name=o.given_name,
                name_km=o.name_km,
                sex=o.sex,
                date_of_birth=o.date_of_birth,
                national_id=o.national_id,
                service_number=o.service_number,
                unit=unit,
                rank=ranks[(unit.agency_id, o.rank)],
                position=o.position,
                start_date=o.start_date,
            )

    def record_history(self, changes: list[demo_people.Change], units, actor: User) -> None:
        numbers = {c.service_number for c in changes}
        employments = {
            (e.agency.code, e.service_number): e
            for e in Employment.objects.filter(service_number__in=numbers).select_related("agency")
        }
        ranks = {(r.agency.code, r.code): r for r in Rank.objects.select_related("agency")}
        for change in changes:
            employment = employments[(change.agency, change.service_number)]
            if change.kind == "status":
                personnel.status_record(
                    actor=actor,
                    employment=employment,
                    status=change.status,
                    effective_date=change.effective_date,
                    reason=change.reason,
                    reference=change.reference,
                    reinstatement=change.reinstatement,
                )
            else:
                personnel.employment_change(
                    actor=actor,
                    employment=employment,
                    effective_date=change.effective_date,
                    unit=units[change.unit] if change.unit else None,
                    rank=ranks[(change.agency, change.rank)] if change.rank else None,
                    position=change.position,
                    reference=change.reference,
                )

    def write_logins_file(self, logins: list[Login]) -> None:
        var_dir = Path(settings.VAR_DIR)
        var_dir.mkdir(parents=True, exist_ok=True)
        path = var_dir / LOGINS_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("# Probity demo logins: invented users, random passwords. Never commit.\n")
            fh.write(format_table(logins))
        path.chmod(0o600)

    def print_logins(self, logins: list[Login]) -> None:
        path = Path(settings.VAR_DIR) / LOGINS_FILE
        self.stdout.write(self.style.SUCCESS("Demo data set loaded."))
        self.stdout.write(format_table(logins))
        self.stdout.write(f"These logins are also in {path} (readable by you only).")


def people_units(units: dict[str, Unit]) -> demo_people.Units:
    """Where the demo officers serve, by agency: every unit, the capital's and the
    headquarters' ones drawn more often (sorted by code, so the draw does not depend on the
    database's ids)."""
    pool = demo_people.Units()
    for code in sorted(units):
        agency = code.split("-", 1)[0]
        weight = 3.0 if code.endswith("-HQ") or code == f"NP-{CAPITAL}" else 1.0
        pool.add(agency, code, weight)
    return pool


def format_table(logins: list[Login]) -> str:
    header = Login("username", "role", "over units", "password")
    rows = [header, *logins]
    widths = [max(len(getattr(row, f)) for row in rows) for f in ("username", "role", "units")]

    def line(row: Login) -> str:
        cells = [row.username, row.role, row.units]
        return (
            "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + "  " + row.password
        )

    rule = "  ".join("-" * w for w in widths) + "  " + "-" * 19
    return "\n".join([line(header), rule, *(line(row) for row in logins)]) + "\n"
