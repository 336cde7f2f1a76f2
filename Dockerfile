# Retain's production image: the locked dependencies (uv.lock), static files collected at build time, a non-root
# user, gunicorn. The same image runs the web app, the Celery worker, the beat scheduler and the migrations
# (see docker-compose.yml); every setting comes from the environment at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/app/.venv/bin:$PATH

WORKDIR /app

# The uv the Makefile pins, so the lock file is read by the version the project uses.
RUN pip install --no-cache-dir "uv==0.13.9"

# Dependencies before the code: this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project && rm -rf /root/.cache/uv

COPY . .

# collectstatic imports the production settings, which refuse to start without their secrets; these build-only
# values exist for this one command and never reach a running container (compose passes the real ones).
RUN DJANGO_ENV=production \
    SECRET_KEY=build-only-collectstatic-key-never-used-at-runtime-0123456789 \
    ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgres://build@build.invalid:5432/build \
    REDIS_URL=redis://build.invalid:6379/0 \
    PUBLIC_BASE_URL=https://build.invalid \
    python manage.py collectstatic --no-input --verbosity 0

RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin retain \
    && mkdir -p /app/var/media \
    && chown -R retain:retain /app/var
USER retain

EXPOSE 8000
CMD ["gunicorn", "crm.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
