"""The campaign pages, the card's panel and the operator's calls: who may see and change what, and what they show."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from loyalty.campaigns.models import CallState, Campaign, CampaignRecipient, Preset, RecipientStatus, StopReason
from loyalty.campaigns.runner import campaign_run
from loyalty.models import Coupon
from shop.roles import Role
from tests.factories import make_user
from tests.loyalty.campaigns.helpers import WIN_BACK_TEMPLATES, campaign, person, win_back_rule

pytestmark = pytest.mark.django_db
ClientFor = Callable[[str | None], Client]


def _form(rule_id: int, **changes: str) -> dict[str, str]:
    data = {
        "name": "Autumn win-back", "schedule": "daily", "rule": str(rule_id), "offer_days": "14",
        "send_channel": "email_first", "churn_min": "0.6", "churn_max": "", "days_min": "", "days_max": "",
        "order_kind": "any", "budget": "5000", "control_share": "0.2", "link_url": "https://shop.example/",
        "tags_text": "", "thresholds_text": "60 %, 80",
    }  # fmt: skip
    for language in ("ru", "en"):
        for part in ("subject", "email", "sms"):
            data[f"{part}_{language}"] = WIN_BACK_TEMPLATES[language][part]
    data.update(changes)
    return data


@pytest.mark.parametrize(("role", "status"), [(Role.OWNER, 200), (Role.MANAGER, 200), (Role.OPERATOR, 403)])
def test_owners_and_managers_see_the_campaigns(client_for: ClientFor, role: str, status: int) -> None:
    target = campaign(name="Осенний возврат")
    client = client_for(role)
    assert client.get(reverse("loyalty:campaigns")).status_code == status
    assert client.get(reverse("loyalty:campaign", args=[target.pk])).status_code == status


def test_a_manager_cannot_edit_or_switch_a_campaign(client_for: ClientFor) -> None:
    target = campaign(is_active=False)
    client = client_for(Role.MANAGER)
    assert client.get(reverse("loyalty:campaign_edit", args=[target.pk])).status_code == 403
    assert client.post(reverse("loyalty:campaign_switch", args=[target.pk]), {"active": "1"}).status_code == 403
    assert client.post(reverse("loyalty:campaign_preset", args=[Preset.WIN_BACK]), {"active": "1"}).status_code == 403
    target.refresh_from_db()
    assert not target.is_active and not Campaign.objects.filter(preset=Preset.WIN_BACK).exists()


def test_the_owner_creates_a_campaign_with_thresholds_and_messages_per_language(client_for: ClientFor) -> None:
    rule = win_back_rule()
    response = client_for(Role.OWNER).post(reverse("loyalty:campaign_new"), _form(rule.pk))
    saved = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("loyalty:campaign", args=[saved.pk])
    assert saved.risk_thresholds == [0.6, 0.8] and saved.budget == Decimal("5000")
    assert saved.template_for("en")["sms"] == WIN_BACK_TEMPLATES["en"]["sms"]
    assert not saved.is_active


def test_bad_input_is_refused_with_a_clear_error_and_nothing_saved(client_for: ClientFor) -> None:
    rule = win_back_rule()
    response = client_for(Role.OWNER).post(
        reverse("loyalty:campaign_new"), _form(rule.pk, churn_min="0.9", churn_max="0.5", thresholds_text="abc")
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["churn_max"] and errors["thresholds_text"]
    assert not Campaign.objects.exists()


def test_the_editors_preview_counts_the_audience_and_shows_a_real_recipients_message(client_for: ClientFor) -> None:
    person(risk=0.7, name="Мария Иванова")
    person(risk=0.9, language="en", name="John Smith")
    person(risk=0.3)
    rule = win_back_rule()
    # No control group here: the preview shows treated customers only, and the test wants to see both.
    data = {**_form(rule.pk, control_share="0"), "preview": "1"}
    response = client_for(Role.OWNER).post(reverse("loyalty:campaign_new"), data)
    content = response.content.decode()
    assert response.status_code == 200 and not Campaign.objects.exists()
    assert 'data-testid="audience-total">2<' in content
    assert "Мария, скидка 13" in content  # her own offer: 5 % + 15 % × (0.7 − 0.5) / 0.4
    assert "John, 20" in content


def test_switching_a_preset_on_makes_it_with_its_rule_and_shows_its_audience(client_for: ClientFor) -> None:
    person(risk=0.7)
    client = client_for(Role.OWNER)
    response = client.post(reverse("loyalty:campaign_preset", args=[Preset.WIN_BACK]), {"active": "1"})
    preset = Campaign.objects.get(preset=Preset.WIN_BACK)
    assert response.status_code == 302 and preset.is_active and preset.rule is not None
    assert preset.call_tiers == ["vip", "high"] and preset.risk_thresholds == [0.6, 0.8]
    listing = client.get(reverse("loyalty:campaigns")).content.decode()
    assert 'data-testid="audience-total">1<' in listing


def test_the_results_page_shows_treated_against_control(client_for: ClientFor) -> None:
    for _ in range(10):
        person(risk=0.7)
    target = campaign(control_share=Decimal("0.5"))
    campaign_run(campaign_id=target.pk)
    treated = CampaignRecipient.objects.filter(campaign=target, group="treated").count()
    control = CampaignRecipient.objects.filter(campaign=target, group="control").count()
    content = client_for(Role.MANAGER).get(reverse("loyalty:campaign", args=[target.pk])).content.decode()
    assert f'data-testid="treated-customers">{treated}<' in content
    assert f'data-testid="control-customers">{control}<' in content
    assert f'data-testid="treated-queued">{treated}<' in content
    assert content.count('data-testid="recipient"') == 10


def test_the_card_shows_the_campaigns_that_reached_the_customer_and_whether_the_coupon_was_used(
    client_for: ClientFor,
) -> None:
    customer = person(risk=0.7)
    campaign_run(campaign_id=campaign(name="Осенний возврат").pk)
    row = CampaignRecipient.objects.get(customer=customer)
    assert row.coupon_id is not None
    Coupon.objects.filter(pk=row.coupon_id).update(used_at=row.entered_at)
    content = client_for(Role.MANAGER).get(reverse("customer_card", args=[customer.pk])).content.decode()
    assert "Осенний возврат" in content and row.coupon.code in content  # type: ignore[union-attr]
    assert 'data-testid="card-campaign-used"' in content


def test_operators_see_todays_calls_and_mark_one_done(client_for: ClientFor) -> None:
    vip = person(risk=0.7, tier="vip", name="Ирина Важная")
    campaign_run(campaign_id=campaign(call_tiers=["vip"]).pk)
    client = client_for(Role.OPERATOR)
    console = client.get(reverse("call:console")).content.decode()
    assert "Ирина Важная" in console and 'data-testid="campaign-call"' in console
    task = CampaignRecipient.objects.get(customer=vip).call_task
    response = client.post(reverse("loyalty:call_done", args=[task.pk]), {"outcome": "Agreed, ordering tonight"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == CallState.DONE and task.outcome == "Agreed, ordering tonight"
    assert CampaignRecipient.objects.get(customer=vip).status == RecipientStatus.CALLED
    assert 'data-testid="campaign-call"' not in client.get(reverse("call:console")).content.decode()


def test_the_caller_card_names_the_campaign_offer(client_for: ClientFor) -> None:
    customer = person(risk=0.7)
    campaign_run(campaign_id=campaign(name="Осенний возврат").pk)
    number = customer.phones.get().number
    content = client_for(Role.OPERATOR).get(reverse("call:console") + f"?phone={number}").content.decode()
    assert 'data-testid="caller-campaigns"' in content and "Осенний возврат" in content


def test_a_preset_switched_on_in_english_reads_in_russian_for_a_russian_reader(db: None) -> None:
    owner, manager = Client(), Client()
    owner.force_login(make_user(Role.OWNER, language="en"))
    manager.force_login(make_user(Role.MANAGER, language="ru"))
    owner.post(reverse("loyalty:campaign_preset", args=[Preset.WIN_BACK]), {"active": "1"})

    campaigns = manager.get(reverse("loyalty:campaigns")).content.decode()
    rules = manager.get(reverse("loyalty:rules")).content.decode()

    assert "Вернуть, пока не ушли" in campaigns and "Win back before they go" not in campaigns
    assert "Предложение на возврат" in rules and "Win-back offer" not in rules


def test_a_campaign_the_owner_writes_needs_a_name_and_a_preset_may_keep_its_own(client_for: ClientFor) -> None:
    client = client_for(Role.OWNER)
    rule = win_back_rule()
    refused = client.post(reverse("loyalty:campaign_new"), _form(rule.pk, name=""))
    client.post(reverse("loyalty:campaign_preset", args=[Preset.WIN_BACK]), {"active": "1"})
    preset = Campaign.objects.get(preset=Preset.WIN_BACK)
    kept = client.post(reverse("loyalty:campaign_edit", args=[preset.pk]), _form(rule.pk, name=""))

    assert refused.status_code == 200 and not Campaign.objects.filter(preset=Preset.CUSTOM).exists()
    assert kept.status_code == 302
    preset.refresh_from_db()
    assert preset.name == ""


@pytest.mark.parametrize(("language", "words"), [("en", "The budget is spent."), ("ru", "Бюджет израсходован.")])
def test_a_campaigns_stop_reason_reads_in_the_readers_language(client: Client, language: str, words: str) -> None:
    target = campaign(name="Осенний возврат", stopped_reason=StopReason.BUDGET_SPENT)
    client.force_login(make_user(Role.MANAGER, language=language))
    for page in (reverse("loyalty:campaigns"), reverse("loyalty:campaign", args=[target.pk])):
        assert words in client.get(page).content.decode()
