"""The demo's drug testing: laboratory posts, a National Police random campaign with its
draws, excusals, collection sessions, collections, refusals and chains of custody, and a
civil-service campaign that waits for the police one (DOMAIN.md §7: civil-servant testing
starts after the final National Police test).

Everything goes through ``probity.testing.services``, so it is audited and checked like real
work. A draw is made at the moment it is recorded (its time is not ours to choose), so the
demo's testing happens on the day the demo is loaded: the draws first, then the collections
and custody events, each stamped with the time it is recorded, in that order. People and
couriers are invented.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from probity.accounts.models import User
from probity.org.models import Laboratory, Unit
from probity.testing import rules, selectors, services
from probity.testing.models import Campaign, Collection, CollectionSession, SpecimenType

POLICE_CAMPAIGN = "NP-2026-RANDOM"
CIVIL_SERVICE_CAMPAIGN = "MCS-2027-CENSUS"

# (unit visited, place, team usernames). Siem Reap is demo-collector's jurisdiction; the
# second collector covers Phnom Penh and Banteay Meanchey.
SESSIONS = [
    ("NP-KH-17", "Siem Reap Provincial Police Commissariat, meeting hall", ["demo-collector"]),
    ("NP-KH-12", "Phnom Penh Municipal Police Commissariat, clinic", ["demo-collector-2"]),
    ("NP-KH-1", "Banteay Meanchey Provincial Police Commissariat", ["demo-collector-2"]),
]
# How many people on the Siem Reap list are left for demo-collector to test live.
LEFT_TO_TEST = 2

EXCUSALS = [
    "On approved annual leave until the end of the month (leave order attached).",
    "In hospital after a road accident; medical certificate seen.",
    "Deployed on a border mission; back after this draw's collection period.",
]

# Outcomes given to the people listed, in this order (the rest are plain collections).
SPECIAL = [
    "seal_broken",
    "id_mismatch",
    "refusal:no_show",
    "refusal:left_early",
    "refusal:insufficient_specimen",
    "screen:negative",
    "screen:non_negative",
    "refusal:tampering",
    "in_transit",
    "screen:negative",
]
REFUSAL_REMARKS = {
    "no_show": "Did not come to the session although notified in person that morning.",
    "left_early": "Left the site after giving identity, before providing a specimen.",
    "insufficient_specimen": (
        "20 mL after three hours and 500 mL of water; no medical reason given."
    ),
    "tampering": "A vial of liquid found in the donor's pocket at the observed collection.",
}
COURIERS = ["Demo courier Kong Vibol", "Demo courier Ouk Sreyneang"]


@dataclass
class Summary:
    campaigns: list[str] = field(default_factory=list)
    draws: int = 0
    excusals: int = 0
    sessions: int = 0
    collections: int = 0
    refusals: int = 0
    rejected: int = 0
    custody_events: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class _Clock:
    """The time of each record: now, and never before the previous one, so custody events
    keep their order even when the database's clock resolution is coarse."""

    def __init__(self):
        self.last = timezone.now()

    def __call__(self):
        now = max(timezone.now(), self.last + timedelta(microseconds=1))
        self.last = now
        return now


def seed_testing(units: dict[str, Unit], *, rng: random.Random) -> Summary:
    users = {u.username: u for u in User.objects.filter(username__startswith="demo-")}
    labs = {lab.code: lab for lab in Laboratory.objects.all()}
    summary = Summary()
    admin, manager = users["demo-admin"], users["demo-manager"]

    services.lab_staff_add(actor=admin, user=users["demo-lab-analyst"], laboratory=labs["LAB-NPF"])
    services.lab_staff_add(
        actor=admin, user=users["demo-lab-certifier"], laboratory=labs["LAB-NPF"]
    )
    services.lab_staff_add(
        actor=admin, user=users["demo-lab-certifier"], laboratory=labs["LAB-MOH"]
    )

    today = timezone.localdate()
    starts_on = today - timedelta(days=14)
    police = services.campaign_create(
        actor=manager,
        code=POLICE_CAMPAIGN,
        name_en="National Police random testing 2026-2027",
        name_km="ការធ្វើតេស្តដោយចៃដន្យ នគរបាលជាតិ ២០២៦-២០២៧",
        agency=units["NP-HQ"].agency,
        unit=units["NP-HQ"],
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=364),
        mode=Campaign.Mode.RANDOM,
        rate_percent=Decimal("5"),
        frequency=Campaign.Frequency.MONTHLY,
        target_coverage_percent=Decimal("50"),
        by_unit=True,
        alternates=1,
    )
    police = services.campaign_start(actor=manager, campaign=police)
    civil = services.campaign_create(
        actor=manager,
        code=CIVIL_SERVICE_CAMPAIGN,
        name_en="Civil service census testing 2027",
        name_km="ការធ្វើតេស្តមន្ត្រីរាជការស៊ីវិល ២០២៧",
        agency=units["MCS-HQ"].agency,
        unit=units["MCS-HQ"],
        starts_on=police.ends_on + timedelta(days=1),
        ends_on=police.ends_on + timedelta(days=180),
        mode=Campaign.Mode.CENSUS,
        depends_on=police,
    )
    summary.campaigns = [police.code, civil.code]

    if not selectors.eligible_pool(police).exists():
        return summary  # a demo without people: the campaigns only

    draws = []
    for _ in range(2):
        draw = services.draw_commit(actor=manager, campaign=police)
        draws.append(services.draw_perform(actor=manager, draw=draw))
    # The third draw's seed is committed (its hash published) but the draw not yet made.
    services.draw_commit(actor=manager, campaign=police)
    summary.draws = len(draws)

    # A few excusals in the provinces visited, before the lists are made, so that the
    # alternates called in are listed instead.
    first = draws[0]
    for (unit_code, _, _), reason in zip(SESSIONS, EXCUSALS, strict=True):
        selection = (
            first.selections.filter(kind="selected", unit__path__startswith=units[unit_code].path)
            .order_by("position")
            .first()
        )
        if selection is not None:
            services.selection_excuse(actor=manager, selection=selection, reason=reason)
            summary.excusals += 1

    sessions = []
    for unit_code, site, team in SESSIONS:
        session = services.session_create(
            actor=users[team[0]],
            unit=units[unit_code],
            site=site,
            date=today,
            team=[users[name] for name in team],
            campaign=police,
            notes="Unannounced: the list was made on the morning of the session.",
        )
        for draw in draws:
            services.session_add_draw(actor=users[team[0]], session=session, draw=draw)
        services.session_set_state(
            actor=users[team[0]], session=session, state=CollectionSession.State.OPEN
        )
        sessions.append(session)
    summary.sessions = len(sessions)

    _collect(sessions, users, labs, rng=rng, summary=summary)

    for session in sessions[1:]:
        services.session_set_state(
            actor=session.team.first(), session=session, state=CollectionSession.State.CLOSED
        )
    summary.rejected = Collection.objects.filter(
        campaign=police, state=Collection.State.REJECTED
    ).count()
    return summary


