"""Pure rules of the personnel registry: statuses and which changes are allowed.

No ORM here: plain values in, plain answers out, tested exhaustively.
"""

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

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


# A status as a word inside a sentence ("the person is already suspended").
_STATUS_WORDS = {
    ACTIVE: pgettext_lazy("status in a sentence", "active"),
    SUSPENDED: pgettext_lazy("status in a sentence", "suspended"),
    REMOVED: pgettext_lazy("status in a sentence", "removed from position"),
    DEMOTED: pgettext_lazy("status in a sentence", "demoted"),
    DISMISSED: pgettext_lazy("status in a sentence", "dismissed"),
    RESIGNED: pgettext_lazy("status in a sentence", "resigned"),
    RETIRED: pgettext_lazy("status in a sentence", "retired"),
    DECEASED: pgettext_lazy("status in a sentence", "deceased"),
}


def status_words(status: str) -> str:
    """A status as a word inside a sentence, in the active language."""
    return str(_STATUS_WORDS.get(status, status.replace("_", " ")))


_words = status_words


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
        return _("unknown status %(status)s") % {"status": repr(new)}
    if current is not None and current not in STATUSES:
        return _("unknown current status %(status)s") % {"status": repr(current)}
    if reinstatement and new != ACTIVE:
        return _("a reinstatement makes a person active")
    if current in FINAL:
        return _("no status can follow deceased")
    if reinstatement and current not in SEPARATED:
        return _("only a dismissed, resigned or retired person can be reinstated")
    if current is None:
        return None if new == ACTIVE else _("the first status of an employment must be active")
    if new == current:
        return _("the person is already %(status)s") % {"status": _words(current)}
    if current in SEPARATED:
        if new == ACTIVE:
            return (
                None
                if reinstatement
                else _("a %(status)s person becomes active again only by a recorded reinstatement")
                % {"status": _words(current)}
            )
        if new in IN_SERVICE:
            return _("a %(status)s person is no longer in service") % {"status": _words(current)}
        if new in (RESIGNED, RETIRED):
            return _("a %(status)s person has already left the service") % {
                "status": _words(current)
            }
    return None


def chronology_error(latest: date | None, new: date) -> str | None:
    """History is kept in order: a change cannot take effect before the last recorded one."""
    if latest is not None and new < latest:
        return _(
            "the change would take effect on %(new)s, before the last recorded change (%(latest)s)"
        ) % {"new": new.isoformat(), "latest": latest.isoformat()}
    return None


def employment_change_error(status: str | None) -> str | None:
    """Transfers, rank and position changes apply only to someone in service on that day
    (``status`` is the status in force on the change's effective date)."""
    if status is None:
        return _("the employment had not started on that day")
    if status not in IN_SERVICE:
        return _("a %(status)s person is no longer in service") % {"status": _words(status)}
    return None
