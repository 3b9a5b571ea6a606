#!/usr/bin/env bash
# Create .venv and install tongban with its locked dependencies: base (for `make run`) or dev (tests).
# Uses uv when it is on the PATH, else the standard venv module and pip. Skips work already done.
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${1:-base}"
lock="requirements/${profile}.txt"
venv=".venv"
stamp="$venv/.installed-${profile}-$(cat "$lock" pyproject.toml | sha256sum | cut -c1-16)"

if [ -f "$stamp" ] && [ -x "$venv/bin/tongban" ]; then
  exit 0
fi

python="${PYTHON:-$(command -v python3)}"
"$python" - <<'PY' || { echo "tongban 需要 Python 3.11 或更高版本。" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

if command -v uv >/dev/null 2>&1; then
  export UV_PYTHON_DOWNLOADS=never
  [ -x "$venv/bin/python" ] || uv venv --quiet --python "$python" "$venv"
  uv pip install --quiet --python "$venv/bin/python" -r "$lock"
  uv pip install --quiet --python "$venv/bin/python" --no-deps -e .
else
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r "$lock"
  "$venv/bin/python" -m pip install --quiet --no-deps -e .
fi
rm -f "$venv"/.installed-"${profile}"-*
touch "$stamp"
echo "已安装依赖（$lock）到 $venv。"
