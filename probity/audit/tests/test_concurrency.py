"""Concurrent appends do not fork the chain.

Each thread has its own database connection and appends in its own transactions. On
PostgreSQL the appends are serialised by an advisory lock, on SQLite by IMMEDIATE
transactions (the write lock is taken at BEGIN, and the busy timeout makes the others
wait). SQLite's in-memory test database is shared-cache, where a busy table fails at once
instead of waiting; so there the threads work on a file copy of the test database.
"""

import sqlite3
import threading
from contextlib import contextmanager

import pytest
from django.db import connection, connections, transaction

from probity.audit.models import AuditEntry
from probity.audit.selectors import verify_chain
from probity.audit.services import audit_record

THREADS = 6
APPENDS = 8


@contextmanager
def database_for_threads(tmp_path):
    """New connections (made by new threads) go to a database that behaves like production."""
    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        yield
        return
    path = tmp_path / "threads.sqlite3"
    target = sqlite3.connect(path)
    connection.ensure_connection()
    connection.connection.backup(target)
    target.close()
    original = connections.settings["default"]
    connections.settings["default"] = {**original, "NAME": str(path)}
    try:
        yield
    finally:
        connections.settings["default"] = original


def in_threads(target, count: int) -> list[BaseException]:
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            start.wait()
            target(n)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.django_db(transaction=True)
def test_threads_appending_at_once_keep_one_chain(tmp_path):
    def append(worker: int) -> None:
        for i in range(APPENDS):
            with transaction.atomic():
                audit_record(actor=None, action=f"thread.{worker}", object_id=str(i))
                if i % 2:  # sometimes a second append in the same transaction
                    audit_record(actor=None, action=f"thread.{worker}.b", object_id=str(i))

    results = {}

    def check(_: int) -> None:
        results["seqs"] = list(AuditEntry.objects.values_list("seq", flat=True))
        results["report"] = verify_chain()

    with database_for_threads(tmp_path):
        errors = in_threads(append, THREADS)
        assert not errors, errors
        assert not in_threads(check, 1)
    expected = THREADS * (APPENDS + APPENDS // 2)
    assert results["seqs"] == list(range(1, expected + 1))
    assert results["report"].ok, results["report"].problem
    assert results["report"].count == expected


@pytest.mark.django_db
def test_sequential_appends_in_nested_transactions_stay_one_chain():
    for outer in range(10):
        with transaction.atomic():
            for inner in range(5):
                with transaction.atomic():
                    audit_record(actor=None, action="seq.append", object_id=f"{outer}.{inner}")
    seqs = list(AuditEntry.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, 51))
    hashes = set(AuditEntry.objects.values_list("prev_hash", flat=True))
    assert len(hashes) == 50  # no two entries follow the same one: no fork
    assert verify_chain().ok
