from ninja import Router, Schema

from probity.audit import chain
from probity.audit.policies import can_view_audit
from probity.audit.selectors import audit_head, verify_chain
from probity.core.api import ApiError

router = Router(tags=["audit"])


class VerificationOut(Schema):
    ok: bool
    count: int
    head_hash: str
    head: str
    first_bad_entry: int | None
    problem_kind: str | None
    problem: str | None


class HeadOut(Schema):
    count: int
    head_hash: str
    head: str


def _require_auditor(request) -> None:
    if not can_view_audit(request.user):
        raise ApiError(403, "Only auditors may read or verify the audit log.")


@router.get("/audit/verify", response=VerificationOut, summary="Verify the audit chain")
def verify(request, expect_head: str | None = None):
    """Walk the chain; with ``expect_head`` (``COUNT:HASH`` recorded earlier) a cut-off
    tail is caught too."""
    _require_auditor(request)
    expected = None
    if expect_head:
        try:
            expected = chain.parse_head(expect_head)
        except ValueError as exc:
            raise ApiError(
                422,
                "The recorded head is not valid.",
                [{"field": "expect_head", "message": str(exc)}],
            ) from exc
    report = verify_chain(expect_head=expected)
    return {
        "ok": report.ok,
        "count": report.count,
        "head_hash": report.head_hash,
        "head": report.head,
        "first_bad_entry": report.problem.seq if report.problem else None,
        "problem_kind": report.problem.kind if report.problem else None,
        "problem": report.problem.message if report.problem else None,
    }


@router.get("/audit/head", response=HeadOut, summary="The audit chain's head, as COUNT:HASH")
def head(request):
    _require_auditor(request)
    count, head_hash = audit_head()
    return {"count": count, "head_hash": head_hash, "head": chain.format_head(count, head_hash)}
