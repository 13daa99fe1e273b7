"""Invented officers for the demo (and the import benchmark): names, ranks, careers.

Everything here is plain data and a seeded ``random.Random``: the same inputs give the same
people, in the same order, on every machine. Nothing touches the database: ``seed_demo``
writes the people through ``services.person_create`` and their history through
``services.status_record`` / ``services.employment_change``, so the rules are enforced;
``bench/bench_import.py`` writes them to a roster file.

Names are common Khmer family names combined at random with common given names. A few
combinations are the full names of real public figures; they are never produced
(``PUBLIC_FIGURES``).
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from probity.personnel import imports, rules

# (Latin, Khmer)
FAMILY_NAMES = [
    ("Sok", "សុខ"),
    ("Chan", "ចាន់"),
    ("Kim", "គីម"),
    ("Heng", "ហេង"),
    ("Ly", "លី"),
    ("Meas", "មាស"),
    ("Chea", "ជា"),
    ("Ouk", "អ៊ុក"),
    ("Nhem", "ញ៉ែម"),
    ("Pich", "ពេជ្រ"),
    ("Keo", "កែវ"),
    ("Long", "ឡុង"),
    ("Mao", "ម៉ៅ"),
    ("Seng", "សេង"),
    ("Prak", "ប្រាក់"),
    ("Chhim", "ឈឹម"),
    ("Tep", "ទេព"),
    ("Ros", "រស់"),
    ("Nget", "ង៉ែត"),
    ("Vong", "វង្ស"),
]
# Family names drawn more often, as in a real roster.
FAMILY_WEIGHTS = [9, 8, 6, 6, 7, 4, 6, 3, 2, 3, 5, 3, 4, 4, 3, 2, 2, 2, 2, 3]

# (Latin, Khmer, sex)
GIVEN_NAMES = [
    ("Dara", "តារា", "M"),
    ("Sophea", "សុភា", "F"),
    ("Vanna", "វណ្ណា", "M"),
    ("Rithy", "ឫទ្ធី", "M"),
    ("Sokha", "សុខា", "M"),
    ("Bopha", "បុប្ផា", "F"),
    ("Chantha", "ចន្ថា", "F"),
    ("Kosal", "កុសល", "M"),
    ("Nary", "នារី", "F"),
    ("Piseth", "ពិសិដ្ឋ", "M"),
    ("Visal", "វិសាល", "M"),
    ("Sophal", "សុផល", "M"),
    ("Chenda", "ចិន្តា", "F"),
    ("Thida", "ធីតា", "F"),
    ("Samnang", "សំណាង", "M"),
    ("Veasna", "វាសនា", "M"),
    ("Sreymom", "ស្រីមុំ", "F"),
    ("Vibol", "វិបុល", "M"),
    ("Kanha", "កញ្ញា", "F"),
    ("Sovann", "សុវណ្ណ", "M"),
    ("Raksmey", "រស្មី", "F"),
    ("Leakhena", "លក្ខិណា", "F"),
    ("Pheakdey", "ភក្ដី", "M"),
    ("Rotha", "រដ្ឋា", "M"),
    ("Makara", "មករា", "M"),
    ("Sothea", "សុធា", "M"),
    ("Davy", "ដាវី", "F"),
    ("Borey", "បូរី", "M"),
    ("Phalla", "ផល្លា", "F"),
    ("Sopheap", "សុភាព", "F"),
]
# The police is mostly men: a given name of each sex is drawn with these odds.
MALE_SHARE = 0.82

# Full names of real public figures that the lists above could otherwise produce.
PUBLIC_FIGURES = frozenset(
    {
        "Meas Sophea",
        "Chan Sophal",
        "Sok Chenda",
        "Keo Chenda",
        "Yim Sovann",
        "Kim Sokha",
        "Chea Sophara",
        "Chea Vanna",
    }
)

# (agency, share of the people)
AGENCY_SHARES = [("NP", 0.82), ("MP", 0.08), ("GDP", 0.06), ("MCS", 0.04)]

# rank code -> (weight, positions)
UNIFORMED_CAREER = {
    "SGT": (30, ["Police officer", "Patrol officer", "Traffic police officer", "Guard"]),
    "2LT": (20, ["Police officer", "Investigator", "Clerk", "Traffic police officer"]),
    "LT": (18, ["Investigator", "Deputy chief of post", "Clerk", "Anti-drug officer"]),
    "CPT": (14, ["Chief of post", "Deputy chief of office", "Investigator", "Anti-drug officer"]),
    "MAJ": (9, ["Chief of office", "Deputy chief of bureau", "Deputy inspector"]),
    "LTC": (6, ["Chief of bureau", "Inspector", "Deputy commissioner"]),
    "COL": (2.5, ["Deputy commissioner", "Commissioner", "Director of department"]),
    "GEN": (0.5, ["Deputy general commissioner", "Director general"]),
}
CIVIL_SERVICE_CAREER = {
    "D": (20, ["Office assistant", "Driver"]),
    "C": (35, ["Clerk", "Records officer"]),
    "B": (30, ["Officer", "Deputy chief of office"]),
    "A": (15, ["Chief of office", "Deputy director", "Director"]),
}
PRISON_POSITIONS = ["Prison guard", "Prison officer", "Deputy prison director", "Prison director"]
UNIFORMED_ORDER = ["SGT", "2LT", "LT", "CPT", "MAJ", "LTC", "COL", "GEN"]
CIVIL_SERVICE_ORDER = ["D", "C", "B", "A"]

# Who signs an agency's orders, for the references of status changes and transfers.
ORDER_ISSUER = {"NP": "MOI", "MP": "MP-HQ", "GDP": "GDP", "MCS": "MCS"}

# The roster columns of API.md (``POST /api/v1/people``), in the import template's order.
CSV_COLUMNS = list(imports.COLUMNS)

# Nobody's history goes later than this (the story's campaign: October 2023 to January 2024).
HISTORY_END = date(2024, 3, 29)
CAMPAIGN_START = date(2023, 10, 2)
CAMPAIGN_END = date(2024, 1, 29)


@dataclass
class Officer:
    service_number: str
    agency: str
    family_name: str
    given_name: str
    name_km: str
    sex: str
    date_of_birth: date
    national_id: str
    unit: str
    rank: str
    position: str
    start_date: date

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}"

    def csv_row(self) -> dict[str, str]:
        """The officer as a row of a roster file (no start date: API.md has none)."""
        return {
            "service_number": self.service_number,
            "family_name": self.family_name,
            "given_name": self.given_name,
            "name_km": self.name_km,
            "sex": self.sex,
            "date_of_birth": self.date_of_birth.isoformat(),
            "unit": self.unit,
            "rank": self.rank,
            "position": self.position,
            "national_id": self.national_id,
        }


@dataclass
class Change:
    """One dated change of an officer's record, in the order it is to be recorded."""

    service_number: str
    agency: str
    kind: str  # "status" or "employment"
    effective_date: date
    status: str = ""
    reason: str = ""
    reference: str = ""
    reinstatement: bool = False
    unit: str = ""
    rank: str = ""
    position: str | None = None


