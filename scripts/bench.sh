#!/usr/bin/env bash
# Runs every bench/*.py against its own throwaway SQLite database and prints one table.
# Each benchmark prints its rows ("| name | n | time | per item | rate | peak |") on stdout
# and anything else on stderr. Figures go in docs/benchmarks.md with the machine below.
set -uo pipefail
cd "$(dirname "$0")/.."

PY="$PWD/.venv/bin/python"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/probity-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

export DJANGO_SETTINGS_MODULE=probity.settings
export PYTHONDONTWRITEBYTECODE=1
unset PROBITY_ENV

mem_kib="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)"
echo "Machine: $(nproc) CPU, $(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/^model name[[:space:]]*: //'), \
$((mem_kib / 1024 / 1024)) GiB memory, $("$PY" -c 'import platform, sqlite3; print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")')"
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo

rows=()
failed=()
for bench in bench/*.py; do
  [ -e "$bench" ] || continue
  name="$(basename "$bench" .py)"
  dir="$WORK/$name"
  mkdir -p "$dir"
  echo "running $name ..." >&2
  if out="$(PROBITY_VAR_DIR="$dir/var" DATABASE_URL="sqlite:///$dir/bench.sqlite3" \
    "$PY" "$bench")"; then
    while IFS= read -r line; do
      [[ "$line" == \|* ]] && rows+=("$line")
    done <<<"$out"
  else
    failed+=("$name")
  fi
done

echo
echo "| benchmark | n | time (s) | per item | rate (/s) | peak memory |"
echo "|---|---:|---:|---:|---:|---:|"
for line in "${rows[@]}"; do
  echo "$line"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
