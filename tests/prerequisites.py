"""What a test does when something it needs from the machine is missing (Chromium, redis-server, Redis for a real
worker): on a developer's machine it skips and says what to install; under CI (``CI=true``, as .ci/run runs) it
fails, so a green run always means those tests ran."""

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def prerequisite_missing(reason: str) -> NoReturn:
    """Skip with ``reason``, or fail with it under CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing prerequisite fails the run instead of skipping)", pytrace=False)
    pytest.skip(reason)
