"""A property over random customers, consents and campaign channels: a customer without marketing consent on a
channel is never messaged on it by a campaign, whether the consent was missing when the campaign selected them or
withdrawn between queuing and sending."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import Customer
from loyalty.campaigns.models import SendChannel
from loyalty.campaigns.runner import campaign_run
from messaging.models import Channel, Message, MessageState
from messaging.services import messages_send_batch
from tests.loyalty.campaigns.helpers import campaign, person

people = st.lists(
    st.fixed_dictionaries(
        {"email": st.booleans(), "sms": st.booleans(), "withdraw_email": st.booleans(), "withdraw_sms": st.booleans()}
    ),
    min_size=1,
    max_size=6,
)


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(customers=people, send_channel=st.sampled_from(SendChannel.values))
def test_no_campaign_message_leaves_on_a_channel_without_marketing_consent(
    customers: list[dict[str, bool]], send_channel: str
) -> None:
    mail.outbox = []
    Message.objects.all().delete()
    rows = [(person(risk=0.7, email=spec["email"], sms=spec["sms"]), spec) for spec in customers]
    campaign_run(campaign_id=campaign(send_channel=send_channel).pk)
    for customer, spec in rows:
        Customer.objects.filter(pk=customer.pk).update(
            email_consent=spec["email"] and not spec["withdraw_email"],
            sms_consent=spec["sms"] and not spec["withdraw_sms"],
        )
    Message.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    messages_send_batch()
    consent = {c.pk: (c.email_consent, c.sms_consent) for c in Customer.objects.all()}
    for message in Message.objects.filter(state=MessageState.SENT):
        email, sms = consent[message.customer_id]
        assert email if message.channel == Channel.EMAIL else sms
        if send_channel in (SendChannel.EMAIL, SendChannel.SMS):
            assert message.channel == send_channel
    assert len(mail.outbox) == Message.objects.filter(state=MessageState.SENT, channel=Channel.EMAIL).count()
