"""DJANGO_ENV=production: passes Django's deployment checks when configured, refuses to start when not."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

GOOD_SECRET_KEY = "k3Jr9-vQ2xN7pL0sT5wY8zB4cF6hM1gD-eA2nR7uK9jW3qX5tV0yZ8"


def production_environment(**overrides: str) -> dict[str, str]:
    # Production never runs with the browser tests' async-safety switch, which another test may have set.
    inherited = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "DJANGO_ENV": "production",
        "SECRET_KEY": GOOD_SECRET_KEY,
        "ALLOWED_HOSTS": "crm.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://crm.example.com",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/retain"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "PUBLIC_BASE_URL": "https://crm.example.com",
        **overrides,
    }


def run_deploy_check(**overrides: str) -> subprocess.CompletedProcess[str]:
    environment = production_environment(**overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(settings.BASE_DIR),
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_configured_production_settings_pass_the_deployment_checks() -> None:
    result = run_deploy_check()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [("SECRET_KEY", ""), ("ALLOWED_HOSTS", ""), ("DATABASE_URL", ""), ("REDIS_URL", ""), ("PUBLIC_BASE_URL", "")],
)
def test_production_refuses_to_start_without_a_required_variable_and_names_it(variable: str, value: str) -> None:
    result = run_deploy_check(**{variable: value})

    assert result.returncode != 0
    assert f"{variable} must be set when DJANGO_ENV=production" in result.stderr


def test_production_refuses_a_short_secret_key() -> None:
    result = run_deploy_check(SECRET_KEY="too-short")

    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


PROBE_HEALTHZ_AND_HOME = """
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="crm.example.com")
print(client.get("/healthz").status_code, client.get("/").status_code, client.get("/").get("Location"))
"""


def test_production_redirects_pages_to_https_but_answers_healthz_over_plain_http() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE_HEALTHZ_AND_HOME],
        cwd=Path(settings.BASE_DIR),
        env=production_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    healthz, home, location = result.stdout.split()
    # The orchestrator asks over plain HTTP inside the network: a redirect would read as "down". Whether the database
    # named here exists does not matter, only that the answer is not a redirect.
    assert healthz in {"200", "503"}
    assert (home, location) == ("301", "https://crm.example.com/")


def test_the_mail_server_is_given_ten_seconds_unless_told_otherwise() -> None:
    assert settings.EMAIL_TIMEOUT == 10


@pytest.mark.parametrize("value", ["ten", "0"])
def test_a_mail_timeout_that_is_not_a_positive_number_of_seconds_stops_the_start_naming_it(value: str) -> None:
    result = run_deploy_check(EMAIL_TIMEOUT=value)

    assert result.returncode != 0
    assert "EMAIL_TIMEOUT must be a" in result.stderr
