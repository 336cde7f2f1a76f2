"""A broker that is down never turns stored orders into an error: the request answers 200 and the orders are in
PostgreSQL, where the sweeps and the nightly rescoring find the work the lost messages carried."""

import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings

from orders.models import Order
from shop.services import token_issue
from tests.conftest import database_url_of_this_process, free_port

# Runs in a process of its own with the production broker settings (tasks are sent, not run eagerly) pointed at a
# port nobody listens on.
POST_ONE_ORDER = textwrap.dedent(
    """
    import json
    from django.test import Client
    body = {
        "source": "site", "external_id": "down-1", "status": "delivered", "total": "990.00",
        "placed_at": "2026-11-20T12:00:00+03:00", "customer": {"phones": ["+79990001122"]},
    }
    response = Client().post(
        "/api/v1/orders", data=json.dumps(body), content_type="application/json",
        HTTP_AUTHORIZATION="Bearer " + KEY,
    )
    print(response.status_code)
    """
)


def _post_with_the_broker_down(script: str, log_level: str = "CRITICAL") -> subprocess.CompletedProcess[str]:
    key = token_issue(name="site", scopes=["import"], created_by=None).key
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "DJANGO_ENV": "test",
        "DATABASE_URL": database_url_of_this_process(),
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "LOG_LEVEL": log_level,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", f"KEY = {key!r}\n{script}"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_an_order_sent_while_the_broker_is_down_is_stored_and_answered_with_200() -> None:
    result = _post_with_the_broker_down(POST_ONE_ORDER)

    assert result.stdout.strip().splitlines()[-1:] == ["200"], result.stderr[-3000:]
    assert Order.objects.filter(source="site", external_id="down-1").exists()


@pytest.mark.django_db(transaction=True)
def test_after_the_broker_refused_once_the_next_requests_do_not_ask_it_again() -> None:
    second = POST_ONE_ORDER.replace("down-1", "down-2")
    third = POST_ONE_ORDER.replace("down-1", "down-3")
    result = _post_with_the_broker_down(POST_ONE_ORDER + second + third, log_level="WARNING")

    assert result.stdout.strip().splitlines()[-3:] == ["200", "200", "200"], result.stderr[-3000:]
    assert result.stderr.count("The broker did not take") == 1
    assert Order.objects.filter(source="site", external_id__startswith="down-").count() == 3
