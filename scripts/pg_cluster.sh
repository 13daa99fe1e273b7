# A throwaway PostgreSQL cluster for scripts/test.sh and scripts/bench.sh (sourced, not run).
#
# The caller sets PY (the project's Python). After `pg_cluster_start`, PG_PORT, PG_BIN and
# PG_DIR are set and the server listens on 127.0.0.1:$PG_PORT as user postgres (trust);
# `pg_cluster_stop` (from the caller's EXIT trap) stops it and removes its directory.
# PG_BIN is found when this file is sourced (empty when PostgreSQL is not installed).

PG_DIR=""
PG_CTL=""
PG_DATA=""
PG_PORT=""
AS_PG=()

pg_find_bin() { # the directory holding initdb and pg_ctl, or status 1
  local dir
  for dir in /usr/local/bin /usr/lib/postgresql/15/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  # any other installed major version, newest first
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

PG_BIN="$(pg_find_bin || true)"

pg_unavailable_reason() { # why no cluster can be started here (empty: one can)
  if [ -z "$PG_BIN" ]; then
    echo "PostgreSQL is not installed (no initdb/pg_ctl in /usr/local/bin, /usr/lib/postgresql/*/bin or on PATH)."
  elif [ "$(id -u)" = "0" ]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "running as root but there is no 'postgres' user to run the PostgreSQL server as."
    elif ! command -v runuser >/dev/null 2>&1; then
      echo "running as root but 'runuser' is missing, so the server cannot run as 'postgres'."
    fi
  fi
}

pg_cluster_start() { # prefix [server option ...]: initdb and start; status 1 with the log
  local prefix="$1" sock log reason
  shift
  reason="$(pg_unavailable_reason)"
  if [ -n "$reason" ]; then
    echo "$reason" >&2
    return 1
  fi
  [ "$(id -u)" = "0" ] && AS_PG=(runuser -u postgres --)
  # Its own directory, owned by the server's user (the postgres user when we are root).
  PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/$prefix.XXXXXX")"
  PG_DATA="$PG_DIR/data"
  sock="$PG_DIR/sock"
  log="$PG_DIR/server.log"
  mkdir -p "$sock"
  if [ ${#AS_PG[@]} -gt 0 ]; then
    chown -R postgres: "$PG_DIR"
  fi
  PG_PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  PG_CTL="$PG_BIN/pg_ctl"
  if ! "${AS_PG[@]}" "$PG_BIN/initdb" -D "$PG_DATA" --auth=trust --username=postgres \
    --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$PG_DIR/initdb.log" 2>&1; then
    cat "$PG_DIR/initdb.log" >&2
    return 1
  fi
  if ! "${AS_PG[@]}" "$PG_CTL" -D "$PG_DATA" -l "$log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $sock $*" start >/dev/null; then
    cat "$log" >&2
    return 1
  fi
}

pg_cluster_stop() {
  if [ -n "$PG_CTL" ] && [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
    "${AS_PG[@]}" "$PG_CTL" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
  return 0
}
