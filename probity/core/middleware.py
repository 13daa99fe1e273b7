import hashlib
import re
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from probity.core import context
from probity.core.models import IdempotencyRecord

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id (or keeps a well-formed ``X-Request-ID``) for the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = rid
        token = context.request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            context.request_id.reset(token)
        response["X-Request-ID"] = rid
        return response


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Deny by default. The API authenticates its own callers (token or session)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


def _caller_fingerprint(request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return "t:" + hashlib.sha256(auth[7:].strip().encode()).hexdigest()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u:{user.pk}"
    return None


class IdempotencyMiddleware:
    """``Idempotency-Key`` for every API ``POST``, implemented once (API.md).

    Keys belong to a caller (a token, or a logged-in user). The first answer (any status
    below 500) is kept for ``PROBITY_IDEMPOTENCY_HOURS``. A repeat with the same key and body
    gets it back, marked ``Idempotent-Replayed: true``, and runs nothing; the same key with a
    different body or path is ``422``.

    The request runs in one transaction with its key: a 5xx (or a crash) rolls back both its
    writes and the key, so a retry runs afresh; a concurrent repeat waits for the first to
    finish (PostgreSQL: on the key's unique index; SQLite: on the write lock) and then gets
    its answer.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or key is None or not request.path_info.startswith("/api/"):
            return self.get_response(request)
        key = key.strip()
        if not key or len(key) > 255:
            return _error(
                422,
                "The Idempotency-Key header must be 1 to 255 characters long.",
                field="Idempotency-Key",
            )
        caller = _caller_fingerprint(request)
        if caller is None:  # unauthenticated: the endpoint will refuse it anyway
            return self.get_response(request)
        body_hash = hashlib.sha256(request.body).hexdigest()
        path = request.path_info[:500]
        cutoff = timezone.now() - timedelta(hours=settings.PROBITY_IDEMPOTENCY_HOURS)
        with transaction.atomic():
            IdempotencyRecord.objects.filter(caller=caller, created_at__lt=cutoff).delete()
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        caller=caller,
                        key=key,
                        method=request.method,
                        path=path,
                        body_hash=body_hash,
                    )
            except IntegrityError:
                first = IdempotencyRecord.objects.get(caller=caller, key=key)
                return _answer_repeat(first, body_hash=body_hash, path=path)
            response = self.get_response(request)
            if response.status_code >= 500 or getattr(response, "streaming", False):
                transaction.set_rollback(True)  # nothing of it is kept, nor the key
                return response
            record.status_code = response.status_code
            record.content_type = response.get("Content-Type", "")[:100]
            record.response_body = response.content
            try:
                with transaction.atomic():
                    record.save(update_fields=["status_code", "content_type", "response_body"])
            except DatabaseError:
                # The view left the transaction unusable: keep nothing rather than half.
                transaction.set_rollback(True)
                if response.status_code < 400:
                    return _error(500, "Internal error; nothing was saved. Try again.")
        return response


def _answer_repeat(first: IdempotencyRecord, *, body_hash: str, path: str) -> HttpResponse:
    if first.body_hash != body_hash or first.path != path:
        return _error(
            422,
            "This Idempotency-Key was already used with a different request.",
            field="Idempotency-Key",
        )
    if first.status_code is None:
        return _error(409, "A request with this Idempotency-Key is still being processed.")
    replay = HttpResponse(
        bytes(first.response_body or b""),
        status=first.status_code,
        content_type=first.content_type or "application/json",
    )
    replay["Idempotent-Replayed"] = "true"
    return replay


_API_ERROR_DETAILS = {
    400: "Bad request.",
    401: "Authentication is required: send a Bearer token or log in first.",
    403: "You are not allowed to do this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    406: "Only JSON responses are available.",
    413: "The request is too large.",
    415: "This content type is not supported.",
    429: "Too many requests; try again later.",
}


class ApiErrorShapeMiddleware:
    """Every API error in the ``{"detail", "errors"}`` shape (API.md), also those made
    outside the API's exception handlers: ninja's ``405 Method not allowed`` is plain text.
    Install it right after ``RequestIdMiddleware``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path_info.startswith("/api/")
            and not getattr(response, "streaming", False)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            shaped = _error(
                status,
                _API_ERROR_DETAILS.get(status)
                or ("Internal error." if status >= 500 else "The request was refused."),
            )
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    shaped[header] = response[header]
            return shaped
        return response


def _error(status: int, detail: str, *, field: str | None = None) -> JsonResponse:
    errors = [{"field": field, "message": detail}] if field else []
    return JsonResponse({"detail": detail, "errors": errors}, status=status)
