"""``manage.py seed_campaigns``: the two preset campaigns switched on with a history, so the campaign pages, the
card's panel and the operator's calls have something to show. Runs after ``seed_loyalty`` and ``scoring_run``.

Everything goes through the live services: "Win back before they go" selects the customers slipping away as of
``--days`` ago (treated and control by the stable hash, VIP and High as call tasks, personal coupons along the
rule's curve), their messages are sent through the outbox to the demo's file backends, a share of them click the
tracked link; "Reward loyalty" announces the tier of every order delivered in the last ``--days``.
"""

import random
import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from loyalty.campaigns.models import Campaign, CampaignRecipient, Preset, RecipientStatus
from loyalty.campaigns.presets import preset_switch
from loyalty.campaigns.runner import campaign_run
from loyalty.campaigns.services import recipient_click
from messaging.services import messages_send_now
from shop.models import User
from shop.roles import Capability, Role

CLICK_SHARE = 0.25


class Command(BaseCommand):
    help = "Switch on the two preset campaigns and give them a history (recipients, messages, clicks, calls)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=10, help="the campaigns started this many days ago")
        parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable clicks")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any campaign exists")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1:
            raise CommandError("--days must be ≥ 1")
        if options["if_empty"] and Campaign.objects.exists():
            self.stdout.write("Campaigns exist already: the campaign demo data is left as it is.")
            return
        owner = User.objects.filter(is_active=True, groups__name=Role.OWNER).order_by("pk").first()
        if owner is None or not owner.can(Capability.CONFIGURE):
            raise CommandError("No owner account: run `manage.py create_demo_users` first.")
        started, rng = time.monotonic(), random.Random(options["seed"])
        past = timezone.now() - timedelta(days=options["days"])
        win_back = preset_switch(user=owner, preset=Preset.WIN_BACK, active=True)
        reward = preset_switch(user=owner, preset=Preset.REWARD_LOYALTY, active=True)
        Campaign.objects.filter(pk=reward.pk).update(last_run_at=past)
        entered = campaign_run(campaign_id=win_back.pk, now=past).entered
        entered += campaign_run(campaign_id=reward.pk).entered
        queued = list(CampaignRecipient.objects.filter(status=RecipientStatus.QUEUED).values_list("pk", "message_id"))
        for start in range(0, len(queued), 500):
            messages_send_now(ids=[message_id for _pk, message_id in queued[start : start + 500]])
        clicked = 0
        for pk, _message_id in queued:
            if rng.random() < CLICK_SHARE:
                recipient_click(recipient_id=pk, now=past + timedelta(days=rng.uniform(0, options["days"])))
                clicked += 1
        self.stdout.write(
            self.style.SUCCESS(
                f"Switched on 2 campaigns: {entered:,} customers entered, {len(queued):,} messages sent, "
                f"{clicked:,} clicks in {time.monotonic() - started:.1f} s."
            )
        )
