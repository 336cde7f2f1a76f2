#!/usr/bin/env bash
# Runs the demo on PostgreSQL: the embedded server under var/postgres (unless DATABASE_URL is set), the demo data
# on the first run, then the web server, a real Celery worker and the beat scheduler (on the embedded filesystem
# broker unless REDIS_URL is set). Ctrl-C stops all of them, the embedded database last; its data stays for the
# next run. PORT picks the web server's port (8000).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
CELERY=.venv/bin/celery
PORT=${PORT:-8000}
mkdir -p var/log var/mail

pids=()
embedded=""
stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  if [ -n "$embedded" ]; then
    "$PY" -m crm.embedded_db stop || true
  fi
}
trap stop INT TERM EXIT

if [ -z "${DATABASE_URL:-}" ]; then
  embedded=1
  DATABASE_URL=$("$PY" -m crm.embedded_db start)
  echo "Embedded PostgreSQL is running under var/postgres: DATABASE_URL=$DATABASE_URL"
fi
export DATABASE_URL
# The demo's extras, never production's defaults: a telephony secret so the webhook answers (and the console's
# simulated ring goes through it), the messages written to files the owner's outbox page reads, survey links that
# point at this server.
export RETAIN_DEMO=1
export TELEPHONY_WEBHOOK_SECRET=${TELEPHONY_WEBHOOK_SECRET:-retain-demo-telephony-secret}
export EMAIL_URL=${EMAIL_URL:-filemail:///$PWD/var/mail}
export FEEDBACK_SMS_FILE=${FEEDBACK_SMS_FILE:-$PWD/var/sms.log}
export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://127.0.0.1:$PORT}

"$PY" manage.py migrate --no-input
"$PY" manage.py create_demo_users
"$PY" manage.py seed_demo --customers 3000 --if-empty
"$PY" manage.py seed_feedback --if-empty
"$PY" manage.py seed_loyalty --if-empty
"$PY" manage.py scoring_run --if-never
"$PY" manage.py seed_campaigns --if-empty
"$PY" manage.py analytics_refresh --if-never

"$CELERY" -A crm worker --loglevel=INFO --concurrency=2 >var/log/worker.log 2>&1 &
pids+=($!)
"$CELERY" -A crm beat --loglevel=INFO --schedule=var/celerybeat-schedule >var/log/beat.log 2>&1 &
pids+=($!)
echo "Worker and scheduler started (logs in var/log/). Retain is at http://127.0.0.1:$PORT/ — Ctrl-C stops everything."
"$PY" manage.py runserver "127.0.0.1:$PORT" &
pids+=($!)
wait -n "${pids[@]}"
