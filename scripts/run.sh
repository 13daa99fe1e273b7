#!/usr/bin/env bash
# Serves the demo: migrates the SQLite database under var/, loads the demo data when the
# database is empty, prints the demo log-ins and starts gunicorn.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
$PY manage.py migrate --noinput -v 0
# seed_demo prints the logins when it loads the demo; afterwards they are in var/.
out=$($PY manage.py seed_demo --if-empty)
logins="${PROBITY_VAR_DIR:-var}/demo-logins.txt"
if [ -n "$out" ]; then
  echo "$out"
elif [ -f "$logins" ]; then
  cat "$logins"
fi
PORT="${PORT:-8000}"

# Background work (large roster imports, later reports) runs in a task worker beside the
# web server; both stop together.
$PY manage.py db_worker --queue-name '*' --interval 1 --no-reload -v 0 &
WORKER=$!
trap 'kill "$WORKER" 2>/dev/null; wait "$WORKER" 2>/dev/null' EXIT INT TERM

echo
echo "Probity is serving on http://127.0.0.1:${PORT}  (Ctrl-C stops it)"
.venv/bin/gunicorn probity.wsgi:application \
  --bind "127.0.0.1:${PORT}" \
  --workers "${PROBITY_WORKERS:-3}" \
  --access-logfile - \
  --access-logformat '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss'
