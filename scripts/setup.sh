#!/usr/bin/env bash
# Sets up everything Probity needs on this machine: system packages (as root), the Python
# environment (.venv, locked), the npm packages (locked), translations and static files.
# Safe to run again: each step does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --- system packages ---------------------------------------------------------------------
# command or file that proves the need is met -> Debian package
declare -A NEED=(
  [/usr/share/fonts/truetype/khmeros/KhmerOS.ttf]=fonts-khmeros
  [/usr/lib/x86_64-linux-gnu/libpango-1.0.so.0]=libpango-1.0-0
  [/usr/lib/x86_64-linux-gnu/libpangoft2-1.0.so.0]=libpangoft2-1.0-0
  [/usr/bin/icuinfo]=icu-devtools
  [/usr/include/unicode/uchar.h]=libicu-dev
  [/usr/bin/pkg-config]=pkg-config
  [/usr/bin/msgfmt]=gettext
  [/usr/bin/node]=nodejs
  [/usr/bin/npm]=npm
  [/usr/bin/chromium]=chromium
)
# PostgreSQL is needed only by the second pass of `make test`; CI requires it.
if [ "${PROBITY_REQUIRE_POSTGRES:-0}" = "1" ] && [ ! -x /usr/local/bin/initdb ] &&
  ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  NEED[/usr/lib/postgresql/initdb-of-any-version]=postgresql
fi
missing=()
for probe in "${!NEED[@]}"; do
  # On other architectures the library paths differ: fall back to dpkg.
  if [ ! -e "$probe" ] && ! dpkg -s "${NEED[$probe]}" >/dev/null 2>&1; then
    missing+=("${NEED[$probe]}")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    say "Installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Probity needs these system packages: ${missing[*]}" >&2
    echo "Install them with:  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# --- Python ------------------------------------------------------------------------------
if ! command -v uv >/dev/null 2>&1; then
  say "Installing uv"
  python3 -m pip install --quiet uv || python3 -m pip install --quiet --user uv
  export PATH="$HOME/.local/bin:$PATH"
fi
say "Python packages (uv.lock)"
uv sync --frozen --quiet

# --- npm ---------------------------------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm packages (package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- translations and static files --------------------------------------------------------
say "Translations and static files"
.venv/bin/python manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0
# collectstatic compresses every file; skip it when nothing it reads has changed.
static_root="${PROBITY_STATIC_ROOT:-${PROBITY_VAR_DIR:-var}/static}"
stamp="$static_root/.probity-collected"
if [ ! -f "$stamp" ] || [ -n "$(find probity package-lock.json uv.lock -newer "$stamp" \
  \( -path '*/static/*' -o -name package-lock.json -o -name uv.lock \) -print -quit)" ]; then
  .venv/bin/python manage.py collectstatic --noinput -v 0
  touch "$stamp"
fi
