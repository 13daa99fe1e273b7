"""The API's shared behaviour, written once: error shape, handlers and pagination (API.md).

Errors are ``{"detail": "<one sentence>", "errors": [{"field", "row", "message"}]}``.
Lists are ``{"items": [...], "count": <total>}`` (ninja's limit/offset pagination).
"""

import logging
from math import inf

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.conf import settings as ninja_settings
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import LimitOffsetPagination as NinjaLimitOffsetPagination

__all__ = [
    "ApiError",
    "LimitOffsetPagination",
    "error_response",
    "install_error_handlers",
    "require",
]

logger = logging.getLogger(__name__)

_LOCATIONS = {"body", "query", "path", "form", "file", "header", "cookie", "payload", "filters"}


# Far beyond any real list, well within what SQLite and PostgreSQL accept in OFFSET: a larger
# offset would reach the database as an out-of-range literal and fail there (a 500).
MAX_OFFSET = 1_000_000_000


class LimitOffsetPagination(NinjaLimitOffsetPagination):
    """``?limit=&offset=`` -> ``{"items": [...], "count": n}``, with both bounds checked
    (a bad value is a ``422`` naming the parameter). Use this one, not ninja's."""

    class Input(Schema):
        limit: int = Field(
            ninja_settings.PAGINATION_PER_PAGE,
            ge=1,
            le=(
                ninja_settings.PAGINATION_MAX_LIMIT
                if ninja_settings.PAGINATION_MAX_LIMIT != inf
                else None
            ),
        )
        offset: int = Field(0, ge=0, le=MAX_OFFSET)


class ApiError(Exception):
    """Raise from an endpoint to answer with a status, one sentence and field errors."""

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []


def require(allowed: bool, doing: str) -> None:
    """A ``403`` saying which kind of work the caller's roles do not include, unless
    ``allowed``. ``doing`` is already translated ("recording collections")."""
    if not allowed:
        raise ApiError(403, _("Your roles do not include %(doing)s.") % {"doing": doing})


def error_body(detail: str, errors: list[dict] | None = None) -> dict:
    return {"detail": detail, "errors": errors or []}


def error_response(status: int, detail: str, errors: list[dict] | None = None) -> JsonResponse:
    return JsonResponse(error_body(detail, errors), status=status)


def _field_from_loc(loc) -> str:
    parts = [str(p) for p in loc if str(p) not in _LOCATIONS]
    return ".".join(parts)


def errors_from_django(exc: DjangoValidationError) -> list[dict]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": "" if field == "__all__" else field, "message": message}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"field": "", "message": message} for message in exc.messages]


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(NinjaValidationError)
    def _validation(request, exc):
        errors = [
            {"field": _field_from_loc(e.get("loc", ())), "message": e.get("msg", "Invalid value.")}
            for e in exc.errors
        ]
        first = errors[0] if errors else {"field": "", "message": "Invalid input."}
        detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        return error_response(422, f"The request is not valid ({detail}).", errors)

    @api.exception_handler(DjangoValidationError)
    def _django_validation(request, exc):
        errors = errors_from_django(exc)
        first = errors[0]["message"] if errors else _("Invalid input.")
        # The messages are the services' own, in the request's language: so is the sentence.
        detail = _("The request is not valid (%(message)s)") % {"message": first}
        return error_response(422, detail, errors)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc):
        return error_response(
            401, "Authentication is required: send a Bearer token or log in first."
        )

    @api.exception_handler(PermissionDenied)
    def _forbidden(request, exc):
        return error_response(403, str(exc) or "You are not allowed to do this.")

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        message = str(exc)
        if not message or "matches the given query" in message:
            message = "Not found."
        return error_response(404, message)

    @api.exception_handler(HttpError)
    def _http_error(request, exc):
        return error_response(exc.status_code, str(exc.message))

    @api.exception_handler(ApiError)
    def _api_error(request, exc):
        return error_response(exc.status, exc.detail, exc.errors)

    # Safety nets: input that validation let through but the database refuses (a number
    # beyond 64 bits, a NUL character, a value too long for its column) is still the
    # caller's error, never a 500. Logged without the value, which may be personal data.
    @api.exception_handler(OverflowError)
    def _overflow(request, exc):
        logger.warning("API input out of range for the database on %s", request.path_info)
        return error_response(422, "A number in the request is out of range.")

    @api.exception_handler(DataError)
    def _data_error(request, exc):
        logger.warning("API input refused by the database on %s", request.path_info)
        return error_response(
            422, "A value in the request cannot be stored or searched (too long or malformed)."
        )
