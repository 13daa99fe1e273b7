"""Helpers for the audit tests: a chain of entries and raw-SQL tampering on either database."""

from contextlib import contextmanager

import pytest
from django.db import connection

from probity.audit.models import AccessLogEntry, AuditEntry
from probity.audit.services import audit_record

TABLE = AuditEntry._meta.db_table
ACCESS_TABLE = AccessLogEntry._meta.db_table


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


@contextmanager
def tampering():
    """Raw SQL that changes the logs, as someone with database access could.

    On PostgreSQL the append-only triggers are disabled for the duration (inside the test's
    transaction, so they come back even if the test fails); SQLite has none.
    """
    tables = [TABLE, ACCESS_TABLE]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE waits for no pending deferred foreign-key checks: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in tables:
                cursor.execute(f"ALTER TABLE {qn(table)} DISABLE TRIGGER USER")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for table in tables:
                    cursor.execute(f"ALTER TABLE {qn(table)} ENABLE TRIGGER USER")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def make_entries(n: int, *, actor=None, prefix: str = "test") -> list[AuditEntry]:
    return [
        audit_record(
            actor=actor,
            action=f"{prefix}.action_{i}",
            object_type="test.thing",
            object_id=str(i),
            object_repr=f"Thing {i}",
            before={"n": i - 1} if i > 1 else None,
            after={"n": i, "ratio": i / 3, "note": "ក្រុម"},
        )
        for i in range(1, n + 1)
    ]


@pytest.fixture
def chain5(db):
    """A chain of five entries made by the system."""
    return make_entries(5)
