"""The domain rules of the registry, exhaustively.

The transition table below is the specification, written out by hand: every (current, new,
reinstatement) combination of the eight statuses (and no status at all) is listed, and the
test checks ``transition_error`` against it, cell by cell.
"""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probity.personnel import rules
from probity.personnel.rules import (
    ACTIVE,
    DECEASED,
    DEMOTED,
    DISMISSED,
    REMOVED,
    RESIGNED,
    RETIRED,
    STATUSES,
    SUSPENDED,
    StatusEvent,
    chronology_error,
    current_status,
    employment_change_error,
    transition_error,
)

COLUMNS = (ACTIVE, SUSPENDED, REMOVED, DEMOTED, DISMISSED, RESIGNED, RETIRED, DECEASED)

# fmt: off
# Allowed ("Y") or refused (".") — rows: the current status, columns: the new status.
#
#                  act sus rem dem dis res ret dec
PLAIN = {
    None:       "   Y   .   .   .   .   .   .   .",
    ACTIVE:     "   .   Y   Y   Y   Y   Y   Y   Y",
    SUSPENDED:  "   Y   .   Y   Y   Y   Y   Y   Y",
    REMOVED:    "   Y   Y   .   Y   Y   Y   Y   Y",
    DEMOTED:    "   Y   Y   Y   .   Y   Y   Y   Y",
    DISMISSED:  "   .   .   .   .   .   .   .   Y",
    RESIGNED:   "   .   .   .   .   Y   .   .   Y",
    RETIRED:    "   .   .   .   .   Y   .   .   Y",
    DECEASED:   "   .   .   .   .   .   .   .   .",
}
# With ``reinstatement=True``.
#                  act sus rem dem dis res ret dec
REINSTATEMENT = {
    None:       "   .   .   .   .   .   .   .   .",
    ACTIVE:     "   .   .   .   .   .   .   .   .",
    SUSPENDED:  "   .   .   .   .   .   .   .   .",
    REMOVED:    "   .   .   .   .   .   .   .   .",
    DEMOTED:    "   .   .   .   .   .   .   .   .",
    DISMISSED:  "   Y   .   .   .   .   .   .   .",
    RESIGNED:   "   Y   .   .   .   .   .   .   .",
    RETIRED:    "   Y   .   .   .   .   .   .   .",
    DECEASED:   "   .   .   .   .   .   .   .   .",
}
# fmt: on


def _cells():
    for reinstatement, table in ((False, PLAIN), (True, REINSTATEMENT)):
        for current, row in table.items():
            marks = row.split()
            assert len(marks) == len(COLUMNS), current
            for new, mark in zip(COLUMNS, marks, strict=True):
                assert mark in {"Y", "."}
                yield pytest.param(
                    current, new, reinstatement, mark == "Y", id=f"{current}-{new}-{reinstatement}"
                )


CELLS = list(_cells())


def test_the_table_covers_every_combination():
    assert set(COLUMNS) == set(STATUSES) and len(STATUSES) == 8
    assert set(PLAIN) == set(REINSTATEMENT) == {None, *STATUSES}
    assert len(CELLS) == 9 * 8 * 2
    combos = {(c.values[0], c.values[1], c.values[2]) for c in CELLS}
    assert len(combos) == 144


@pytest.mark.parametrize(("current", "new", "reinstatement", "allowed"), CELLS)
def test_transition_table(current, new, reinstatement, allowed):
    error = transition_error(current, new, reinstatement=reinstatement)
    if allowed:
        assert error is None
    else:
        assert isinstance(error, str) and error


@pytest.mark.parametrize(
    ("current", "new", "reinstatement", "message"),
    [
        (None, SUSPENDED, False, "the first status of an employment must be active"),
        (None, ACTIVE, True, "only a dismissed, resigned or retired person can be reinstated"),
        (DECEASED, ACTIVE, False, "no status can follow deceased"),
        (DECEASED, ACTIVE, True, "no status can follow deceased"),
        (DECEASED, DECEASED, False, "no status can follow deceased"),
        (
            DISMISSED,
            ACTIVE,
            False,
            "a dismissed person becomes active again only by a recorded reinstatement",
        ),
        (
            RETIRED,
            ACTIVE,
            False,
            "a retired person becomes active again only by a recorded reinstatement",
        ),
        (DISMISSED, SUSPENDED, False, "a dismissed person is no longer in service"),
        (RESIGNED, REMOVED, False, "a resigned person is no longer in service"),
        (DISMISSED, RESIGNED, False, "a dismissed person has already left the service"),
        (DISMISSED, RETIRED, False, "a dismissed person has already left the service"),
        (RESIGNED, RETIRED, False, "a resigned person has already left the service"),
        (DISMISSED, DISMISSED, False, "the person is already dismissed"),
        (ACTIVE, ACTIVE, False, "the person is already active"),
        (REMOVED, REMOVED, False, "the person is already removed from position"),
        (DISMISSED, SUSPENDED, True, "a reinstatement makes a person active"),
        (ACTIVE, DISMISSED, True, "a reinstatement makes a person active"),
        (ACTIVE, ACTIVE, True, "only a dismissed, resigned or retired person can be reinstated"),
        (
            SUSPENDED,
            ACTIVE,
            True,
            "only a dismissed, resigned or retired person can be reinstated",
        ),
    ],
)
def test_transition_messages(current, new, reinstatement, message):
    assert transition_error(current, new, reinstatement=reinstatement) == message


