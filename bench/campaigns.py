"""Campaigns at scale: the daily audience selection on the scored base, and 10,000 campaign messages sent by one
real Celery worker with file backends. Each figure is printed with the load average of the shared machine.

    # the daily selection of the "Win back before they go" preset (churn risk ≥ 60 %, thresholds 60 % and 80 %,
    # marketing consent): the audience count, the first day's insert (everyone qualifies) and a steady day's run
    # (everyone already in: only whoever newly qualifies enters). Each run is rolled back.
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_bench_campaigns .venv/bin/python bench/campaigns.py \
        audience [--runs 3]
    # 10,000 recipients processed (offer, coupon, message in their language into the outbox), then sent by one
    # --pool=solo worker (email to Django's file backend, SMS to the file backend); every message checked received
    # exactly once. Writes a tag, a campaign, coupons and messages, removed again at the end of each run; at the end
    # the tag, a win-back rule it had to create and the messaging settings it changed are put back as they were.
    # The base needs messaging's migrations (0003 adds a nullable column).
    DATABASE_URL=…/retain_bench REDIS_URL=redis://127.0.0.1:6379/7 .venv/bin/python bench/campaigns.py \
        send [--messages 10000] [--runs 3]
"""

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
TAG = "bench-campaign"


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} CPUs"


class _Rollback(Exception):
    pass


def _win_back(**fields: Any) -> Any:
    from loyalty.campaigns.models import Campaign
    from loyalty.campaigns.presets import TEMPLATES, WIN_BACK_RULE
    from loyalty.models import LoyaltyRule

    rule = LoyaltyRule.objects.filter(kind="win_back").order_by("pk").first() or LoyaltyRule.objects.create(
        **WIN_BACK_RULE
    )
    values = {
        "name": "bench win-back", "preset": "custom", "schedule": "daily", "churn_min": 0.6,
        "risk_thresholds": [0.6, 0.8], "call_tiers": ["vip", "high"], "send_channel": "sms_first", "rule": rule,
        "control_share": Decimal("0.2"), "is_active": True, "templates": TEMPLATES["win_back"],
    }  # fmt: skip
    values.update(fields)
    return Campaign.objects.create(**values)


def audience(args: argparse.Namespace) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from loyalty.campaigns.audience import audience_enter, audience_today

    for run in range(1, args.runs + 1):
        try:
            with transaction.atomic():
                campaign = _win_back()
                now = timezone.now()
                started = time.perf_counter()
                today = audience_today(campaign, now=now)
                counted = time.perf_counter() - started
                started = time.perf_counter()
                first = audience_enter(campaign, now=now)
                first_day = time.perf_counter() - started
                # As autovacuum would have by the next day: the table's statistics know its rows.
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE loyalty_campaignrecipient")
                started = time.perf_counter()
                again = audience_enter(campaign, now=now)
                steady = time.perf_counter() - started
                print(
                    f"run {run}: audience {today.total:,} ({today.control:,} control, {today.calls:,} calls) "
                    f"counted in {counted:.2f} s; first day entered {first:,} in {first_day:.2f} s; "
                    f"a steady day entered {again:,} in {steady:.2f} s; {load_average()}",
                    flush=True,
                )
                raise _Rollback
        except _Rollback:
            pass


def _prepare(count: int) -> Any:
    """Tag ``count`` customers who have consent on some channel and an address, and make a campaign for them."""
    from django.db import connection

    from customers.models import Tag
    from messaging.models import MessagingSettings

    MessagingSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 100, "quiet_from": 0, "quiet_until": 0})
    tag, _created = Tag.objects.get_or_create(name=TAG)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM customers_customer_tags WHERE tag_id = %s", [tag.pk])
        cursor.execute(
            """INSERT INTO customers_customer_tags (customer_id, tag_id)
               SELECT c.id, %s FROM customers_customer c
               WHERE (c.email_consent AND EXISTS (SELECT 1 FROM customers_customeremail e WHERE e.customer_id = c.id))
                  OR (c.sms_consent AND EXISTS (SELECT 1 FROM customers_customerphone p WHERE p.customer_id = c.id))
               ORDER BY c.id LIMIT %s""",
            [tag.pk, count],
        )
    return _win_back(name="bench send", tags=[TAG], churn_min=None, risk_thresholds=[], call_tiers=[],
                     control_share=Decimal("0"), send_channel="email_first")  # fmt: skip


def _settings_kept() -> Any:
    """The messaging settings as they were (None when the base had none), for :func:`_restore`."""
    from messaging.models import MessagingSettings

    return MessagingSettings.objects.filter(pk=1).values().first()