@dataclass
class Units:
    """Unit codes per agency, with the draw weights of each."""

    codes: dict[str, list[str]] = field(default_factory=dict)
    weights: dict[str, list[float]] = field(default_factory=dict)

    def add(self, agency: str, code: str, weight: float = 1.0) -> None:
        self.codes.setdefault(agency, []).append(code)
        self.weights.setdefault(agency, []).append(weight)


def _day_between(rng: random.Random, first: date, last: date) -> date:
    if last <= first:
        return first
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _weekday(day: date) -> date:
    """Orders are signed on working days."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


class NameDrawer:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.male = [g for g in GIVEN_NAMES if g[2] == "M"]
        self.female = [g for g in GIVEN_NAMES if g[2] == "F"]

    def draw(self, male_share: float = MALE_SHARE) -> tuple[str, str, str, str]:
        """(family name, given name, Khmer full name, sex), never a public figure."""
        while True:
            family, family_km = self.rng.choices(FAMILY_NAMES, weights=FAMILY_WEIGHTS)[0]
            pool = self.male if self.rng.random() < male_share else self.female
            given, given_km, sex = self.rng.choice(pool)
            if f"{family} {given}" not in PUBLIC_FIGURES:
                return family, given, f"{family_km} {given_km}", sex


def invent_officers(
    n: int, units: Units, *, rng: random.Random, today: date = date(2024, 1, 1)
) -> list[Officer]:
    """``n`` officers spread over the agencies' units (every unit gets someone first)."""
    return list(iter_officers(n, units, rng=rng, today=today))


