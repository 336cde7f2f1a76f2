#!/usr/bin/env bash
# Runs the demo: web server, a real Celery worker and the beat scheduler (on the embedded filesystem broker unless
# REDIS_URL is set). Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
CELERY=.venv/bin/celery
mkdir -p var/log
pids=()
stop() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT
"$CELERY" -A crm worker --loglevel=INFO --concurrency=2 >var/log/worker.log 2>&1 &
pids+=($!)
"$CELERY" -A crm beat --loglevel=INFO --schedule=var/celerybeat-schedule >var/log/beat.log 2>&1 &
pids+=($!)
echo "Worker and scheduler started (logs in var/log/). Retain is at http://127.0.0.1:8000/ — Ctrl-C stops everything."
"$PY" manage.py runserver 127.0.0.1:8000 &
pids+=($!)
wait -n "${pids[@]}"
