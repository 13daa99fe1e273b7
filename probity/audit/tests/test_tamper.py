"""Tampering with the stored chain through raw SQL is detected at the first bad entry."""

# Tampering is raw SQL on purpose; table and column names are quoted, values are params.
# ruff: noqa: S608

import pytest

from probity.audit.models import AuditEntry
from probity.audit.selectors import audit_head, verify_chain
from probity.audit.tests.conftest import TABLE, make_entries, qn, tampering

pytestmark = pytest.mark.django_db

SEQ, ACTION, AFTER, ENTRY_HASH = qn("seq"), qn("action"), qn("after"), qn("entry_hash")


def test_intact_chain_verifies(chain5):
    report = verify_chain()
    assert report.ok
    assert report.count == 5
    assert report.head_hash == chain5[-1].entry_hash
    assert report.head == f"5:{chain5[-1].entry_hash}"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "forged.action"),
        ("actor_label", "someone_else"),
        ("object_id", "999"),
        ("object_repr", "Other thing"),
        ("request_id", "other-request"),
    ],
)
def test_an_edited_field_is_reported_as_altered_at_its_entry(chain5, column, value):
    with tampering() as cursor:
        cursor.execute(f"UPDATE {qn(TABLE)} SET {qn(column)} = %s WHERE {SEQ} = 3", [value])
    report = verify_chain()
    assert not report.ok
    assert report.problem.seq == 3
    assert report.problem.kind == "altered"
    assert "#3" in report.problem.message and "altered" in report.problem.message
    assert report.count == 2
    assert report.head_hash == chain5[1].entry_hash


def test_edited_json_is_detected(chain5):
    with tampering() as cursor:
        cursor.execute(f"UPDATE {qn(TABLE)} SET {AFTER} = %s WHERE {SEQ} = 4", ['{"n": 40}'])
    report = verify_chain()
    assert (report.problem.seq, report.problem.kind) == (4, "altered")


def test_edited_time_is_detected(chain5):
    later = chain5[1].at.replace(microsecond=(chain5[1].at.microsecond + 1) % 1_000_000)
    with tampering() as cursor:
        cursor.execute(f"UPDATE {qn(TABLE)} SET {qn('at')} = %s WHERE {SEQ} = 2", [later])
    report = verify_chain()
    assert (report.problem.seq, report.problem.kind) == (2, "altered")


def test_a_rehashed_edit_breaks_the_link_to_the_next_entry(chain5):
    """Someone who recomputes the edited entry's hash still breaks the entry after it."""
    from probity.audit import chain
    from probity.audit.selectors import entry_fields

    entry = AuditEntry.objects.get(seq=3)
    entry.action = "forged"
    new_hash = chain.entry_hash(**entry_fields(entry))
    with tampering() as cursor:
        cursor.execute(
            f"UPDATE {qn(TABLE)} SET {ACTION} = %s, {ENTRY_HASH} = %s WHERE {SEQ} = 3",
            ["forged", new_hash],
        )
    report = verify_chain()
    assert report.problem.seq == 4
    assert report.problem.kind == "reordered"
    assert report.count == 3


def test_a_removed_middle_entry_is_reported(chain5):
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {qn(TABLE)} WHERE {SEQ} = 3")
    report = verify_chain()
    assert report.problem.seq == 4
    assert report.problem.kind == "removed"
    assert "#3 was removed" in report.problem.message
    assert report.count == 2


def test_several_removed_entries_are_named(chain5):
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {qn(TABLE)} WHERE {SEQ} IN (2, 3)")
    report = verify_chain()
    assert report.problem.seq == 4
    assert "#2 to #3 were removed" in report.problem.message


def test_a_removed_first_entry_is_reported(chain5):
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {qn(TABLE)} WHERE {SEQ} = 1")
    report = verify_chain()
    assert (report.problem.seq, report.problem.kind) == (2, "removed")
    assert report.count == 0


def _swap_seq(cursor, a: int, b: int) -> None:
    # Three steps: the unique constraint on seq is checked row by row.
    parking = 10**9
    cursor.execute(f"UPDATE {qn(TABLE)} SET {SEQ} = %s WHERE {SEQ} = %s", [parking, a])
    cursor.execute(f"UPDATE {qn(TABLE)} SET {SEQ} = %s WHERE {SEQ} = %s", [a, b])
    cursor.execute(f"UPDATE {qn(TABLE)} SET {SEQ} = %s WHERE {SEQ} = %s", [b, parking])


