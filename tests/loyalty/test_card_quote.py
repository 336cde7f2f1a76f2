"""The quote on the customer card and the caller's screen-pop: an operator types a cart total (and a code) and
reads what applies, each discount and credit with its rule and reason, and the final total; nothing changes."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from loyalty.models import Coupon, LedgerEntry, LoyaltyAccount, Redemption
from loyalty.services import credit_accrue
from shop.roles import Role
from tests.factories import (
    CouponFactory,
    CustomerPhoneFactory,
    CustomerScoreFactory,
    LoyaltyRuleFactory,
    make_user,
    operator_opens_card,
)

pytestmark = pytest.mark.django_db

WIN_BACK = {"value_kind": "percent", "curve": "steps", "steps": [["0.5", "10"], ["0.8", "20"]], "risk_threshold": "0.5"}


def signed_in(role: str | None, language: str = "en") -> Client:
    client = Client()
    client.force_login(make_user(role, language=language))
    return client


def quote_page(client: Client, customer_id: int, **query: str) -> tuple[int, str]:
    response = client.get(reverse("loyalty:customer_quote", args=[customer_id]), query)
    return response.status_code, response.content.decode()


def at_risk_customer_with_a_win_back_rule() -> int:
    LoyaltyRuleFactory.create(name="Win back the slipping", kind="win_back", params=WIN_BACK)
    return CustomerScoreFactory.create(churn_risk=0.85).customer_id


def test_an_operator_quotes_the_win_back_rule_with_its_rule_reason_and_final_total():
    customer_id = at_risk_customer_with_a_win_back_rule()
    status, page = quote_page(signed_in(Role.OPERATOR), customer_id, total="5000")
    assert status == 200
    assert "Win back the slipping" in page
    assert "Win-back offer at churn risk 85%" in page
    assert "−1,000\u00a0₽" in page
    assert 'data-testid="quote-total">4,000\u00a0₽<' in page


def test_the_credit_balance_pays_part_of_the_quoted_total():
    customer_id = CustomerScoreFactory.create().customer_id
    with transaction.atomic():
        credit_accrue(customer_id=customer_id, amount=Decimal("300.00"), purpose="owner")
    _, page = quote_page(signed_in(Role.MANAGER), customer_id, total="1000")
    assert 'data-testid="quote-credit"' in page
    assert 'data-testid="quote-total">700\u00a0₽<' in page


def test_a_coupon_code_is_quoted_and_stays_unused():
    coupon = CouponFactory.create(code="CBACK300")
    _, page = quote_page(signed_in(Role.OPERATOR), coupon.customer_id, total="1000", code="cback300")
    assert "Coupon CBACK300" in page
    assert 'data-testid="quote-total">700\u00a0₽<' in page
    assert Coupon.objects.get(pk=coupon.pk).used_at is None


def test_a_quote_changes_nothing():
    customer_id = at_risk_customer_with_a_win_back_rule()
    with transaction.atomic():
        credit_accrue(customer_id=customer_id, amount=Decimal("300.00"), purpose="owner")
    quote_page(signed_in(Role.OPERATOR), customer_id, total="5000")
    assert not Redemption.objects.exists()
    assert LoyaltyAccount.objects.get(pk=customer_id).balance == Decimal("300.00")
    assert LedgerEntry.objects.count() == 1


def test_an_unknown_code_is_refused_in_words():
    customer_id = CustomerScoreFactory.create().customer_id
    _, page = quote_page(signed_in(Role.OPERATOR), customer_id, total="1000", code="NOSUCHCODE")
    assert 'data-testid="quote-error"' in page
    assert "NOSUCHCODE" in page


def test_a_cart_total_that_is_not_a_sum_of_money_is_refused():
    customer_id = CustomerScoreFactory.create().customer_id
    _, page = quote_page(signed_in(Role.OPERATOR), customer_id, total="-5")
    assert 'data-testid="quote-error"' in page
    assert "Cart total" in page


def test_an_anonymous_visitor_is_sent_to_sign_in():
    customer_id = CustomerScoreFactory.create().customer_id
    response = Client().get(reverse("loyalty:customer_quote", args=[customer_id]), {"total": "100"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_staff_member_without_a_role_may_not_quote():
    customer_id = CustomerScoreFactory.create().customer_id
    status, _ = quote_page(signed_in(None), customer_id, total="100")
    assert status == 403


def test_the_quote_cannot_be_posted():
    customer_id = CustomerScoreFactory.create().customer_id
    response = signed_in(Role.OPERATOR).post(reverse("loyalty:customer_quote", args=[customer_id]), {"total": "1"})
    assert response.status_code == 405


def test_the_quote_reads_in_russian():
    customer_id = at_risk_customer_with_a_win_back_rule()
    _, page = quote_page(signed_in(Role.OPERATOR, language="ru"), customer_id, total="5000")
    assert "К оплате" in page
    assert "правило «Win back the slipping»" in page


def test_the_customer_card_offers_the_quote_form_to_an_operator():
    customer_id = CustomerScoreFactory.create().customer_id
    page = operator_opens_card(customer_id).content.decode()
    assert 'data-testid="quote-form"' in page
    assert reverse("loyalty:customer_quote", args=[customer_id]) in page


def test_the_callers_screen_pop_offers_the_quote_form():
    customer_id = CustomerScoreFactory.create().customer_id
    CustomerPhoneFactory.create(customer_id=customer_id, number="+79991234567")
    page = signed_in(Role.OPERATOR).get(reverse("call:console"), {"phone": "89991234567"}).content.decode()
    assert 'data-testid="caller-card"' in page
    assert reverse("loyalty:customer_quote", args=[customer_id]) in page
