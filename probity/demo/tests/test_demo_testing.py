"""The demo's drug testing: a police random campaign whose draws anyone can re-run, its
sessions, collections, refusals, rejected specimens and chains of custody, and a civil-service
campaign that cannot start before the police one is complete."""

import hashlib
import io
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from probity.accounts.models import User
from probity.audit.models import AuditEntry
from probity.audit.selectors import verify_chain
from probity.demo.testing_data import CIVIL_SERVICE_CAMPAIGN, LEFT_TO_TEST, POLICE_CAMPAIGN
from probity.testing import policies, rules, selectors, services
from probity.testing.models import (
    Campaign,
    Collection,
    CollectionSession,
    CustodyEvent,
    Draw,
    LaboratoryStaff,
    Selection,
)

# Enough officers for every special case of the demo to reach a session's list.
PEOPLE = "600"


@pytest.fixture
def db_demo(settings, tmp_path, db):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("seed_demo", "--people", PEOPLE, stdout=out)
    return out.getvalue()


def _user(name):
    return User.objects.get(username=name)


def check_the_police_campaign_and_its_draws(db_demo):
    police = Campaign.objects.get(code=POLICE_CAMPAIGN)
    assert police.agency.code == "NP" and police.unit.code == "NP-HQ"
    assert (police.mode, police.state, police.frequency) == ("random", "active", "monthly")
    assert (police.rate_percent, police.target_coverage_percent) == (5, 50)
    assert police.by_unit
    drawn = police.draws.filter(state=Draw.State.DRAWN).order_by("number")
    assert drawn.count() == 2
    for draw in drawn:
        verification = selectors.draw_verify(draw)
        assert verification.ok, verification.checks
        assert draw.selections.filter(kind="selected").count() == draw.sample_size
        assert draw.sample_size == rules.sample_size(draw.pool_size, 5)  # 5 % of the pool
    # The third draw: its seed's hash is published, the seed itself nowhere yet.
    pending = police.draws.get(state=Draw.State.COMMITTED)
    assert pending.number == 3 and not pending.selections.exists()
    assert pending.seed_hash == hashlib.sha256(pending.seed.encode("ascii")).hexdigest()
    commit = AuditEntry.objects.get(
        action="testing.draw_commit", object_type="testing.draw", object_id=str(pending.pk)
    )
    assert commit.after["seed_hash"] == pending.seed_hash
    assert not AuditEntry.objects.filter(after__icontains=pending.seed).exists()
    assert not selectors.draw_verify(pending).ok


def check_excusals_call_in_alternates(db_demo):
    excused = Selection.objects.filter(excused=True, draw__campaign__code=POLICE_CAMPAIGN)
    assert excused.count() >= 2
    for selection in excused:
        assert len(selection.excusal_reason) > 20
        assert selection.excused_by.username == "demo-manager"
        alternate = selection.replaced_by
        assert alternate.kind == "alternate" and alternate.unit == selection.unit
        # The alternate is on a session's list in the excused person's place.
        assert alternate.employment_id in set(
            CollectionSession.objects.values_list("entries__employment_id", flat=True)
        )


def check_sessions_collections_and_refusals(db_demo):
    sessions = CollectionSession.objects.filter(campaign__code=POLICE_CAMPAIGN)
    provinces = {s.unit.province.code for s in sessions}
    assert provinces == {"KH-17", "KH-12", "KH-1"}
    collector = _user("demo-collector")
    siem_reap = sessions.get(unit__code="NP-KH-17")
    assert collector in siem_reap.team.all() and siem_reap.state == "open"
    assert policies.can_collect_in(collector, siem_reap)
    # demo-collector still has people to test on the Siem Reap list.
    waiting = [entry for entry, done in selectors.session_list(siem_reap) if done is None]
    assert len(waiting) == LEFT_TO_TEST
    for session in sessions.exclude(pk=siem_reap.pk):
        assert session.state == "closed"
        assert session.collections.count() == session.entries.count()

    collections = Collection.objects.filter(campaign__code=POLICE_CAMPAIGN)
    assert collections.count() >= 10
    assert all(c.selection_id for c in collections)
    refusals = collections.filter(state=Collection.State.REFUSED)
    assert len(set(refusals.values_list("refusal_reason", flat=True))) >= 3
    assert all(r.remarks for r in refusals)
    assert not CustodyEvent.objects.filter(bottle__collection__in=refusals).exists()
    assert collections.exclude(screen_result="").exists()
    now = timezone.now()
    assert not collections.filter(collected_at__gt=now).exists()
    # Every selection collected is one to test (selected, or an alternate called in).
    assert all(c.selection.to_test for c in collections.select_related("selection"))


