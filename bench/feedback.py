"""Scheduling and sending 10,000 survey invitations through one real Celery worker with file backends.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_feedbackbench REDIS_URL=redis://127.0.0.1:6379/4 \
        .venv/bin/python bench/feedback.py [--orders 10000]

Migrates the database, writes the delivered orders (not timed), then times through one ``--pool=solo`` worker:
scheduling (the tasks the ``orders_delivered`` receiver queues, 1,000 orders each) and sending every invitation
(half email to Django's file backend, half SMS to the file backend) through messaging's outbox, from queueing to the
last invitation marked sent, and the worker's CPU time while sending (wall time beyond it is waiting: for
PostgreSQL, the disk, or a CPU). Then it counts what the backends received (email messages by their Message-ID, SMS
lines by their message id) and fails when any invitation was received twice or not at all.
"""

import argparse
import os
import platform
import re
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
    from feedback.tasks import invitations_schedule_task
    from messaging.models import Message
    from messaging.tasks import messages_send_batch_task
    from orders.models import Order, OrderStatus

    call_command("migrate", verbosity=0)
    Invitation.objects.all().delete()
    InvitationSkip.objects.all().delete()
    Message.objects.all().delete()
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
        # As in production: no query log, cached templates.
        "DEBUG": "false",
        "MESSAGING_SMS_FILE": str(sink / "sms.log"),
        # django-environ drops the first slash of the path: four slashes make it absolute.
        "EMAIL_URL": f"filemail:///{sink / 'mail'}",
    }
    load_before = os.getloadavg()
    worker = subprocess.Popen(
        [
            *(str(ROOT / ".venv/bin/celery"), "-A", "crm", "worker", "--pool=solo", "-Q", queue),
            *("-n", f"{queue}@%h", "--loglevel=WARNING"),
        ],
        cwd=ROOT,
        env=environment,
    )
    try:
        _wait_until_ready(worker, queue)
        started = time.monotonic()
        for start in range(0, len(order_ids), 1000):
            invitations_schedule_task.apply_async((order_ids[start : start + 1000],), queue=queue)
        while Invitation.objects.count() + InvitationSkip.objects.count() < len(order_ids):
            time.sleep(0.1)
        scheduled = time.monotonic() - started
        # The survey is due the day after delivery; the bench makes every one due now instead of waiting.
        Message.objects.update(due_at=timezone.now())
        cpu_before = _cpu_seconds(worker.pid)
        begun = time.monotonic()
        messages_send_batch_task.apply_async((500,), queue=queue)
        while Invitation.objects.filter(state=InvitationState.SENT).count() < len(order_ids):
            if Invitation.objects.exclude(
                state__in=[InvitationState.DUE, InvitationState.SENDING, InvitationState.SENT]
            ).exists():
                break
            time.sleep(0.2)
        sent_seconds = time.monotonic() - begun
        cpu_after = _cpu_seconds(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    states = dict(Invitation.objects.values_list("state").annotate(n=django.db.models.Count("id")))
    expected = dict(Invitation.objects.values_list("channel").annotate(n=django.db.models.Count("id")))
    sms_ids = _sms_ids(sink / "sms.log")
    email_tokens = _email_tokens(sink / "mail")
    print(
        f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"PostgreSQL {django.db.connection.cursor().connection.server_version}; load average before {load_before[0]:.1f}, "
        f"after {os.getloadavg()[0]:.1f}"
    )
    print(f"orders: {len(order_ids):,}; invitations by state: {states}")
    print(f"scheduling: {scheduled:.1f} s ({len(order_ids) / scheduled:,.0f} orders/s)")
    print(f"sending: {sent_seconds:.1f} s ({len(order_ids) / sent_seconds:,.0f} invitations/s)")
    print(f"total: {scheduled + sent_seconds:.1f} s")
    worker_cpu = cpu_after - cpu_before
    print(
        f"sending, per invitation: {1000 * sent_seconds / len(order_ids):.2f} ms wall, worker CPU "
        f"{1000 * worker_cpu / len(order_ids):.2f} ms"
    )
    print(
        f"received: {len(sms_ids):,} SMS ({len(set(sms_ids)):,} distinct) of {expected.get('sms', 0):,}; "
        f"{len(email_tokens):,} emails ({len(set(email_tokens)):,} distinct) of {expected.get('email', 0):,}; in {sink}"
    )
    if (
        len(sms_ids) != len(set(sms_ids))
        or len(email_tokens) != len(set(email_tokens))
        or len(sms_ids) != expected.get("sms", 0)
        or len(email_tokens) != expected.get("email", 0)
    ):
        raise SystemExit("The backends did not receive each invitation exactly once.")


def _wait_until_ready(worker: subprocess.Popen[bytes], queue: str) -> None:
    """Start the clock only once the worker answers a ping (its start-up is not what is measured)."""
    from crm.celery import app

    deadline = time.monotonic() + 120
    while not any(queue in name for reply in app.control.ping(timeout=1.0) or [] for name in reply):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("The worker did not start.")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a process has used so far (a waiting process uses none)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _sms_ids(path: Path) -> list[str]:
    """The message id (the outbox row's client id) of every SMS the file backend wrote."""
    if not path.exists():
        return []
    return [line.split("\t", 1)[0] for line in path.read_text(encoding="utf-8").splitlines() if line]


def _email_tokens(folder: Path) -> list[str]:
    """The Message-ID of every email in the file backend's files (one file per connection, many messages each)."""
    if not folder.exists():
        return []
    pattern = re.compile(r"^Message-ID: <(retain-message-[^>]+)>", re.MULTILINE)
    return [token for file in folder.iterdir() for token in pattern.findall(file.read_text(encoding="utf-8"))]


if __name__ == "__main__":
    main()