def iter_officers(
    n: int, units: Units, *, rng: random.Random, today: date = date(2024, 1, 1)
) -> Iterator[Officer]:
    """The officers of ``invent_officers`` one at a time (for rosters of a million)."""
    agencies = [a for a, _ in AGENCY_SHARES if units.codes.get(a)]
    shares = [s for a, s in AGENCY_SHARES if units.codes.get(a)]
    names = NameDrawer(rng)
    seen_ids: set[str] = set()
    sequence = {a: 0 for a in agencies}
    # Every unit first (in a fixed order), then at random by weight.
    coverage = [(a, code) for a in agencies for code in units.codes[a]]
    for i in range(n):
        if i < len(coverage):
            agency, unit = coverage[i]
        else:
            agency = rng.choices(agencies, weights=shares)[0]
            unit = rng.choices(units.codes[agency], weights=units.weights[agency])[0]
        sequence[agency] += 1
        family, given, name_km, sex = names.draw()
        career = CIVIL_SERVICE_CAREER if agency == "MCS" else UNIFORMED_CAREER
        rank = rng.choices(list(career), weights=[w for w, _ in career.values()])[0]
        if rank == "GEN" and not unit.endswith("-HQ"):
            rank = "COL"  # generals sit at headquarters
        positions = career[rank][1]
        if agency == "GDP":
            positions = PRISON_POSITIONS[: 2 + UNIFORMED_ORDER.index(rank) // 3]
        age = rng.randint(21, 58)
        born = _day_between(
            rng, date(today.year - age - 1, today.month, 2), date(today.year - age, 1, 1)
        )
        joined_at = rng.randint(18, min(age - 1, 18 + age // 2))
        of_age = date(born.year + joined_at, born.month, min(born.day, 28))
        start = _day_between(rng, of_age, min(of_age + timedelta(days=364), date(2023, 9, 1)))
        while True:
            national_id = f"{rng.randrange(10**8, 10**9)}"
            if national_id not in seen_ids:
                seen_ids.add(national_id)
                break
        yield Officer(
            service_number=f"{agency}-{sequence[agency]:06d}",
            agency=agency,
            family_name=family,
            given_name=given,
            name_km=name_km,
            sex=sex,
            date_of_birth=born,
            national_id=national_id,
            unit=unit,
            rank=rank,
            position=rng.choice(positions),
            start_date=_weekday(start),
        )


class _References:
    """Invented order numbers, one sequence per agency and year: ``0217/24 MOI``."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.next: dict[tuple[str, int], int] = {}

    def __call__(self, agency: str, day: date) -> str:
        key = (agency, day.year)
        number = self.next.get(key, self.rng.randint(100, 300)) + self.rng.randint(1, 9)
        self.next[key] = number
        return f"{number:04d}/{day.year % 100:02d} {ORDER_ISSUER[agency]}"


SUSPENSION_REASONS = [
    "Positive drug screening test; suspended pending the confirmatory result",
    "Disciplinary inquiry opened by the inspectorate",
    "Refused a drug test",
]
DISMISSAL_REASONS = [
    "Confirmed positive for methamphetamine; delisted from the force",
    "Drug use confirmed by the laboratory and the medical review",
    "Serious breach of discipline",
]
REMOVAL_REASONS = [
    "Removed from position after a positive drug test",
    "Removed from position pending a disciplinary decision",
]


def plan_history(
    officers: list[Officer], units: Units, *, rng: random.Random
) -> tuple[list[Change], dict[str, int]]:
    """A few historic changes, sorted by date, and how many of each kind.

    - suspensions during the campaign (Oct 2023 – Jan 2024), most of them followed by a
      dismissal with an order reference (as in the story) or a return to active duty;
    - removals from position and demotions;
    - retirements of the oldest officers, a few resignations;
    - one or two dismissals reversed on appeal by a recorded reinstatement;
    - transfers between units of the same agency, and promotions.

    Each officer's changes are in date order and after their start, so the rules of
    ``personnel.rules`` accept them when they are recorded in the order returned.
    """
    n = len(officers)
    refs = _References(rng)
    changes: list[Change] = []
    counts = {
        "suspended": 0,
        "dismissed": 0,
        "removed_from_position": 0,
        "demoted": 0,
        "retired": 0,
        "resigned": 0,
        "reinstated": 0,
        "back_to_active": 0,
        "transfers": 0,
        "promotions": 0,
    }
    free = list(range(n))
    rng.shuffle(free)

    def take(count: int, where=lambda o: True) -> list[Officer]:
        picked = []
        for index in list(free):
            if len(picked) == count:
                break
            if where(officers[index]):
                picked.append(officers[index])
                free.remove(index)
        return picked

    def status(o: Officer, status: str, day: date, reason: str, **kw) -> None:
        changes.append(
            Change(
                o.service_number,
                o.agency,
                "status",
                day,
                status=status,
                reason=reason,
                reference=kw.pop("reference", refs(o.agency, day)),
                **kw,
            )
        )

    # The campaign: suspensions, then dismissal, return to duty or removal from position.
    uniformed = lambda o: o.agency != "MCS"  # noqa: E731
    for o in take(max(4, n // 100), uniformed):
        suspended = _weekday(_day_between(rng, CAMPAIGN_START, date(2024, 1, 12)))
        status(o, rules.SUSPENDED, suspended, rng.choice(SUSPENSION_REASONS))
        counts["suspended"] += 1
        outcome = rng.random()
        later = _weekday(suspended + timedelta(days=rng.randint(10, 45)))
        if outcome < 0.35:
            later = min(later, CAMPAIGN_END)
            status(o, rules.DISMISSED, later, rng.choice(DISMISSAL_REASONS))
            counts["dismissed"] += 1
        elif outcome < 0.75:
            status(o, rules.ACTIVE, later, "Confirmatory test negative; back on duty")
            counts["back_to_active"] += 1
    # Dismissals without a suspension first (the January 5 orders of the story), two of
    # them reversed on appeal.
    for i, o in enumerate(take(max(3, n // 500), uniformed)):
        day = (
            date(2024, 1, 5)
            if i % 2 == 0
            else _weekday(_day_between(rng, CAMPAIGN_START, CAMPAIGN_END))
        )
        status(o, rules.DISMISSED, day, rng.choice(DISMISSAL_REASONS))
        counts["dismissed"] += 1
        if i < 2:
            back = _weekday(day + timedelta(days=rng.randint(40, 70)))
            status(
                o,
                rules.ACTIVE,
                min(back, HISTORY_END),
                "Dismissal annulled on appeal: the confirmatory test did not confirm",
                reinstatement=True,
            )
            counts["reinstated"] += 1
    for o in take(max(2, n // 250), uniformed):
        day = _weekday(_day_between(rng, CAMPAIGN_START, CAMPAIGN_END))
        status(o, rules.REMOVED, day, rng.choice(REMOVAL_REASONS))
        counts["removed_from_position"] += 1
    for o in take(max(1, n // 500), lambda o: o.rank not in ("SGT", "D")):
        order = CIVIL_SERVICE_ORDER if o.agency == "MCS" else UNIFORMED_ORDER
        lower = order[order.index(o.rank) - 1]
        day = _weekday(_day_between(rng, date(2023, 11, 1), CAMPAIGN_END))
        status(o, rules.DEMOTED, day, "Demoted one rank for a breach of discipline")
        changes.append(
            Change(
                o.service_number,
                o.agency,
                "employment",
                day,
                rank=lower,
                reference=changes[-1].reference,
            )
        )
        counts["demoted"] += 1
    # Retirements of the oldest (60 in the police), a few resignations.
    for o in take(max(2, n // 80), lambda o: o.date_of_birth < date(1967, 6, 1)):
        day = _weekday(max(o.start_date + timedelta(days=365), date(2023, 1, 2)))
        day = _weekday(_day_between(rng, day, date(2023, 12, 29)))
        status(o, rules.RETIRED, day, "Retired at the age limit")
        counts["retired"] += 1
    for o in take(max(1, n // 300)):
        day = _weekday(_day_between(rng, date(2023, 3, 1), CAMPAIGN_END))
        status(o, rules.RESIGNED, day, "Resigned at their own request", reference="")
        counts["resigned"] += 1
    # Transfers and promotions among those still serving.
    for o in take(max(3, n // 30)):
        others = [u for u in units.codes[o.agency] if u != o.unit]
        if not others:
            continue
        day = _weekday(_day_between(rng, max(o.start_date, date(2021, 1, 4)), HISTORY_END))
        new_unit = rng.choice(others)
        changes.append(
            Change(
                o.service_number,
                o.agency,
                "employment",
                day,
                unit=new_unit,
                reference=refs(o.agency, day),
            )
        )
        counts["transfers"] += 1
    for o in take(max(2, n // 40), lambda o: o.rank not in ("GEN", "COL", "A")):
        order = CIVIL_SERVICE_ORDER if o.agency == "MCS" else UNIFORMED_ORDER
        higher = order[order.index(o.rank) + 1]
        day = _weekday(_day_between(rng, max(o.start_date, date(2021, 1, 4)), HISTORY_END))
        changes.append(
            Change(
                o.service_number,
                o.agency,
                "employment",
                day,
                rank=higher,
                reference=refs(o.agency, day),
            )
        )
        counts["promotions"] += 1
    started = {o.service_number: o.start_date for o in officers}
    for change in changes:  # nobody's history starts before they joined
        if change.effective_date < started[change.service_number]:
            raise ValueError(f"a change before the start of employment: {change}")
    changes.sort(key=lambda c: (c.effective_date, c.service_number))
    return changes, counts
