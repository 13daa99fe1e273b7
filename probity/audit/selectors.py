"""Reads of the audit chain: search and verification."""

from datetime import datetime

from probity.audit import chain
from probity.audit.models import AuditEntry


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


def audit_head() -> tuple[int, str]:
    """How many entries the chain holds and the hash of the last one."""
    last = AuditEntry.objects.order_by("-seq").values("seq", "entry_hash").first()
    count = AuditEntry.objects.count()
    return count, (last["entry_hash"] if last else chain.GENESIS_HASH)


def verify_chain(*, expect_head: tuple[int, str] | None = None) -> chain.ChainReport:
    """Walk the chain in order and name the first entry that was altered, removed or moved.

    With ``expect_head`` (a count and hash recorded outside the system) a cut-off tail is
    caught too.
    """
    expected_seq = 1
    prev_hash = chain.GENESIS_HASH
    count = 0
    head_hash = chain.GENESIS_HASH
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return chain.ChainReport(
                count,
                head_hash,
                chain.ChainProblem(
                    entry.seq,
                    f"entry #{entry.seq} follows #{expected_seq - 1}: "
                    f"entries {expected_seq}–{entry.seq - 1} were removed",
                ),
            )
        if entry.prev_hash != prev_hash:
            return chain.ChainReport(
                count,
                head_hash,
                chain.ChainProblem(
                    entry.seq,
                    f"entry #{entry.seq} does not follow the entry before it "
                    "(removed or reordered entries)",
                ),
            )
        if chain.entry_hash(**entry_fields(entry)) != entry.entry_hash:
            return chain.ChainReport(
                count,
                head_hash,
                chain.ChainProblem(entry.seq, f"entry #{entry.seq} was altered"),
            )
        prev_hash = head_hash = entry.entry_hash
        count += 1
        expected_seq += 1
        if expect_head is not None and count == expect_head[0] and head_hash != expect_head[1]:
            return chain.ChainReport(
                count,
                head_hash,
                chain.ChainProblem(
                    entry.seq, f"entry #{entry.seq} does not match the recorded head"
                ),
            )
    if expect_head is not None and count < expect_head[0]:
        return chain.ChainReport(
            count,
            head_hash,
            chain.ChainProblem(
                count + 1,
                f"the chain ends at #{count} but the recorded head has {expect_head[0]} "
                f"entries: entries from #{count + 1} were removed",
            ),
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
        qs = qs.filter(at__lte=until)
    return qs
