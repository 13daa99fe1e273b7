"""The suite runs on the database it was asked for, and never on the real one."""

import os

from django.conf import settings
from django.db import connection


def test_runs_on_the_requested_engine(db):
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected


def test_never_the_installation_database(db):
    name = str(connection.settings_dict["NAME"])
    assert name != str(settings.VAR_DIR / "probity.sqlite3")
    if connection.vendor == "sqlite":
        assert connection.is_in_memory_db() or "test" in os.path.basename(name)
    else:
        assert name.startswith("test_")
