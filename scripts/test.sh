#!/usr/bin/env bash
# `make test`: quality checks, then the whole suite (browser tests included) on SQLite and on a
# throwaway PostgreSQL server. Exits non-zero on any failure, and when pytest collected no test.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh dev || exit 1
scripts/system-packages.sh chromium postgres fonts pango pdf zbar || exit 1

export PATH="$PWD/.venv/bin:$PATH"
export DJANGO_SETTINGS_MODULE=tongban.settings
# Settings for checks outside pytest (pytest sets its own in conftest.py).
export SECRET_KEY="${SECRET_KEY:-checks-only}" ALLOWED_HOSTS="${ALLOWED_HOSTS:-localhost}"
export TONGBAN_VAR_DIR="${TONGBAN_VAR_DIR:-$(mktemp -d)}"

pgdir="$(mktemp -d -t tongban-pg.XXXXXX)"
cleanup() { scripts/pg-temp.sh stop "$pgdir"; }
trap cleanup EXIT INT TERM

step() { printf '\n== %s\n' "$*"; }
failed=()

step "ruff (lint)";           ruff check . || failed+=("ruff check")
step "ruff (format)";         ruff format --check . || failed+=("ruff format")
step "mypy";                  mypy tongban || failed+=("mypy")
step "makemigrations --check"; python -m tongban makemigrations --check --dry-run || failed+=("makemigrations")

run_pytest() {
  local label="$1"; shift
  step "pytest on $label"
  python -m pytest --durations=10 "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then
    echo "pytest on $label collected no tests: that is a failure." >&2
  fi
  [ $rc -eq 0 ] || failed+=("pytest on $label (exit $rc)")
}

unset DATABASE_URL
run_pytest SQLite "$@"

port=$(( 54000 + RANDOM % 1000 ))
step "starting a throwaway PostgreSQL on port $port"
# No autovacuum: tests keep their rows in transactions it cannot see, so a vacuum at the wrong moment
# records the tables as empty and the planner then picks nested loops that take minutes per query.
if scripts/pg-temp.sh start "$pgdir" "$port" -c autovacuum=off; then
  DATABASE_URL="postgres://postgres@127.0.0.1:$port/tongban" run_pytest PostgreSQL "$@"
else
  failed+=("PostgreSQL start")
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf '\nFAILED: %s\n' "${failed[*]}" >&2
  exit 1
fi
printf '\nAll checks passed.\n'