def check_chains_of_custody(db_demo):
    lab_staff = {
        (p.user.username, p.laboratory.code) for p in LaboratoryStaff.objects.select_related()
    }
    assert ("demo-lab-analyst", "LAB-NPF") in lab_staff
    assert ("demo-lab-certifier", "LAB-NPF") in lab_staff
    now = timezone.now()
    assert not CustodyEvent.objects.filter(at__gt=now).exists()
    events = Counter(CustodyEvent.objects.values_list("event", flat=True))
    assert {"sealed", "handed_over", "received", "aliquoted", "stored"} <= set(events)
    for collection in Collection.objects.exclude(state=Collection.State.REFUSED):
        timeline = list(selectors.custody_timeline(collection))
        times = [e.at for e in timeline]
        assert times == sorted(times)
        assert times[0] == collection.collected_at
        for bottle in collection.bottles.all():
            assert bottle.custody.order_by("at", "id").first().event == "sealed"
    # A specimen handed to a courier with each bottle counter-signed.
    hand_overs = CustodyEvent.objects.filter(event="handed_over")
    assert hand_overs.exists() and not hand_overs.filter(counter_signer_name="").exists()
    received = CustodyEvent.objects.filter(event="received")
    assert set(received.values_list("laboratory__code", "actor__username")) == {
        ("LAB-NPF", "demo-lab-analyst")
    }


def check_rejected_specimens(db_demo):
    rejected = Collection.objects.filter(state=Collection.State.REJECTED)
    assert set(rejected.values_list("rejection_reason", flat=True)) == {
        "seal_broken",
        "id_mismatch",
    }
    for collection in rejected:
        assert AuditEntry.objects.filter(
            action="testing.collection_reject", object_id=str(collection.pk)
        ).exists()
        flawed = CustodyEvent.objects.get(
            bottle__collection=collection, event="received", flaw__gt=""
        )
        assert flawed.flaw == collection.rejection_reason
    seal = rejected.get(rejection_reason="seal_broken")
    assert CustodyEvent.objects.filter(
        bottle__collection=seal, event="received", seal_intact=False
    ).exists()
    mismatch = rejected.get(rejection_reason="id_mismatch")
    assert CustodyEvent.objects.filter(
        bottle__collection=mismatch, event="received", id_matches=False
    ).exists()


def check_the_civil_service_campaign_waits_for_the_police_one(db_demo):
    civil = Campaign.objects.get(code=CIVIL_SERVICE_CAMPAIGN)
    police = Campaign.objects.get(code=POLICE_CAMPAIGN)
    assert (civil.agency.code, civil.mode, civil.state) == ("MCS", "census", "draft")
    assert civil.depends_on == police
    manager = _user("demo-manager")
    entries = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.campaign_start(actor=manager, campaign=civil)
    message = " ".join(exc.value.messages)
    assert f"starts only after {POLICE_CAMPAIGN}" in message and "is active" in message
    assert AuditEntry.objects.count() == entries
    civil.refresh_from_db()
    assert civil.state == "draft"
    # Once the police campaign is complete, nothing else stands in the way.
    services.campaign_complete(actor=manager, campaign=police)
    assert services.campaign_start(actor=manager, campaign=civil).state == "active"


def check_who_sees_the_demo_testing(db_demo):
    police = Campaign.objects.get(code=POLICE_CAMPAIGN)
    assert selectors.collections_for(_user("demo-commander")).count() == 0
    assert not policies.can_view_draws(_user("demo-commander"), police)
    assert policies.can_view_draws(_user("demo-auditor"), police)
    collector = _user("demo-collector")
    seen = selectors.collections_for(collector)
    assert seen.exists()
    assert set(seen.values_list("session__unit__code", flat=True)) == {"NP-KH-17"}
    assert selectors.collections_for(_user("demo-lab-analyst")).exists()
    assert not policies.can_see_donor(_user("demo-lab-analyst"), seen.first())


def check_the_demo_is_audited(db_demo):
    seeded = AuditEntry.objects.get(action="demo.seed")
    testing = seeded.after["testing"]
    assert testing["campaigns"] == [POLICE_CAMPAIGN, CIVIL_SERVICE_CAMPAIGN]
    assert testing["draws"] == 2 and testing["rejected"] == 2
    assert "Demo testing:" in db_demo
    assert verify_chain().ok


def test_the_demo_testing_story(db_demo):
    """One seed (it takes a few seconds) for every check; the last one changes the data."""
    check_the_police_campaign_and_its_draws(db_demo)
    check_excusals_call_in_alternates(db_demo)
    check_sessions_collections_and_refusals(db_demo)
    check_chains_of_custody(db_demo)
    check_rejected_specimens(db_demo)
    check_who_sees_the_demo_testing(db_demo)
    check_the_demo_is_audited(db_demo)
    check_the_civil_service_campaign_waits_for_the_police_one(db_demo)
