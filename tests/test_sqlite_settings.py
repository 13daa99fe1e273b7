"""The embedded database is configured for concurrent use (ARCHITECTURE.md): WAL journal,
a busy timeout, foreign keys enforced, and transactions that take the write lock at BEGIN
(IMMEDIATE), so that two writers never deadlock and the audit chain's appends are serialised.

The settings are read in a separate process pointed at a SQLite file, whatever database this
test run itself uses.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import json, os, sqlite3, threading
import django
django.setup()
from django.db import connection, transaction

with connection.cursor() as c:
    pragmas = {
        name: c.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("journal_mode", "foreign_keys", "busy_timeout")
    }

# While this connection is inside atomic(), another writer must be locked out already,
# before this one has written anything: that is what IMMEDIATE means.
blocked = None
with transaction.atomic():
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0.2)
    try:
        other.execute("BEGIN IMMEDIATE")
        blocked = False
        other.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        blocked = "locked" in str(exc)
    finally:
        other.close()
print(json.dumps({"pragmas": pragmas, "second_writer_blocked": blocked}))
"""


def test_sqlite_is_configured_for_concurrent_writers(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "probity.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
        "PROBITY_VAR_DIR": str(tmp_path / "var"),
        "PROBITY_ENV": "demo",
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["pragmas"]["journal_mode"] == "wal"
    assert report["pragmas"]["foreign_keys"] == 1
    assert report["pragmas"]["busy_timeout"] >= 5000
    assert report["second_writer_blocked"] is True
