"""Under CI a test whose prerequisite (Chromium, redis-server, Redis for a worker) is missing fails; elsewhere it
skips and says what to install."""

import pytest

from tests.prerequisites import prerequisite_missing


@pytest.mark.parametrize("value", ["true", "TRUE", "1"])
def test_a_missing_prerequisite_fails_the_test_under_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)

    with pytest.raises(pytest.fail.Exception, match="install Debian's chromium"):
        prerequisite_missing("/usr/bin/chromium is missing: install Debian's chromium package")


@pytest.mark.parametrize("value", [None, "", "false"])
def test_a_missing_prerequisite_skips_the_test_on_a_developers_machine(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)

    with pytest.raises(pytest.skip.Exception, match="redis-server"):
        prerequisite_missing("redis-server is not installed")
