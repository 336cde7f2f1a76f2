"""A property over random customers, consents and messages: no marketing message ever leaves on a channel whose
marketing consent the customer does not have at the moment it leaves."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import Customer
from messaging.models import Channel, Message, Purpose
from messaging.services import MessageData, messages_enqueue, messages_send_batch

customers = st.lists(
    st.fixed_dictionaries(
        {
            "email_consent": st.booleans(),
            "sms_consent": st.booleans(),
            "erased": st.booleans(),
            # Consent changes between queuing and sending (withdrawn, or given late).
            "email_flips": st.booleans(),
            "sms_flips": st.booleans(),
        }
    ),
    min_size=1,
    max_size=6,
)
messages = st.lists(
    st.tuples(st.integers(0, 5), st.sampled_from(Channel.values), st.sampled_from(Purpose.values)), max_size=12
)


def _left(sink: Path) -> list[str]:
    """Client ids of every message a backend received."""
    ids = [str(email.extra_headers["Message-ID"]).strip("<>").split("@")[0] for email in mail.outbox]
    if sink.exists():
        ids += [line.split("\t", 1)[0] for line in sink.read_text(encoding="utf-8").splitlines() if line]
    return ids


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=customers, wanted=messages)
def test_no_marketing_message_leaves_without_the_channels_consent_at_that_moment(
    people: list[dict[str, bool]], wanted: list[tuple[int, str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = tmp_path / "sms.log"
    sink.unlink(missing_ok=True)
    monkeypatch.setenv("MESSAGING_SMS_FILE", str(sink))
    mail.outbox = []
    with transaction.atomic():
        rows = [
            Customer.objects.create(
                name="x",
                email_consent=person["email_consent"],
                sms_consent=person["sms_consent"],
                erased_at=timezone.now() if person["erased"] else None,
            )
            for person in people
        ]
        messages_enqueue(
            items=[
                MessageData(
                    customer_id=rows[index % len(rows)].pk,
                    channel=channel,
                    purpose=purpose,
                    address="+79990000001" if channel == Channel.SMS else "x@example.com",
                    kind="test.offer",
                    source=f"{number}",
                    due_at=timezone.now() - timedelta(minutes=1),
                    body="Скидка",
                )
                for number, (index, channel, purpose) in enumerate(wanted)
            ]
        )
        for row, person in zip(rows, people, strict=True):
            row.email_consent ^= person["email_flips"]
            row.sms_consent ^= person["sms_flips"]
            row.save(update_fields=["email_consent", "sms_consent"])
        messages_send_batch(limit=100)
        consent = {row.pk: {"email": row.email_consent, "sms": row.sms_consent} for row in rows}
        erased = {row.pk for row in rows if row.erased_at is not None}
        left = set(_left(sink))
        for message in Message.objects.filter(customer__in=rows):
            if message.client_id not in left:
                continue
            assert message.customer_id not in erased
            if message.purpose == Purpose.MARKETING:
                assert consent[message.customer_id][message.channel], f"{message} left without consent"
        transaction.set_rollback(True)
