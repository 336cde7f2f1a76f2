"""Every link in a message starts with PUBLIC_BASE_URL, and production refuses to start without one: a survey sent
under production settings points at the shop's public address, never at localhost."""

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from feedback.models import Invitation, InvitationSkip
from feedback.services import invitations_schedule
from messaging.models import Message
from tests.conftest import database_url_of_this_process
from tests.crm.test_production_settings import production_environment, run_deploy_check
from tests.feedback.helpers import consent, deliver

SEND_ONE_SURVEY = """
import json, sys
import django
django.setup()
from django.core import mail
from feedback.services import invitation_send
state = invitation_send(invitation_id=int(sys.argv[1]))
message = mail.outbox[0]
print(json.dumps({"state": state, "body": message.body, "html": message.alternatives[0][0],
                  "headers": dict(message.extra_headers)}))
"""


def test_production_refuses_a_public_base_url_that_is_not_https() -> None:
    result = run_deploy_check(PUBLIC_BASE_URL="http://crm.example.com")

    assert result.returncode != 0
    assert "PUBLIC_BASE_URL must start with https://" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_a_survey_sent_under_production_settings_links_to_the_public_address() -> None:
    order = deliver("P-1", email="pia@example.com", phone="+79990001122", language="en")
    consent(order)
    # Committed at once here, the delivery already decided before the consent above: no consent, no survey.
    InvitationSkip.objects.filter(order=order).delete()
    invitations_schedule(order_ids=[order.pk])
    Message.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    invitation = Invitation.objects.get(order=order)

    result = subprocess.run(
        [sys.executable, "-c", SEND_ONE_SURVEY, str(invitation.pk)],
        cwd=Path(settings.BASE_DIR),
        env=production_environment(
            DATABASE_URL=database_url_of_this_process(),
            EMAIL_URL="memorymail://",
            PUBLIC_BASE_URL="https://shop.example.org/",
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    sent = json.loads(result.stdout.strip().splitlines()[-1])
    assert sent["state"] == "sent"
    links = [word for word in sent["body"].split() if "://" in word]
    assert links and all(link.startswith("https://shop.example.org/") for link in links), links
    assert any(link.startswith("https://shop.example.org/feedback/s/") for link in links)
    assert "localhost" not in sent["body"] + sent["html"]
    assert sent["headers"]["List-Unsubscribe"].startswith("<https://shop.example.org/feedback/")
    assert sent["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
