#!/usr/bin/env bash
# Runs every bench/bench_*.py against its own throwaway SQLite database and prints one table
# (other files under bench/ are their helpers). Each benchmark prints its rows ("| name | n |
# time | per item | rate | peak |") on stdout, notes to keep with the table as lines starting
# with "> ", and anything else on stderr. Figures go in docs/benchmarks.md with the machine
# below.
#
#   scripts/bench.sh               SQLite
#   scripts/bench.sh --postgres    SQLite, then again on a throwaway PostgreSQL cluster
#                                  (started here as in scripts/test.sh, removed afterwards)
#   scripts/bench.sh --full        the roster import on 1,000,000 rows instead of 100,000, and
#                                  the draw end to end on 1,000,000 employments
#
# BENCH_DATABASE_URL=postgres://user@host:port/name runs the PostgreSQL pass on that server
# instead (the user must be allowed to create databases; each benchmark gets its own,
# "<name>_<benchmark>", dropped afterwards). BENCH_IMPORT_ROWS, BENCH_AUDIT_N, BENCH_DRAW_PEOPLE
# and BENCH_DRAW_POOL change sizes.
set -uo pipefail
cd "$(dirname "$0")/.."

POSTGRES=0
for arg in "$@"; do
  case "$arg" in
    --postgres) POSTGRES=1 ;;
    --full)
      export BENCH_IMPORT_ROWS="${BENCH_IMPORT_ROWS:-1000000}"
      export BENCH_DRAW_PEOPLE="${BENCH_DRAW_PEOPLE:-1000000}"
      ;;
    -h | --help)
      sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "bench.sh: unknown option $arg (try --help)" >&2
      exit 2
      ;;
  esac
done
[ -n "${BENCH_DATABASE_URL:-}" ] && POSTGRES=1

PY="$PWD/.venv/bin/python"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/probity-bench.XXXXXX")"
PG_VERSION=""
# shellcheck source=scripts/pg_cluster.sh
. scripts/pg_cluster.sh
cleanup() {
  pg_cluster_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export DJANGO_SETTINGS_MODULE=probity.settings
export PYTHONDONTWRITEBYTECODE=1
unset PROBITY_ENV

mem_kib="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)"
echo "Machine: $(nproc) CPU, $(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/^model name[[:space:]]*: //'), \
$((mem_kib / 1024 / 1024)) GiB memory, $("$PY" -c 'import platform, sqlite3; print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")')"
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

rows=()
notes=()
failed=()

# run_all LABEL URL-MAKER: every benchmark, each with the database URL-MAKER gives for it.
run_all() {
  local label="$1" make_url="$2" bench name dir url out
  for bench in bench/bench_*.py; do
    [ -e "$bench" ] || continue
    name="$(basename "$bench" .py)"
    dir="$WORK/$label-$name"
    mkdir -p "$dir"
    echo "running $name on $label ..." >&2
    if ! url="$("$make_url" "$name" "$dir")"; then
      failed+=("$name ($label)")
      continue
    fi
    if out="$(PROBITY_VAR_DIR="$dir/var" DATABASE_URL="$url" "$PY" "$bench")"; then
      while IFS= read -r line; do
        [[ "$line" == \|* ]] && rows+=("$line")
        [[ "$line" == \>* ]] && notes+=("$line")
      done <<<"$out"
    else
      failed+=("$name ($label)")
    fi
    "$make_url" "$name" "$dir" drop >/dev/null 2>&1 || true
  done
}

sqlite_url() { # name dir [drop]
  [ "${3:-}" = drop ] && return 0
  echo "sqlite:///$2/bench.sqlite3"
}

# --- PostgreSQL: a throwaway cluster (as scripts/test.sh), or BENCH_DATABASE_URL ------------
start_postgres() {
  # Default durability (fsync, synchronous_commit on): the figures are those of a real
  # installation's settings, not of a test cluster's.
  pg_cluster_start probity-bench-pg || {
    echo "bench.sh: no PostgreSQL cluster could be started (see above)" >&2
    return 1
  }
  PG_VERSION="$("$PG_BIN/postgres" --version), a throwaway cluster with default settings"
  BENCH_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/bench"
}

postgres_url() { # name dir [drop]: a database of its own on the BENCH_DATABASE_URL server
  BENCH_DB="${BENCH_DATABASE_URL%/*}/$(basename "${BENCH_DATABASE_URL##*/}")_$1" \
    DROP="${3:-}" "$PY" - <<'PY'
import os

import dj_database_url
import psycopg

url = os.environ["BENCH_DB"]
c = dj_database_url.parse(url)
with psycopg.connect(
    host=c["HOST"] or None, port=c["PORT"] or None, user=c["USER"] or None,
    password=c["PASSWORD"] or None, dbname="postgres", autocommit=True,
) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{c["NAME"]}"')
    if not os.environ["DROP"]:
        conn.execute(f'CREATE DATABASE "{c["NAME"]}"')
print(url)
PY
}

run_all sqlite sqlite_url
if [ "$POSTGRES" = 1 ]; then
  if [ -n "${BENCH_DATABASE_URL:-}" ] || start_postgres; then
    run_all postgresql postgres_url
  else
    failed+=("postgresql (the server did not start)")
  fi
fi

echo
[ -n "$PG_VERSION" ] && echo "PostgreSQL: $PG_VERSION" && echo
echo "| benchmark | n | time (s) | per item | rate (/s) | peak memory |"
echo "|---|---:|---:|---:|---:|---:|"
for line in "${rows[@]}"; do
  echo "$line"
done
if [ ${#notes[@]} -gt 0 ]; then
  echo
  for line in "${notes[@]}"; do
    echo "$line"
    echo
  done
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
