#!/usr/bin/env bash
# The demo: migrate an embedded SQLite database, load the fixtures, serve them over HTTP with
# uvicorn on a free port (and stop it), dump them back and check the dump is byte-identical to
# what was loaded.
set -euo pipefail
cd "$(dirname "$0")"
bin="${VENV:-../.venv}/bin"
rm -rf .work && mkdir .work
export DATABASE_URL="sqlite+aiosqlite:///.work/demo.sqlite3"
unset BATTERIES_DATABASE_URL

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step "$bin/fastapi-batteries" db upgrade
step "$bin/fastapi-batteries" db current
step "$bin/fastapi-batteries" fixtures load fixtures/heroes.json --verbose
step "$bin/python" -m demo_app.run
step "$bin/fastapi-batteries" fixtures dump --indent 2 --output .work/heroes.json
step cmp fixtures/heroes.json .work/heroes.json
echo "The dump is byte-identical to the fixture that was loaded (database: $DATABASE_URL)."
