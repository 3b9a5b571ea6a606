#!/usr/bin/env bash
# `make run`: set everything up and start tongban (web server + task worker) on $HOST:$PORT.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
export DEBUG="${DEBUG:-true}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost,$HOST}"
export PORTAL_REGION_CODE="${PORTAL_REGION_CODE:-430981}"  # the demo is 沅江市's portal

scripts/bootstrap.sh base
scripts/system-packages.sh fonts pango || echo "（没有中文字体时，生成的 PDF 可能无法正确显示中文。）"

tongban=".venv/bin/tongban"
"$tongban" check --deploy --fail-level ERROR >/dev/null
"$tongban" migrate --noinput
"$tongban" demo-org --if-empty
"$tongban" demo-catalog --if-empty
# A first start of the demo gets a year of cases so the dashboard has something to show; a
# database that already holds cases (a second start, a real organisation) is left alone.
"$tongban" demo --cases 2000 --seed 1 --if-empty
# The indicators roll up what the event log gained since they last did (the worker would, within
# minutes): the whole demo year on a first start, little or nothing after.
echo "正在汇总统计指标……"
"$tongban" metrics update

"$tongban" worker &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM

echo
echo "通办已启动：http://$HOST:$PORT/  （按 Ctrl+C 停止）"
"$tongban" runserver "$HOST:$PORT" --noreload
