"""Reads of the audit chain and the access log: search and verification.

Both logs span the whole installation; who may read them is decided by ``policies.py``.
"""

from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from probity.audit import chain
from probity.audit.models import AccessLogEntry, AuditEntry


def entry_fields(entry: AuditEntry) -> dict:
    return {
        "seq": entry.seq,
        "at": entry.at,
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "before": entry.before,
        "after": entry.after,
        "request_id": entry.request_id,
        "prev_hash": entry.prev_hash,
    }


def entry_hash_matches(entry: AuditEntry) -> bool:
    """Whether one entry's stored hash is the hash of its content (not of the chain)."""
    return chain.entry_hash(**entry_fields(entry)) == entry.entry_hash


def audit_head() -> tuple[int, str]:
    """The chain's head: the last entry's number (the count of an intact chain) and hash.

    One query, so that the pair is consistent while other requests append.
    """
    last = AuditEntry.objects.order_by("-seq").values_list("seq", "entry_hash").first()
    return (last[0], last[1]) if last else (0, chain.GENESIS_HASH)


def _removed(entry_seq: int, expected_seq: int) -> chain.ChainProblem:
    what = ngettext(
        "entry #%(first)d was removed",
        "entries #%(first)d to #%(last)d were removed",
        entry_seq - expected_seq,
    ) % {"first": expected_seq, "last": entry_seq - 1}
    return chain.ChainProblem(
        entry_seq,
        _("entry #%(seq)d comes where #%(expected)d should be: %(what)s")
        % {"seq": entry_seq, "expected": expected_seq, "what": what},
        "removed",
    )


def _out_of_place(entry: AuditEntry) -> chain.ChainProblem:
    """``entry`` does not follow the entry before it; say what it follows instead."""
    follows = (
        AuditEntry.objects.filter(entry_hash=entry.prev_hash).values_list("seq", flat=True).first()
    )
    if follows is not None:
        message = _(
            "entry #%(seq)d was written after entry #%(follows)d but now comes after "
            "#%(before)d: entries were reordered"
        ) % {"seq": entry.seq, "follows": follows, "before": entry.seq - 1}
        return chain.ChainProblem(entry.seq, message, "reordered")
    message = _(
        "entry #%(seq)d does not follow the entry before it: the entry it followed was "
        "removed, replaced or moved"
    ) % {"seq": entry.seq}
    return chain.ChainProblem(entry.seq, message, "reordered")


def verify_chain(*, expect_head: tuple[int, str] | None = None) -> chain.ChainReport:
    """Walk the chain in order and name the first entry that was altered, removed or moved.

    With ``expect_head`` (a count and hash recorded outside the system) a cut-off tail is
    caught too; a chain that has grown since the head was recorded is fine.
    """
    expected_seq = 1
    prev_hash = chain.GENESIS_HASH
    count = 0
    head_hash = chain.GENESIS_HASH

    def broken(problem: chain.ChainProblem) -> chain.ChainReport:
        return chain.ChainReport(count, head_hash, problem)

    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq < expected_seq:  # only a forged seq of 0 can come before #1
            return broken(
                chain.ChainProblem(
                    entry.seq,
                    _("entry #%(seq)d is out of sequence: it was inserted") % {"seq": entry.seq},
                    "reordered",
                )
            )
        if entry.seq != expected_seq:
            return broken(_removed(entry.seq, expected_seq))
        if entry.prev_hash != prev_hash:
            return broken(_out_of_place(entry))
        if not entry_hash_matches(entry):
            return broken(
                chain.ChainProblem(
                    entry.seq,
                    _("entry #%(seq)d was altered: its content does not match its hash")
                    % {"seq": entry.seq},
                    "altered",
                )
            )
        prev_hash = head_hash = entry.entry_hash
        count += 1
        expected_seq += 1
        if expect_head is not None and count == expect_head[0] and head_hash != expect_head[1]:
            return broken(
                chain.ChainProblem(
                    entry.seq,
                    _(
                        "entry #%(seq)d does not match the recorded head: the chain up to it "
                        "was rewritten"
                    )
                    % {"seq": entry.seq},
                    "head_mismatch",
                )
            )
    if expect_head is not None and count < expect_head[0]:
        missing = ngettext(
            "entry #%(first)d was removed",
            "entries #%(first)d to #%(last)d were removed",
            expect_head[0] - count,
        ) % {"first": count + 1, "last": expect_head[0]}
        return broken(
            chain.ChainProblem(
                count + 1,
                _(
                    "the chain ends at #%(count)d but the recorded head has %(expected)d "
                    "entries: %(missing)s"
                )
                % {"count": count, "expected": expect_head[0], "missing": missing},
                "truncated",
            )
        )
    return chain.ChainReport(count, head_hash, None)


def audit_search(
    *,
    actor: str = "",
    object_type: str = "",
    object_id: str = "",
    action: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
):
    """Entries, newest first. ``since`` is inclusive, ``until`` exclusive."""
    qs = AuditEntry.objects.all().order_by("-seq")
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if object_type:
        qs = qs.filter(object_type__icontains=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if action:
        qs = qs.filter(action__icontains=action)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs


def audit_entry(seq: int) -> AuditEntry | None:
    return AuditEntry.objects.filter(seq=seq).first()


def access_search(
    *,
    user: str = "",
    object_type: str = "",
    object_id: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
):
    """Access-log entries, newest first. ``since`` is inclusive, ``until`` exclusive."""
    qs = AccessLogEntry.objects.select_related("user").order_by("-at", "-id")
    if user:
        qs = qs.filter(user__username__icontains=user)
    if object_type:
        qs = qs.filter(object_type__icontains=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs
