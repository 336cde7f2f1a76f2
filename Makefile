# Retain: the two commands are `make demo` and `make test`; everything else is what they are made of.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/retain
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: install demo test lint typecheck migrations-check messages check-deploy clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

# The locked dependencies (uv.lock), reproducible on a fresh machine.
install: $(UV)
	$(UV) sync --frozen --python $(PYTHON)

# The embedded PostgreSQL under var/postgres (unless DATABASE_URL is set), the demo data once, web + worker + beat;
# PORT=8077 make demo picks the web port. Ctrl-C stops everything and keeps the data.
demo: install
	scripts/demo.sh

test: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(VENV)/bin/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy .

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run

# Extract and compile translations; the compiled .mo files are committed so no gettext is needed to run.
messages: install
	$(PY) manage.py makemessages -l ru --ignore '.venv/*' --ignore '.tools/*' --ignore 'var/*'
	$(PY) manage.py compilemessages --ignore '.venv/*' --ignore '.tools/*'

check-deploy: install
	DJANGO_ENV=production SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=crm.example.com \
		PUBLIC_BASE_URL=https://crm.example.com \
		DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) manage.py check --deploy --fail-level WARNING

clean:
	-$(PY) -m crm.embedded_db stop
	rm -rf $(VENV) $(TOOLS) var
