from ninja import Router, Schema

from probity.audit.policies import can_view_audit
from probity.audit.selectors import verify_chain
from probity.core.api import ApiError

router = Router(tags=["audit"])


class VerificationOut(Schema):
    ok: bool
    count: int
    head_hash: str
    first_bad_entry: int | None
    problem: str | None


@router.get("/audit/verify", response=VerificationOut, summary="Verify the audit chain")
def verify(request):
    if not can_view_audit(request.user):
        raise ApiError(403, "Only auditors may verify the audit log.")
    report = verify_chain()
    return {
        "ok": report.ok,
        "count": report.count,
        "head_hash": report.head_hash,
        "first_bad_entry": report.problem.seq if report.problem else None,
        "problem": report.problem.message if report.problem else None,
    }