def _interleaved(sessions) -> list[tuple[CollectionSession, object]]:
    """The listed people of every session, taking one from each in turn, so that each
    session gets some of the special outcomes. The last few of the first session (Siem Reap)
    are left for demo-collector to test."""
    lists = []
    for index, session in enumerate(sessions):
        entries = list(session.entries.select_related("employment", "selection").order_by("id"))
        if index == 0:
            entries = entries[: max(0, len(entries) - LEFT_TO_TEST)]
        lists.append([(session, entry) for entry in entries])
    ordered = []
    while any(lists):
        for items in lists:
            if items:
                ordered.append(items.pop(0))
    return ordered


def _collect(sessions, users, labs, *, rng: random.Random, summary: Summary) -> None:
    clock = _Clock()
    urine = SpecimenType.objects.get(code="urine")
    analyst = users["demo-lab-analyst"]
    lab = labs["LAB-NPF"]
    seal = iter(range(1001, 100000))
    shipments = []
    for n, (session, entry) in enumerate(_interleaved(sessions)):
        outcome = SPECIAL[n] if n < len(SPECIAL) else "normal"
        collector = session.team.first()
        common = {
            "actor": collector,
            "employment": entry.employment,
            "reason": entry.reason,
            "session": session,
            "selection": entry.selection,
            "collectors": [collector],
        }
        if outcome.startswith("refusal:"):
            refusal_reason = outcome.split(":", 1)[1]
            services.collection_refuse(
                **common,
                refusal_reason=refusal_reason,
                at=clock(),
                remarks=REFUSAL_REMARKS[refusal_reason],
            )
            summary.refusals += 1
            continue
        volume_a = rng.randrange(35, 61)
        volume_b = rng.randrange(15, 26)
        collection = services.collection_record(
            **common,
            collected_at=clock(),
            specimen_type=urine,
            split=True,
            temperature_c=Decimal(rng.randrange(330, 366)) / 10,
            identity_method=rng.choice(["id_card", "id_card", "known", "supervisor"]),
            seal_a=f"S-{next(seal):06d}",
            seal_b=f"S-{next(seal):06d}",
            volume_a_ml=volume_a,
            volume_b_ml=volume_b,
            screen_result=outcome.split(":", 1)[1] if outcome.startswith("screen:") else "",
        )
        summary.collections += 1
        if collection.state == Collection.State.COLLECTED:
            shipments.append((collection, outcome, volume_a, volume_b))

    for i, (collection, outcome, volume_a, volume_b) in enumerate(shipments):
        collector = collection.collected_by
        courier = COURIERS[i % len(COURIERS)]
        for bottle in collection.bottles.all():
            services.custody_record(
                actor=collector,
                bottle=bottle,
                event="handed_over",
                at=clock(),
                counter_signer_name=courier,
                location=collection.site,
                laboratory=lab,
                seal_intact=True,
            )
            summary.custody_events += 1
        if outcome == "in_transit":
            continue  # handed to the courier, not yet at the laboratory
        for bottle in collection.bottles.all():
            on_bottle = collection.specimen_id
            seal_intact = True
            if bottle.label == "A" and outcome == "id_mismatch":
                on_bottle = rules.new_specimen_id()  # the label of another specimen
            if bottle.label == "A" and outcome == "seal_broken":
                seal_intact = False
            services.custody_record(
                actor=analyst,
                bottle=bottle,
                event="received",
                at=clock(),
                laboratory=lab,
                seal_intact=seal_intact,
                specimen_id_on_bottle=on_bottle,
                volume_ml=volume_a if bottle.label == "A" else volume_b,
                location="Specimen reception",
                remarks="" if seal_intact else "Tamper tape torn across the cap.",
            )
            summary.custody_events += 1
            later = ["aliquoted", "stored"] if bottle.label == "A" else ["stored"]
            for event in later:
                services.custody_record(
                    actor=analyst,
                    bottle=bottle,
                    event=event,
                    at=clock(),
                    location="Freezer 1" if event == "stored" else "Bench 2",
                )
                summary.custody_events += 1
