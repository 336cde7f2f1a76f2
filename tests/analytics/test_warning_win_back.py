"""The early-warning list's second click: the customer into a chosen active win-back campaign, processed as the
campaign's run would (the control group gets nothing, consent and the message cap are respected); owners and
managers only; a clear message when no win-back campaign is active."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analytics.models import EarlyWarning
from customers.models import Customer
from loyalty.campaigns.models import Campaign, CampaignRecipient, Group, RecipientStatus
from loyalty.engine.evaluate import in_control_group
from messaging.models import Message, MessagingSettings, Purpose
from shop.models import ShopSettings
from shop.roles import Role
from tests.factories import MessageFactory
from tests.loyalty.campaigns.helpers import campaign, person

pytestmark = pytest.mark.django_db
ClientFor = Callable[[str | None], Client]


@pytest.fixture(autouse=True)
def _english() -> None:
    """Staff speak the shop's language: English here, so the messages read as written."""
    shop = ShopSettings.load()
    shop.language = "en"
    shop.save()


def _warned(**fields: object) -> Customer:
    customer = person(risk=0.55, **fields)  # type: ignore[arg-type]
    EarlyWarning.objects.create(
        customer_id=customer.pk, churn_risk=0.55, previous_churn_risk=0.3, rise=0.25,
        value_at_stake=Decimal("1200.00"), last_purchase=timezone.localdate(),
    )  # fmt: skip
    return customer


def _add(client: Client, customer: Customer, chosen: Campaign | None) -> HttpResponse:
    data = {"campaign": chosen.pk} if chosen is not None else {}
    url = reverse("analytics:warning_win_back", args=[customer.pk])
    return client.post(url, data)  # type: ignore[return-value]


def _said(response: HttpResponse) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("role", "status"), [(Role.OWNER, 302), (Role.MANAGER, 302), (Role.OPERATOR, 403)])
def test_owners_and_managers_add_operators_may_not(client_for: ClientFor, role: str, status: int):
    customer, chosen = _warned(), campaign(name="Come back")
    response = _add(client_for(role), customer, chosen)
    assert response.status_code == status
    assert CampaignRecipient.objects.filter(customer=customer).exists() == (status == 302)


def test_a_treated_customer_enters_and_gets_the_offer_at_once(client_for: ClientFor):
    customer, chosen = _warned(), campaign(name="Come back")
    response = _add(client_for(Role.MANAGER), customer, chosen)
    assert response["Location"] == reverse("analytics:warnings")
    recipient = CampaignRecipient.objects.get(campaign=chosen, customer=customer)
    assert (recipient.group, recipient.status) == (Group.TREATED, RecipientStatus.QUEUED)
    assert recipient.coupon is not None and recipient.offer_cost is not None and recipient.offer_cost > 0
    assert Message.objects.filter(customer=customer, purpose=Purpose.MARKETING).count() == 1
    assert _said(response) == ["Added to the campaign “Come back”: Queued."]
    # A second click while the offer is valid adds nothing and says so.
    again = _add(client_for(Role.MANAGER), customer, chosen)
    assert _said(again) == ["This customer is already in this campaign."]
    assert CampaignRecipient.objects.filter(customer=customer).count() == 1


def test_the_control_group_is_drawn_by_the_campaigns_hash_and_gets_nothing(client_for: ClientFor):
    chosen = campaign(control_share=Decimal("0.5"))
    customers = [_warned() for _ in range(8)]
    for customer in customers:
        _add(client_for(Role.OWNER), customer, chosen)
    for customer in customers:
        recipient = CampaignRecipient.objects.get(customer=customer)
        held_out = in_control_group(chosen.control_key, customer.pk, chosen.control_share)  # type: ignore[arg-type]
        assert recipient.group == (Group.CONTROL if held_out else Group.TREATED)
        if held_out:
            assert recipient.status == RecipientStatus.CONTROL and recipient.coupon is None
            assert not Message.objects.filter(customer=customer).exists()


def test_consent_and_the_cap_are_respected(client_for: ClientFor):
    chosen = campaign()
    silent = _warned(email=False, sms=False)
    response = _add(client_for(Role.OWNER), silent, chosen)
    assert _said(response) == ["This customer gave no marketing consent on the campaign’s channels: not added."]
    assert not CampaignRecipient.objects.filter(customer=silent).exists()
    MessagingSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 1, "cap_days": 7})
    capped = _warned()
    MessageFactory.create(customer=capped, purpose=Purpose.SERVICE, kind="survey.invitation")
    _add(client_for(Role.OWNER), capped, chosen)
    recipient = CampaignRecipient.objects.get(customer=capped)
    assert recipient.status == RecipientStatus.CAPPED and recipient.coupon is None


def test_no_active_win_back_campaign_is_said_and_nothing_added(client_for: ClientFor):
    customer = _warned()
    expected = ["No win-back campaign is active: switch one on under Loyalty → Campaigns."]
    assert _said(_add(client_for(Role.OWNER), customer, None)) == expected
    switched_off = campaign(is_active=False)
    assert _said(_add(client_for(Role.OWNER), customer, switched_off)) == expected
    assert not CampaignRecipient.objects.exists()


def test_the_list_offers_the_active_win_back_campaigns(client_for: ClientFor):
    _warned()
    campaign(name="Come back")
    campaign(name="Last chance")
    campaign(name="Off", is_active=False)
    page = client_for(Role.MANAGER).get(reverse("analytics:warnings")).content.decode()
    assert 'data-testid="add-to-win-back"' in page
    assert ">Come back</option>" in page and ">Last chance</option>" in page and ">Off</option>" not in page