def _restore(settings: Any, rules_before: set[int]) -> None:
    """Leave the base as the bench found it: its tag gone, its win-back rule gone if it made one, the messaging
    settings back."""
    from customers.models import Tag
    from loyalty.models import LoyaltyRule
    from messaging.models import MessagingSettings

    Tag.objects.filter(name=TAG).delete()
    LoyaltyRule.objects.filter(kind="win_back").exclude(pk__in=rules_before).delete()
    if settings is None:
        MessagingSettings.objects.filter(pk=1).delete()
    else:
        MessagingSettings.objects.filter(pk=1).update(**settings)


def _cleanup(campaign: Any) -> None:
    from loyalty.campaigns.models import CampaignRecipient
    from loyalty.models import Coupon
    from messaging.models import Message

    rows = CampaignRecipient.objects.filter(campaign=campaign)
    coupons = list(rows.values_list("coupon_id", flat=True))
    messages = list(rows.values_list("message_id", flat=True))
    rows.delete()
    Coupon.objects.filter(pk__in=coupons).delete()
    Message.objects.filter(pk__in=messages).delete()
    campaign.delete()


def _start_worker(queue: str, sink: Path) -> subprocess.Popen[bytes]:
    from crm.celery import app

    environment = {
        **os.environ, "DEBUG": "false", "MESSAGING_SMS_FILE": str(sink / "sms.log"),
        "EMAIL_URL": f"filemail:///{sink / 'mail'}",
    }  # fmt: skip
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "crm", "worker", "--pool=solo", "-Q", queue, "-n", f"{queue}@%h",
         "--loglevel=WARNING"],
        cwd=ROOT, env=environment,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not any(queue in name for reply in app.control.ping(timeout=1.0) or [] for name in reply):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("The worker did not start.")
    return worker


def _received(sink: Path) -> list[str]:
    ids = []
    sms = sink / "sms.log"
    if sms.exists():
        ids += [line.split("\t", 1)[0] for line in sms.read_text(encoding="utf-8").splitlines() if line]
    mail = sink / "mail"
    if mail.exists():
        pattern = re.compile(r"^Message-ID: <(retain-message-\d+)@", re.MULTILINE)
        ids += [token for file in mail.iterdir() for token in pattern.findall(file.read_text(encoding="utf-8"))]
    return ids


def send(args: argparse.Namespace) -> None:
    from loyalty.models import LoyaltyRule

    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL: the messages go through a real worker.")

    settings = _settings_kept()
    rules_before = set(LoyaltyRule.objects.filter(kind="win_back").values_list("pk", flat=True))
    try:
        _send_runs(args)
    finally:
        _restore(settings, rules_before)


def _send_runs(args: argparse.Namespace) -> None:
    from loyalty.campaigns.runner import campaign_run
    from messaging.models import Message, MessageState
    from messaging.tasks import messages_send_batch_task

    for run in range(1, args.runs + 1):
        campaign = _prepare(args.messages)
        sink = Path(tempfile.mkdtemp(prefix="campaigns-bench-"))
        queue = f"bench-campaigns-{os.getpid()}-{run}"
        worker = _start_worker(queue, sink)
        try:
            load_before = load_average()
            started = time.monotonic()
            result = campaign_run(campaign_id=campaign.pk, force=True)
            queued = time.monotonic() - started
            ids = list(campaign.recipients.exclude(message=None).values_list("message_id", flat=True))
            begun = time.monotonic()
            messages_send_batch_task.apply_async((500,), queue=queue)
            while Message.objects.filter(pk__in=ids, state__in=[MessageState.DUE, MessageState.SENDING]).exists():
                time.sleep(0.2)
            sending = time.monotonic() - begun
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        states = sorted(set(Message.objects.filter(pk__in=ids).values_list("state", flat=True)))
        received = _received(sink)
        expected = {f"retain-message-{pk}" for pk in ids}
        print(
            f"run {run}: {result.entered:,} entered, {len(ids):,} messages queued in {queued:.1f} s; sent by one worker "
            f"in {sending:.1f} s ({len(ids) / sending:,.0f}/s); states {states}; received {len(received):,} "
            f"({len(set(received)):,} distinct); before: {load_before}; after: {load_average()}",
            flush=True,
        )
        _cleanup(campaign)
        if len(received) != len(set(received)) or set(received) != expected:
            raise SystemExit("The backends did not receive each message exactly once.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", choices=("audience", "send"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=10000)
    args = parser.parse_args()
    import django

    django.setup()
    from django.db import connection

    print(
        f"{platform.node()}: Python {platform.python_version()}, PostgreSQL {connection.cursor().connection.server_version}"
    )
    {"audience": audience, "send": send}[args.phase](args)


if __name__ == "__main__":
    main()
