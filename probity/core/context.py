"""Per-request context that lower layers may read without importing higher ones."""

from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("probity_request_id", default="")


def current_request_id() -> str:
    return request_id.get()
