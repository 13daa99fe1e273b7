"""A throwaway API for the tests of the API conventions that no real endpoint exercises yet
(a POST that writes, a failing POST, an integer path parameter). Mounted under ``/api/``,
where the idempotency middleware works, with the real API's authentication and errors."""

from django.urls import path
from ninja import Field, NinjaAPI, Schema, Status
from ninja.pagination import paginate

from probity.accounts.api_auth import TokenAuth, VerifiedSessionAuth
from probity.audit.models import AuditEntry
from probity.audit.services import audit_record
from probity.core.api import ApiError, LimitOffsetPagination, install_error_handlers

api = NinjaAPI(
    title="Test API",
    version="test",
    auth=[TokenAuth(), VerifiedSessionAuth()],
    urls_namespace="core-tests-api",
    docs_url=None,
)
install_error_handlers(api)

# Set by a test to make the next note fail after it has written: a server error.
FAIL_AFTER_WRITE = {"on": False}


class NoteIn(Schema):
    text: str = Field(min_length=1, max_length=200)


class NoteOut(Schema):
    seq: int
    text: str


@api.post("/notes", response={201: NoteOut}, summary="Write a note into the audit log")
def create_note(request, payload: NoteIn):
    if payload.text == "refuse":
        raise ApiError(409, "This note is refused.", [{"field": "text", "message": "Refused."}])
    entry = audit_record(actor=request.user, action="test.note", after={"text": payload.text})
    if FAIL_AFTER_WRITE["on"]:
        raise RuntimeError("the server failed after writing")
    return Status(201, {"seq": entry.seq, "text": payload.text})


@api.get("/entries/{seq}", response=NoteOut)
def get_entry(request, seq: int):
    entry = AuditEntry.objects.filter(seq=seq).first()
    if entry is None:
        raise ApiError(404, "No such entry.")
    return {"seq": entry.seq, "text": entry.action}


@api.get("/entries", response=list[NoteOut])
@paginate(LimitOffsetPagination)
def list_entries(request):
    return [{"seq": e.seq, "text": e.action} for e in AuditEntry.objects.order_by("seq")]


urlpatterns = [path("api/test/", api.urls)]

handler404 = "probity.core.views.page_not_found"
handler500 = "probity.core.views.server_error"