def test_swapped_neighbours_are_reported_as_reordered(chain5):
    with tampering() as cursor:
        _swap_seq(cursor, 3, 4)
    report = verify_chain()
    assert report.problem.seq == 3
    assert report.problem.kind == "reordered"
    assert "reordered" in report.problem.message
    assert report.count == 2


def test_swapped_distant_entries_are_reported(chain5):
    with tampering() as cursor:
        _swap_seq(cursor, 2, 5)
    report = verify_chain()
    assert (report.problem.seq, report.problem.kind) == (2, "reordered")


def test_swapped_contents_are_reported(chain5):
    """Every column but the primary key exchanged between two rows."""
    columns = [f.column for f in AuditEntry._meta.concrete_fields if not f.primary_key]
    rows = {}
    with tampering() as cursor:
        for seq in (2, 3):
            cursor.execute(
                f"SELECT {', '.join(qn(c) for c in columns)} FROM {qn(TABLE)} WHERE {SEQ} = %s",
                [seq],
            )
            rows[seq] = cursor.fetchone()
        cursor.execute(f"DELETE FROM {qn(TABLE)} WHERE {SEQ} IN (2, 3)")
        placeholders = ", ".join(["%s"] * len(columns))
        insert = (
            f"INSERT INTO {qn(TABLE)} ({', '.join(qn(c) for c in columns)}) VALUES ({placeholders})"
        )
        # Insert the two rows each carrying the other's content but its own seq.
        seq_index = columns.index("seq")
        for own, other in ((2, 3), (3, 2)):
            values = list(rows[other])
            values[seq_index] = own
            cursor.execute(insert, values)
    report = verify_chain()
    assert report.problem.seq == 2
    assert not report.ok


def test_a_truncated_tail_passes_alone_but_not_against_the_recorded_head(chain5):
    recorded = audit_head()
    assert recorded == (5, chain5[-1].entry_hash)
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {qn(TABLE)} WHERE {SEQ} >= 4")
    assert verify_chain().ok  # the rest of the chain is consistent
    report = verify_chain(expect_head=recorded)
    assert not report.ok
    assert report.problem.kind == "truncated"
    assert report.problem.seq == 4
    assert "#4 to #5 were removed" in report.problem.message
    assert report.count == 3


def test_a_grown_chain_still_matches_an_earlier_head(chain5):
    recorded = audit_head()
    make_entries(3, prefix="later")
    report = verify_chain(expect_head=recorded)
    assert report.ok and report.count == 8


def test_a_rewritten_chain_does_not_match_the_recorded_head(chain5):
    """Everything recomputed consistently after an edit: only the recorded head tells."""
    from probity.audit import chain
    from probity.audit.selectors import entry_fields

    recorded = audit_head()
    prev = AuditEntry.objects.get(seq=2).entry_hash
    with tampering() as cursor:
        for entry in AuditEntry.objects.filter(seq__gte=3).order_by("seq"):
            entry.prev_hash = prev
            if entry.seq == 3:
                entry.action = "forged"
            prev = chain.entry_hash(**entry_fields(entry))
            cursor.execute(
                f"UPDATE {qn(TABLE)} SET {ACTION} = %s, {qn('prev_hash')} = %s, "
                f"{ENTRY_HASH} = %s WHERE {SEQ} = %s",
                [entry.action, entry.prev_hash, prev, entry.seq],
            )
    assert verify_chain().ok
    report = verify_chain(expect_head=recorded)
    assert (report.problem.seq, report.problem.kind) == (5, "head_mismatch")


def test_an_inserted_entry_before_the_first_is_reported(chain5):
    first = AuditEntry.objects.get(seq=1)
    with tampering() as cursor:
        cursor.execute(f"UPDATE {qn(TABLE)} SET {SEQ} = 0 WHERE {SEQ} = 1")
    report = verify_chain()
    assert (report.problem.seq, report.problem.kind) == (0, "reordered")
    assert first.entry_hash != report.head_hash
