"""``manage.py seed_campaigns`` on a small seeded, scored shop: both presets on, with recipients, messages sent,
clicks, a control group; ``--if-empty`` leaves them alone."""

from io import StringIO

import pytest
from django.core.management import call_command

from loyalty.campaigns.models import Campaign, CampaignRecipient, Group, Preset, RecipientStatus
from messaging.models import Message, MessageState
from tests.factories import make_owner
from tests.scoring.runs import run_now, seed_shop

pytestmark = pytest.mark.django_db


def test_the_demo_switches_both_presets_on_with_a_history() -> None:
    seed_shop(customers=300, seed=21)
    run_now()
    make_owner()
    out = StringIO()
    call_command("seed_campaigns", seed=7, stdout=out)
    assert set(Campaign.objects.filter(is_active=True).values_list("preset", flat=True)) == {
        Preset.WIN_BACK, Preset.REWARD_LOYALTY,
    }  # fmt: skip
    win_back = Campaign.objects.get(preset=Preset.WIN_BACK)
    rows = CampaignRecipient.objects.filter(campaign=win_back)
    assert rows.filter(group=Group.CONTROL).exists() and rows.filter(group=Group.TREATED).exists()
    assert rows.filter(status=RecipientStatus.SENT).exists()
    assert rows.filter(clicked_at__isnull=False).exists()
    assert Message.objects.filter(kind="campaign.offer", state=MessageState.SENT).exists()
    assert "Switched on 2 campaigns" in out.getvalue()
    again = StringIO()
    call_command("seed_campaigns", if_empty=True, stdout=again)
    assert "left as it is" in again.getvalue()
    assert Campaign.objects.count() == 2
