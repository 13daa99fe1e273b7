"""Pure rules of the personnel registry: statuses and which changes are allowed.

No ORM here: plain values in, plain answers out, tested exhaustively.
"""

from dataclasses import dataclass
from datetime import date

ACTIVE = "active"
SUSPENDED = "suspended"
REMOVED = "removed_from_position"
DEMOTED = "demoted"
DISMISSED = "dismissed"
RESIGNED = "resigned"
RETIRED = "retired"
DECEASED = "deceased"

STATUSES = (ACTIVE, SUSPENDED, REMOVED, DEMOTED, DISMISSED, RESIGNED, RETIRED, DECEASED)

# Still on the force's list (can be drawn for testing, can be sanctioned).
IN_SERVICE = frozenset({ACTIVE, SUSPENDED, REMOVED, DEMOTED})
# Off the list: only a recorded reinstatement brings such a person back.
SEPARATED = frozenset({DISMISSED, RESIGNED, RETIRED})
FINAL = frozenset({DECEASED})


@dataclass(frozen=True)
class StatusEvent:
    status: str
    effective_date: date
    seq: int = 0  # order of recording, to break ties on the same date


def current_status(events: list[StatusEvent], *, on: date) -> str | None:
    """The status in force on ``on``: the latest event effective on or before that day
    (ties broken by the order of recording). ``None`` before the first event."""
    in_force = [e for e in events if e.effective_date <= on]
    if not in_force:
        return None
    return max(in_force, key=lambda e: (e.effective_date, e.seq)).status


def _words(status: str) -> str:
    return status.replace("_", " ")


def transition_error(current: str | None, new: str, *, reinstatement: bool) -> str | None:
    """Why ``current`` → ``new`` is refused, or ``None`` when it is allowed.

    - The first status of an employment must be ``active``.
    - Nothing follows ``deceased``.
    - Recording the status a person already has is refused as a mistake.
    - A separated person (dismissed, resigned, retired) becomes active again only by a
      recorded reinstatement. They cannot be suspended, demoted or removed from a position
      they no longer hold, nor resign or retire from a service they have already left (so a
      dismissal cannot be turned into a resignation or a retirement without a reinstatement).
      They can still be dismissed (delisted for an earlier offence) or die.
    - A reinstatement is only for someone who is separated, and it makes them active.
    """
    if new not in STATUSES:
        return f"unknown status {new!r}"
    if current is not None and current not in STATUSES:
        return f"unknown current status {current!r}"
    if reinstatement and new != ACTIVE:
        return "a reinstatement makes a person active"
    if current in FINAL:
        return "no status can follow deceased"
    if reinstatement and current not in SEPARATED:
        return "only a dismissed, resigned or retired person can be reinstated"
    if current is None:
        return None if new == ACTIVE else "the first status of an employment must be active"
    if new == current:
        return f"the person is already {_words(current)}"
    if current in SEPARATED:
        if new == ACTIVE:
            return (
                None
                if reinstatement
                else f"a {current} person becomes active again only by a recorded reinstatement"
            )
        if new in IN_SERVICE:
            return f"a {current} person is no longer in service"
        if new in (RESIGNED, RETIRED):
            return f"a {current} person has already left the service"
    return None


def chronology_error(latest: date | None, new: date) -> str | None:
    """History is kept in order: a change cannot take effect before the last recorded one."""
    if latest is not None and new < latest:
        return (
            f"the change would take effect on {new.isoformat()}, before the last recorded "
            f"change ({latest.isoformat()})"
        )
    return None


def employment_change_error(status: str | None) -> str | None:
    """Transfers, rank and position changes apply only to someone in service on that day
    (``status`` is the status in force on the change's effective date)."""
    if status is None:
        return "the employment had not started on that day"
    if status not in IN_SERVICE:
        return f"a {_words(status)} person is no longer in service"
    return None
