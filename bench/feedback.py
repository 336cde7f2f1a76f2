"""Scheduling and sending 10,000 survey invitations through one real Celery worker with file backends.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_feedback_bench REDIS_URL=redis://127.0.0.1:6379/8 \
        .venv/bin/python bench/feedback.py [--orders 10000]

Migrates the database, writes the delivered orders (not timed), then times through one ``--pool=solo`` worker:
scheduling (the tasks the ``orders_delivered`` receiver queues, 1,000 orders each) and sending every invitation
(half email to a file backend, half SMS to the file backend), from queueing to the last row marked sent.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10000)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL: the run goes through a real worker.")

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from customers.models import Customer, CustomerEmail, CustomerPhone
    from feedback.models import Invitation, InvitationSkip, InvitationState
    from feedback.tasks import invitations_schedule_task, invitations_send_batch_task
    from orders.models import Order, OrderStatus

    call_command("migrate", verbosity=0)
    Invitation.objects.all().delete()
    InvitationSkip.objects.all().delete()
    Order.objects.filter(source="bench-feedback").delete()
    Customer.objects.filter(city="bench-feedback").delete()

    now = timezone.now()
    customers = Customer.objects.bulk_create(
        [
            Customer(
                name=f"Bench {n}", city="bench-feedback", language="ru", email_consent=n % 2 == 0, sms_consent=True
            )
            for n in range(args.orders)
        ],
        batch_size=2000,
    )
    CustomerPhone.objects.bulk_create(
        [CustomerPhone(customer=c, number=f"+7990{n:07d}") for n, c in enumerate(customers)], batch_size=2000
    )
    CustomerEmail.objects.bulk_create(
        [CustomerEmail(customer=c, address=f"bench{n}@feedback.test") for n, c in enumerate(customers)],
        batch_size=2000,
    )
    orders = Order.objects.bulk_create(
        [
            Order(
                source="bench-feedback",
                external_id=f"F-{n}",
                customer=c,
                placed_at=now - timedelta(days=3),
                status=OrderStatus.DELIVERED,
                status_changed_at=now - timedelta(days=2),
                delivered_at=now - timedelta(days=2),
            )
            for n, c in enumerate(customers)
        ],
        batch_size=2000,
    )
    order_ids = [order.pk for order in orders]

    sink = Path(tempfile.mkdtemp(prefix="feedback-bench-"))
    queue = f"bench-feedback-{os.getpid()}"
    environment = {
        **os.environ,
        "FEEDBACK_SMS_FILE": str(sink / "sms.log"),
        "EMAIL_URL": f"filemail://{sink / 'mail'}",
    }
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "crm", "worker", "--pool=solo", "-Q", queue, "--loglevel=WARNING"],
        cwd=ROOT,
        env=environment,
    )
    try:
        time.sleep(5)
        started = time.monotonic()
        for start in range(0, len(order_ids), 1000):
            invitations_schedule_task.apply_async((order_ids[start : start + 1000],), queue=queue)
        while Invitation.objects.count() + InvitationSkip.objects.count() < len(order_ids):
            time.sleep(0.1)
        scheduled = time.monotonic() - started
        # The survey is due the day after delivery; the bench makes every one due now instead of waiting.
        Invitation.objects.update(due_at=timezone.now())
        begun = time.monotonic()
        invitations_send_batch_task.apply_async((500,), queue=queue)
        while Invitation.objects.filter(state=InvitationState.SENT).count() < len(order_ids):
            if Invitation.objects.exclude(
                state__in=[InvitationState.DUE, InvitationState.SENDING, InvitationState.SENT]
            ).exists():
                break
            time.sleep(0.2)
        sent_seconds = time.monotonic() - begun
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    states = dict(Invitation.objects.values_list("state").annotate(n=django.db.models.Count("id")))
    sms_lines = len((sink / "sms.log").read_text().splitlines()) if (sink / "sms.log").exists() else 0
    mail_files = sum(1 for _ in (sink / "mail").glob("*")) if (sink / "mail").exists() else 0
    print(f"orders: {len(order_ids):,}; invitations by state: {states}")
    print(f"scheduling: {scheduled:.1f} s ({len(order_ids) / scheduled:,.0f} orders/s)")
    print(f"sending: {sent_seconds:.1f} s ({len(order_ids) / sent_seconds:,.0f} invitations/s)")
    print(f"total: {scheduled + sent_seconds:.1f} s; SMS lines {sms_lines:,}, email files {mail_files:,} in {sink}")


if __name__ == "__main__":
    main()
