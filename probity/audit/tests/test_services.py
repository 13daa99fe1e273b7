"""Appending to the chain, what is stored, and the append-only guards."""

# Tampering is raw SQL on purpose; table and column names are quoted, values are params.
# ruff: noqa: S608

import math
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from probity.audit import chain
from probity.audit.models import AccessLogEntry, AppendOnlyError, AuditEntry
from probity.audit.selectors import audit_head, entry_hash_matches, verify_chain
from probity.audit.services import access_record, audit_record, snapshot
from probity.audit.tests.conftest import ACCESS_TABLE, TABLE, make_entries, qn
from probity.core import context

pytestmark = pytest.mark.django_db


def test_first_entry_follows_genesis_and_the_next_follows_it():
    first, second = make_entries(2)
    assert first.seq == 1 and first.prev_hash == chain.GENESIS_HASH
    assert second.seq == 2 and second.prev_hash == first.entry_hash
    assert audit_head() == (2, second.entry_hash)
    report = verify_chain()
    assert report.ok and report.count == 2 and report.head_hash == second.entry_hash


def test_empty_chain_is_intact():
    report = verify_chain()
    assert report.ok and report.count == 0 and report.head_hash == chain.GENESIS_HASH
    assert audit_head() == (0, chain.GENESIS_HASH)
    assert verify_chain(expect_head=(0, chain.GENESIS_HASH)).ok


def test_actor_object_and_request_id_are_recorded(cast):
    token = context.request_id.set("req-1234567890")
    try:
        entry = audit_record(actor=cast.commander, action="test.act", obj=cast.unit, after={"x": 1})
    finally:
        context.request_id.reset(token)
    entry.refresh_from_db()
    assert entry.actor_id == cast.commander.pk
    assert entry.actor_label == "commander"
    assert entry.object_type == "org.unit"
    assert entry.object_id == str(cast.unit.pk)
    assert entry.object_repr == str(cast.unit)
    assert entry.request_id == "req-1234567890"
    assert entry_hash_matches(entry)


def test_anonymous_or_missing_actor_is_the_system():
    entry = audit_record(actor=None, action="test.system")
    assert entry.actor_id is None and entry.actor_label == "system"


TRICKY = {
    "big_float": 1e16,
    "huge_float": -1.5e300,
    "negative_zero": -0.0,
    "nan": math.nan,
    "inf": math.inf,
    "tiny": 1e-7,
    "sum": 0.1 + 0.2,
    "specific_gravity": 1.018,
    "two": 2.0,
    "big_int": 2**70,
    "decimal": Decimal("1500.50"),
    "date": date(1990, 4, 1),
    "aware": datetime(2024, 1, 22, 8, 30, 0, 5, tzinfo=UTC),
    "naive": datetime(2024, 1, 22, 8, 30),  # noqa: DTZ001 - on purpose
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "bytes": b"\x00\xff",
    "set": {3, 1, 2},
    "nul": "a\x00b",
    "surrogate": "x\ud800y",
    "khmer": "សុខ តារា",
    "nested": {"list": [1, "two", None, True, {"deep": 1e20}]},
    1: "integer key",
}


def test_values_that_databases_change_still_verify_after_a_round_trip():
    entry = audit_record(
        actor=None,
        action="test.tricky",
        object_repr="repr with NUL \x00 and \ud800",
        before=TRICKY,
        after=[TRICKY, "x"],
    )
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.after == entry.after  # what was hashed is what came back
    assert stored.before == entry.before
    assert entry_hash_matches(stored)
    assert verify_chain().ok
    assert stored.before["big_float"] == 10**16
    assert stored.before["negative_zero"] == 0.0
    assert stored.before["nan"] == "nan"
    assert stored.before["decimal"] == "1500.50"
    assert stored.before["date"] == "1990-04-01"
    assert stored.before["aware"] == "2024-01-22T08:30:00.000005+00:00"
    assert stored.before["naive"] == "2024-01-22T08:30:00.000000"
    assert stored.before["uuid"] == "12345678-1234-5678-1234-567812345678"
    assert stored.before["bytes"] == "00ff"
    assert stored.before["set"] == [1, 2, 3]
    assert stored.before["nul"] == "a\ufffdb"
    assert stored.before["1"] == "integer key"
    assert "\x00" not in stored.object_repr


