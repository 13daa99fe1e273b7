#!/usr/bin/env bash
# Runs the whole test suite twice: on SQLite (the default settings; pytest-django makes its
# own in-memory test database), then on a real PostgreSQL that this script starts itself in a
# throwaway directory and removes afterwards. Browser tests run once, in the SQLite pass.
#
# Extra arguments go to both pytest runs (e.g. `scripts/test.sh -k audit`).
# PROBITY_REQUIRE_POSTGRES=1 turns a missing PostgreSQL from a warning into a failure.
#
# The last line printed is the combined result, in pytest's words: "N passed, N failed ...".
set -uo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
loud() {
  {
    echo
    printf '\033[1;33m!!! %s\033[0m\n' "$@"
    echo
  } >&2
}

PY=.venv/bin/python
WORK="$(mktemp -d "${TMPDIR:-/tmp}/probity-test.XXXXXX")"
# shellcheck source=scripts/pg_cluster.sh
. scripts/pg_cluster.sh

cleanup() {
  pg_cluster_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Nothing the tests write may land in the repository: the var/ directory (secret key,
# uploads), Hypothesis's example database and byte-code all go to the throwaway directory.
# The static files collected by scripts/setup.sh stay where they are (read only).
export PROBITY_STATIC_ROOT="${PROBITY_STATIC_ROOT:-${PROBITY_VAR_DIR:-$PWD/var}/static}"
export PROBITY_VAR_DIR="$WORK/var"
export HYPOTHESIS_STORAGE_DIRECTORY="$WORK/hypothesis"
export PYTHONDONTWRITEBYTECODE=1
export DJANGO_SETTINGS_MODULE=probity.settings
unset DATABASE_URL PROBITY_ENV PROBITY_TEST_SQLITE_NAME

# --- counting results -------------------------------------------------------------------
# Each run's pytest summary line is kept; the totals are printed at the very end.
declare -A TOTAL=([passed]=0 [failed]=0 [errors]=0 [skipped]=0 [xfailed]=0 [xpassed]=0)
SECONDS_TOTAL=0
STATUS=0
SUMMARIES=()

run_pytest() { # label, pytest args...
  local label="$1"
  shift
  local log="$WORK/pytest-$label.log" rc line
  local started=$SECONDS
  "$PY" -m pytest "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  SECONDS_TOTAL=$((SECONDS_TOTAL + SECONDS - started))
  # pytest's summary: "==== 3 failed, 10 passed, 1 skipped in 4.20s ====" (or "no tests ran")
  line="$(grep -E ' in [0-9.]+s' "$log" |
    grep -E '[0-9]+ (passed|failed|errors?|skipped|deselected|xfailed|xpassed)|no tests ran' |
    tail -1 | sed -E 's/^=+ //; s/ =+$//')"
  if [ -z "$line" ]; then
    line="pytest stopped without a summary (exit status $rc)"
  fi
  SUMMARIES+=("$label: $line")
  local n word
  while read -r n word; do
    case "$word" in
      passed | failed | skipped | xfailed | xpassed) TOTAL[$word]=$((TOTAL[$word] + n)) ;;
      error | errors) TOTAL[errors]=$((TOTAL[errors] + n)) ;;
    esac
  done < <(grep -oE '[0-9]+ (passed|failed|errors?|skipped|xfailed|xpassed)' <<<"$line")
  # exit 5 = no tests collected: not a failure of the suite for a filtered run
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then
    STATUS=1
    # a crash with no counted failure must still show as one
    if [ $((TOTAL[failed] + TOTAL[errors])) -eq 0 ]; then
      TOTAL[errors]=$((TOTAL[errors] + 1))
    fi
  fi
}

# --- finding PostgreSQL -----------------------------------------------------------------
PG_SKIP_REASON="$(pg_unavailable_reason)"
if [ -n "$PG_SKIP_REASON" ]; then
  if [ "${PROBITY_REQUIRE_POSTGRES:-0}" = "1" ]; then
    loud "PROBITY_REQUIRE_POSTGRES=1 but $PG_SKIP_REASON" \
      "Install it with:  sudo apt-get install -y postgresql"
    exit 1
  fi
  loud "THE POSTGRESQL PASS WILL BE SKIPPED: $PG_SKIP_REASON" \
    "Only SQLite is tested. Install PostgreSQL (sudo apt-get install -y postgresql) to test both," \
    "or set PROBITY_REQUIRE_POSTGRES=1 to make this an error."
fi

# --- pass 1: SQLite (with the browser tests) --------------------------------------------
say "Tests on SQLite"
run_pytest sqlite "$@"

# --- pass 2: PostgreSQL -----------------------------------------------------------------
start_postgres() {
  # A throwaway cluster: durability is not needed, speed is.
  pg_cluster_start probity-pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off ||
    return 1
  if [ -x "$PG_BIN/createdb" ]; then
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres probity
  fi
  PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/probity"
}

if [ -z "$PG_SKIP_REASON" ]; then
  say "Starting a throwaway PostgreSQL ($("$PG_BIN/pg_ctl" --version))"
  if start_postgres; then
    say "Tests on PostgreSQL (browser tests ran on SQLite)"
    DATABASE_URL="$PG_URL" run_pytest postgresql -m "not browser" "$@"
  else
    loud "PostgreSQL could not be started: see the messages above."
    SUMMARIES+=("postgresql: the server did not start")
    TOTAL[errors]=$((TOTAL[errors] + 1))
    STATUS=1
  fi
else
  SUMMARIES+=("postgresql: SKIPPED ($PG_SKIP_REASON)")
fi

# --- the verdict ------------------------------------------------------------------------
echo
say "Summary"
for line in "${SUMMARIES[@]}"; do
  echo "  $line"
done
echo "  total time ${SECONDS_TOTAL}s; errors ${TOTAL[errors]} (counted as failed below)"
# The closing line in the plain form CI reads: "N passed, N failed[, N skipped]".
final="${TOTAL[passed]} passed, $((TOTAL[failed] + TOTAL[errors])) failed"
[ "${TOTAL[skipped]}" -gt 0 ] && final+=", ${TOTAL[skipped]} skipped"
echo "$final"
exit "$STATUS"
