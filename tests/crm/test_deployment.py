"""The production shape (Dockerfile, docker-compose.yml, .env.example) agrees with what crm/settings.py reads.

No container engine runs in CI, so the files are checked for their contract, and the web healthcheck's probe is run
for real against a live server.
"""

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tests.conftest import free_port

ROOT = Path(settings.BASE_DIR)
APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING = ("db", "redis", "web", "worker", "beat")
# Variables the images of db/redis read themselves; Retain never does.
CONTAINER_ONLY = {"POSTGRES_PASSWORD", "REDIS_PASSWORD"}


def settings_variables() -> set[str]:
    source = (ROOT / "crm" / "settings.py").read_text()
    return set(re.findall(r"""(?:env\.\w+|_required|_seconds)\(\s*["']([A-Z][A-Z0-9_]*)["']""", source))


def env_example_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def interpolated(text: str) -> set[str]:
    """``${VAR}``/``$VAR`` that compose substitutes; ``$$`` is an escaped dollar left for the container's shell."""
    return set(re.findall(r"(?<!\$)\$\{?([A-Z_][A-Z0-9_]*)", text.replace("$$", "")))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def test_settings_reads_the_variables_this_test_expects() -> None:
    assert {
        "DJANGO_ENV",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "EMAIL_URL",
    } <= settings_variables()


def test_compose_runs_the_five_services_on_the_right_images(compose: dict[str, Any]) -> None:
    services = compose["services"]

    assert set(LONG_RUNNING) <= set(services)
    assert services["db"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert services["web"]["command"][:2] == ["gunicorn", "crm.wsgi"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "crm", "worker"]
    beat = services["beat"]["command"]
    assert beat[:4] == ["celery", "-A", "crm", "beat"]
    assert beat[beat.index("--scheduler") + 1] == "django_celery_beat.schedulers:DatabaseScheduler"


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any], name: str) -> None:
    healthcheck = compose["services"][name]["healthcheck"]

    assert healthcheck["test"][0] in {"CMD", "CMD-SHELL"}
    assert not healthcheck.get("disable", False)


def test_the_web_healthcheck_asks_healthz(compose: dict[str, Any]) -> None:
    assert "/healthz" in " ".join(compose["services"]["web"]["healthcheck"]["test"])


def test_migrations_run_once_before_web_worker_and_beat(compose: dict[str, Any]) -> None:
    services = compose["services"]

    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--no-input"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["db"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_production_settings_from_the_env_file(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]

    assert service["env_file"] == ".env"
    assert service["environment"]["DJANGO_ENV"] == "production"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_variable_compose_gives_the_app_is_one_settings_reads(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]

    passed = set(service.get("environment", {})) | interpolated(yaml.safe_dump(service))
    assert passed <= settings_variables()


def test_every_interpolated_variable_is_documented_in_env_example() -> None:
    assert interpolated((ROOT / "docker-compose.yml").read_text()) <= env_example_variables()


def test_redis_keeps_an_append_only_file_never_evicts_and_asks_for_the_password_in_redis_url(
    compose: dict[str, Any],
) -> None:
    command = " ".join(compose["services"]["redis"]["command"])
    example = (ROOT / ".env.example").read_text()
    password = re.search(r"^REDIS_PASSWORD=(.+)$", example, flags=re.MULTILINE)

    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command
    assert '--requirepass "$$REDIS_PASSWORD"' in command
    assert password and re.search(rf"^REDIS_URL=redis://:{re.escape(password.group(1))}@redis:", example, re.MULTILINE)


def test_named_volumes_keep_the_database_the_broker_and_uploads(compose: dict[str, Any]) -> None:
    assert {"postgres", "redis", "media"} <= set(compose["volumes"])
    assert "postgres:/var/lib/postgresql/data" in compose["services"]["db"]["volumes"]
    assert "media:/app/var/media" in compose["services"]["web"]["volumes"]


def test_env_example_lists_every_variable_settings_reads() -> None:
    assert settings_variables() - env_example_variables() == set()


def test_env_example_lists_nothing_settings_does_not_read() -> None:
    assert env_example_variables() - settings_variables() == CONTAINER_ONLY


def test_env_example_leaves_the_secret_key_empty() -> None:
    assert re.search(r"^SECRET_KEY=$", (ROOT / ".env.example").read_text(), flags=re.MULTILINE)


def test_the_dockerfile_builds_the_locked_app_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert dockerfile.startswith("#") and "\nFROM python:3.11-slim\n" in dockerfile
    assert "uv sync --frozen --no-dev" in dockerfile
    assert "manage.py collectstatic --no-input" in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, flags=re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert 'CMD ["gunicorn", "crm.wsgi"' in dockerfile


def test_the_image_leaves_out_local_secrets_and_databases() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()

    assert {".env", ".venv", "var", ".git"} <= set(ignored)


def web_probe(compose: dict[str, Any], live_server: LiveServer) -> subprocess.CompletedProcess[str]:
    """The web healthcheck's own Python, aimed at the live server instead of the container's port 8000."""
    probe = compose["services"]["web"]["healthcheck"]["test"][3].replace("http://127.0.0.1:8000", live_server.url)
    return subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "ALLOWED_HOSTS": "localhost,127.0.0.1"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_the_web_healthcheck_probe_passes_on_a_healthy_server(compose: dict[str, Any], live_server: LiveServer) -> None:
    result = web_probe(compose, live_server)

    assert result.returncode == 0, result.stderr


@pytest.mark.django_db(transaction=True)
def test_the_web_healthcheck_probe_fails_when_the_broker_is_down(
    compose: dict[str, Any], live_server: LiveServer, settings: Settings
) -> None:
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"

    result = web_probe(compose, live_server)

    assert result.returncode != 0
    assert "503" in result.stderr


def test_web_is_published_on_the_hosts_loopback_only(compose: dict[str, Any]) -> None:
    assert all(str(port).startswith("127.0.0.1:") for port in compose["services"]["web"]["ports"])