def test_overlong_texts_are_cut_to_their_columns():
    entry = audit_record(
        actor=None,
        action="a" * 150,
        object_type="t" * 150,
        object_id="9" * 150,
        object_repr="r" * 400,
    )
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert len(stored.action) == 100 and len(stored.object_id) == 100
    assert len(stored.object_repr) == 300
    assert verify_chain().ok


def test_times_keep_microseconds():
    entry = audit_record(actor=None, action="test.time")
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.at == entry.at
    assert entry_hash_matches(stored)


def test_snapshot_leaves_secrets_out(cast):
    data = snapshot(cast.commander)
    assert "password" not in data
    assert data["username"] == "commander"
    assert snapshot(cast.commander, ["username"]) == {"username": "commander"}


def test_many_appends_in_nested_transactions_stay_contiguous():
    with transaction.atomic():
        make_entries(3, prefix="outer")
        with transaction.atomic():
            make_entries(3, prefix="inner")
        try:
            with transaction.atomic():
                make_entries(2, prefix="rolled_back")
                raise RuntimeError("roll this back")
        except RuntimeError:
            pass
        make_entries(3, prefix="after")
    seqs = list(AuditEntry.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, 10))
    assert not AuditEntry.objects.filter(action__startswith="rolled_back").exists()
    assert verify_chain().ok


def test_seq_and_hash_are_unique():
    (first,) = make_entries(1)
    clone = {
        f.attname: getattr(first, f.attname)
        for f in AuditEntry._meta.concrete_fields
        if not f.primary_key
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.create(**clone)


# --- the model refuses every change ----------------------------------------------------


def test_saving_an_existing_entry_is_refused(chain5):
    entry = AuditEntry.objects.get(seq=2)
    entry.action = "forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.save(update_fields=["action"])
    assert AuditEntry.objects.get(seq=2).action != "forged"


def test_a_new_instance_with_an_existing_pk_cannot_overwrite(chain5):
    victim = AuditEntry.objects.get(seq=2)
    forged = AuditEntry(
        pk=victim.pk,
        seq=99,
        at=victim.at,
        actor_label="x",
        action="forged",
        prev_hash=victim.prev_hash,
        entry_hash="f" * 64,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        forged.save()  # an INSERT, which the primary key refuses - never an UPDATE
    assert AuditEntry.objects.get(pk=victim.pk).action == victim.action


def test_deleting_is_refused(chain5):
    entry = AuditEntry.objects.get(seq=3)
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(seq=3).delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.count() == 5


def test_queryset_updates_are_refused(chain5):
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(seq=3).update(action="forged")
    entry = AuditEntry.objects.get(seq=3)
    entry.action = "forged"
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.bulk_update([entry], ["action"])
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.bulk_create(
            [entry], update_conflicts=True, unique_fields=["seq"], update_fields=["action"]
        )
    assert verify_chain().ok


def test_access_log_is_append_only_too(cast):
    access = access_record(
        user=cast.auditor, object_type="personnel.person", object_id=12, purpose="review"
    )
    assert access.user == cast.auditor and access.object_id == "12"
    with pytest.raises(AppendOnlyError):
        access.save()
    with pytest.raises(AppendOnlyError):
        access.delete()
    with pytest.raises(AppendOnlyError):
        AccessLogEntry.objects.update(purpose="x")
    with pytest.raises(AppendOnlyError):
        AccessLogEntry.objects.all().delete()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's"
)
@pytest.mark.parametrize("table", [TABLE, ACCESS_TABLE])
def test_postgresql_trigger_refuses_raw_update_and_delete(chain5, cast, table):
    access_record(user=cast.auditor, object_type="x", object_id="1")
    entries, accesses = AuditEntry.objects.count(), AccessLogEntry.objects.count()
    with connection.cursor() as cursor:
        for sql in (
            f"UPDATE {qn(table)} SET object_id = 'forged'",
            f"DELETE FROM {qn(table)}",
        ):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                cursor.execute(sql)
    assert AuditEntry.objects.count() == entries
    assert AccessLogEntry.objects.count() == accesses
    assert verify_chain().ok