@pytest.mark.parametrize("current", [None, *STATUSES])
@pytest.mark.parametrize("reinstatement", [False, True])
def test_unknown_new_status_is_refused(current, reinstatement):
    assert transition_error(current, "promoted", reinstatement=reinstatement) == (
        "unknown status 'promoted'"
    )


def test_unknown_current_status_is_refused():
    assert transition_error("on_leave", ACTIVE, reinstatement=False) == (
        "unknown current status 'on_leave'"
    )


def test_groups_partition_the_statuses():
    groups = (rules.IN_SERVICE, rules.SEPARATED, rules.FINAL)
    assert set().union(*groups) == set(STATUSES)
    assert sum(len(g) for g in groups) == len(STATUSES)
    assert rules.IN_SERVICE == {ACTIVE, SUSPENDED, REMOVED, DEMOTED}
    assert rules.SEPARATED == {DISMISSED, RESIGNED, RETIRED}
    assert rules.FINAL == {DECEASED}


# --- current_status ---------------------------------------------------------------------

D = date(2024, 3, 15)


def test_no_history_has_no_status():
    assert current_status([], on=D) is None


def test_before_the_first_event_there_is_no_status():
    events = [StatusEvent(ACTIVE, D, 1)]
    assert current_status(events, on=D - timedelta(days=1)) is None
    assert current_status(events, on=D) == ACTIVE  # in force on its own day
    assert current_status(events, on=D + timedelta(days=3650)) == ACTIVE


def test_later_events_are_not_yet_in_force():
    events = [StatusEvent(ACTIVE, D, 1), StatusEvent(DISMISSED, D + timedelta(days=30), 2)]
    assert current_status(events, on=D + timedelta(days=29)) == ACTIVE
    assert current_status(events, on=D + timedelta(days=30)) == DISMISSED


def test_same_day_ties_go_to_the_later_recording_whatever_the_list_order():
    events = [
        StatusEvent(DISMISSED, D, 7),
        StatusEvent(ACTIVE, D - timedelta(days=100), 1),
        StatusEvent(SUSPENDED, D, 3),
    ]
    assert current_status(events, on=D) == DISMISSED
    assert current_status(list(reversed(events)), on=D) == DISMISSED


def test_a_backdated_recording_does_not_override_a_later_date():
    # Recorded last (higher seq) but effective earlier: the later date wins.
    events = [StatusEvent(SUSPENDED, D, 1), StatusEvent(ACTIVE, D - timedelta(days=1), 2)]
    assert current_status(events, on=D) == SUSPENDED
    assert current_status(events, on=D - timedelta(days=1)) == ACTIVE


def _oracle(events: list[StatusEvent], on: date) -> str | None:
    """Replay the history in order and stop at ``on``."""
    status = None
    for event in sorted(events, key=lambda e: (e.effective_date, e.seq)):
        if event.effective_date > on:
            break
        status = event.status
    return status


histories = st.lists(
    st.tuples(st.sampled_from(STATUSES), st.integers(min_value=-60, max_value=60)),
    max_size=12,
).flatmap(
    lambda raw: st.permutations(
        [StatusEvent(s, D + timedelta(days=offset), seq) for seq, (s, offset) in enumerate(raw)]
    )
)


@given(events=histories, offset=st.integers(min_value=-70, max_value=70))
def test_current_status_is_the_latest_event_in_force(events, offset):
    on = D + timedelta(days=offset)
    assert current_status(events, on=on) == _oracle(events, on)


@given(events=histories, offset=st.integers(min_value=-70, max_value=70))
def test_current_status_ignores_events_after_the_day(events, offset):
    on = D + timedelta(days=offset)
    kept = [e for e in events if e.effective_date <= on]
    assert current_status(events, on=on) == current_status(kept, on=on)
    if not kept:
        assert current_status(events, on=on) is None


# --- chronology ---------------------------------------------------------------------------


def test_chronology_without_history_allows_any_date():
    assert chronology_error(None, date(1990, 1, 1)) is None


def test_chronology_same_day_is_allowed():
    assert chronology_error(D, D) is None


def test_chronology_later_day_is_allowed():
    assert chronology_error(D, D + timedelta(days=1)) is None


def test_chronology_one_day_before_is_refused():
    assert chronology_error(D, D - timedelta(days=1)) == (
        "the change would take effect on 2024-03-14, before the last recorded change (2024-03-15)"
    )


@given(latest=st.dates(), new=st.dates())
def test_chronology_refuses_exactly_the_earlier_dates(latest, new):
    assert (chronology_error(latest, new) is None) == (new >= latest)


# --- employment changes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (None, False),
        (ACTIVE, True),
        (SUSPENDED, True),
        (REMOVED, True),
        (DEMOTED, True),
        (DISMISSED, False),
        (RESIGNED, False),
        (RETIRED, False),
        (DECEASED, False),
    ],
)
def test_employment_changes_only_in_service(status, allowed):
    error = employment_change_error(status)
    assert (error is None) == allowed
