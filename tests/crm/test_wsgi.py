"""The web worker's start-up (crm.wsgi): views imported before the first request, their objects out of the
collector's reach (docs/benchmarks.md, issue #11)."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

PROBE = "import gc, sys; import crm.wsgi; print(gc.get_freeze_count(), 'orders.api' in sys.modules)"


def test_a_started_web_worker_has_its_views_imported_and_frozen_out_of_the_collectors_reach() -> None:
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=Path(settings.BASE_DIR),
        env={**environment, "DJANGO_SETTINGS_MODULE": "crm.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    frozen, views_imported = result.stdout.split()
    assert views_imported == "True"
    # Modules, models and serializers: far more than a bare interpreter's objects.
    assert int(frozen) > 50_000
