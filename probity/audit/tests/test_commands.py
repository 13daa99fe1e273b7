"""``manage.py verify_audit`` and ``manage.py audit_head``: output and exit status."""

# Tampering is raw SQL on purpose; table and column names are quoted, values are params.
# ruff: noqa: S608

from io import StringIO

import pytest
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError

from probity.audit import chain
from probity.audit.tests.conftest import TABLE, make_entries, qn, tampering

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def run_from_argv(monkeypatch, capsys):
    """Run a command as the shell does; returns (exit status, stdout, stderr)."""
    # run_from_argv closes the connections when done: keep the test's one open.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)

    def execute(name, *args):
        command = load_command_class("probity.audit", name)
        try:
            command.run_from_argv(["manage.py", name, *args])
            status = 0
        except SystemExit as exc:
            status = exc.code
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return execute


def test_intact_chain(chain5, run_from_argv):
    status, out, err = run_from_argv("verify_audit")
    assert status == 0
    assert out.strip() == f"audit chain intact: 5 entries, head {chain5[-1].entry_hash}"
    assert err == ""


def test_empty_chain(db, run_from_argv):
    status, out, _ = run_from_argv("verify_audit")
    assert status == 0
    assert f"audit chain intact: 0 entries, head {chain.GENESIS_HASH}" in out


def test_altered_entry_exits_non_zero_naming_it(chain5, run_from_argv):
    with tampering() as cursor:
        cursor.execute(f"UPDATE {qn(TABLE)} SET {qn('action')} = 'x' WHERE {qn('seq')} = 2")
    status, out, err = run_from_argv("verify_audit")
    assert status == 1
    assert out == ""
    assert "entry #2" in err and "altered" in err


def test_removed_entry_exits_non_zero_naming_it(chain5, run_from_argv):
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {qn(TABLE)} WHERE {qn('seq')} = 3")
    status, _, err = run_from_argv("verify_audit")
    assert status == 1
    assert "entry #4" in err and "#3 was removed" in err


def test_audit_head_prints_what_verify_accepts(chain5):
    out = run("audit_head")
    first, human = out.strip().splitlines()
    assert first == f"5:{chain5[-1].entry_hash}"
    assert "5 entries" in human and "--expect-head" in human
    assert run("audit_head", verbosity=0).strip() == first
    assert "intact" in run("verify_audit", "--expect-head", first)


def test_truncated_tail_is_caught_only_with_the_recorded_head(chain5, run_from_argv):
    recorded = run("audit_head", verbosity=0).strip()
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {qn(TABLE)} WHERE {qn('seq')} = 5")
    status, out, _ = run_from_argv("verify_audit")
    assert status == 0 and "4 entries" in out
    status, out, err = run_from_argv("verify_audit", "--expect-head", recorded)
    assert status == 1
    assert "entry #5" in err and "truncated" in err


def test_grown_chain_matches_an_earlier_head(chain5, run_from_argv):
    recorded = run("audit_head", verbosity=0).strip()
    make_entries(2, prefix="later")
    status, out, _ = run_from_argv("verify_audit", "--expect-head", recorded)
    assert status == 0
    assert "7 entries" in out and recorded in out


def test_a_different_head_is_a_mismatch(chain5, run_from_argv):
    status, _, err = run_from_argv("verify_audit", "--expect-head", "3:" + "a" * 64)
    assert status == 1
    assert "entry #3" in err and "recorded head" in err


@pytest.mark.parametrize("bad", ["nonsense", "5", "5:abc", "x:" + "a" * 64, "0:" + "a" * 64])
def test_malformed_expect_head_is_a_clear_error(chain5, run_from_argv, bad):
    status, out, err = run_from_argv("verify_audit", "--expect-head", bad)
    assert status == 2
    assert "COUNT:HASH" in err or "0 entries" in err
    with pytest.raises(CommandError):
        call_command("verify_audit", "--expect-head", bad)
