"""Production settings: ``manage.py check --deploy`` is clean, and a missing secret key stops
the start with a message that says what to set.

Each check runs in a fresh process, because settings are read once, at import.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PROBITY_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    clean.update(
        DJANGO_SETTINGS_MODULE="probity.settings",
        PROBITY_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'probity.sqlite3'}",
        PYTHONDONTWRITEBYTECODE="1",
    )
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deployment_checklist(tmp_path):
    result = manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        PROBITY_ENV="production",
        PROBITY_SECRET_KEY=secrets.token_hex(32),  # 64 characters
        PROBITY_ALLOWED_HOSTS="probity.example.org",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNINGS" not in output and "ERRORS" not in output, output


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = manage(
        tmp_path,
        "check",
        PROBITY_ENV="production",
        PROBITY_ALLOWED_HOSTS="probity.example.org",
    )
    assert result.returncode != 0
    assert "PROBITY_SECRET_KEY" in result.stderr, result.stderr
    # and it did not quietly make one up
    assert not (tmp_path / "var" / "secret_key").exists()


def test_unknown_mode_is_refused(tmp_path):
    result = manage(tmp_path, "check", PROBITY_ENV="staging")
    assert result.returncode != 0
    assert "PROBITY_ENV" in result.stderr, result.stderr
