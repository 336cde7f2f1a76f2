"""Quote and redeem, through the services and the API: what applies, what a code gets when it cannot be used, and
that a redemption happens once."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from loyalty.engine.evaluate import Cart
from loyalty.errors import LoyaltyError
from loyalty.models import Coupon, LedgerEntry, LoyaltyAccount, LoyaltyRule, PromoCode, Redemption
from loyalty.services import credit_accrue, loyalty_quote, loyalty_redeem, promo_batch_generate, referral_code_for
from tests.factories import (
    CouponFactory,
    CustomerFactory,
    CustomerPhoneFactory,
    CustomerScoreFactory,
    LoyaltyRuleFactory,
    OrderFactory,
    make_owner,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_client_for(api_client_for: Callable[..., APIClient]) -> Callable[..., APIClient]:
    """The suite's token client, reading messages in English (they follow Accept-Language; the shop speaks Russian)."""

    def build(*scopes: str) -> APIClient:
        client = api_client_for(*scopes)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return build


QUOTE = "/api/v1/loyalty/quote"
REDEEM = "/api/v1/loyalty/redeem"


def give_credit(customer_id: int, amount: str) -> None:
    with transaction.atomic():
        credit_accrue(customer_id=customer_id, amount=Decimal(amount), purpose="owner")


def tiers() -> LoyaltyRule:
    return LoyaltyRuleFactory.create(
        name="Tiers", kind="cumulative", params={"basis": "orders", "tiers": [[2, "3"], [5, "5"], [10, "10"]]}
    )


def delivered_orders(customer: object, count: int) -> None:
    for _ in range(count):
        OrderFactory.create(customer=customer, status="delivered", delivered_at=timezone.now())


def redeem_body(customer_id: int, external_id: str = "A-1", **extra: object) -> dict[str, object]:
    return {
        "customer": {"id": customer_id},
        "cart": {"total": "2000.00"},
        "order": {"external_id": external_id},
        **extra,
    }


def test_a_quote_lists_the_tier_discount_with_its_rule_and_reason_and_changes_nothing(
    api_client_for: Callable[..., APIClient],
) -> None:
    rule = tiers()
    customer = CustomerFactory.create()
    delivered_orders(customer, 5)
    give_credit(customer.pk, "100.00")
    response = api_client_for("quote").post(
        QUOTE, {"customer": {"id": customer.pk}, "cart": {"total": "2000.00"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["offers"] == [
        {"rule_id": rule.pk, "rule_name": "Tiers", "kind": "cumulative", "code": "", "amount": "100.00",
         "percent": "5.00", "perk": "", "reason": "5% off: 5 or more delivered orders"}
    ]  # fmt: skip
    assert body["discount_total"] == "100.00"
    assert body["credit_available"] == "100.00"
    assert body["total"] == "1800.00"
    assert Redemption.objects.count() == 0
    assert LedgerEntry.objects.filter(kind="spend").count() == 0


def test_a_quote_finds_the_customer_by_any_phone_format(api_client_for: Callable[..., APIClient]) -> None:
    phone = CustomerPhoneFactory.create(number="+79991234567")
    response = api_client_for("quote").post(
        QUOTE, {"customer": {"phone": "8 (999) 123-45-67"}, "cart": {"total": "10.00"}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["customer_id"] == phone.customer_id


def test_items_that_do_not_add_up_to_the_total_are_refused(api_client_for: Callable[..., APIClient]) -> None:
    customer = CustomerFactory.create()
    body = {"customer": {"id": customer.pk}, "cart": {"total": "100.00", "items": [{"sku": "A", "price": "40.00"}]}}
    response = api_client_for("quote").post(QUOTE, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["cart"]["total"] == [
        "The items add up to 40.00, not 100.00: send a total equal to their sum."
    ]


def test_the_same_idempotency_key_redeems_once(api_client_for: Callable[..., APIClient]) -> None:
    customer = CustomerFactory.create()
    give_credit(customer.pk, "500.00")
    client = api_client_for("redeem")
    body = redeem_body(customer.pk, credit="200.00")
    first = client.post(REDEEM, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post(REDEEM, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201, first.json()
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Redemption.objects.count() == 1
    assert LoyaltyAccount.objects.get(pk=customer.pk).balance == Decimal("300.00")


def test_the_same_key_at_the_service_returns_the_first_redemption() -> None:
    customer = CustomerFactory.create()
    give_credit(customer.pk, "500.00")
    kwargs = {"customer": customer, "cart": Cart(total=Decimal("900.00")), "order_source": "web",
              "order_external_id": "A-1", "idempotency_key": "k", "credit": Decimal("100.00")}  # fmt: skip
    first = loyalty_redeem(**kwargs)  # type: ignore[arg-type]
    assert loyalty_redeem(**kwargs) == first  # type: ignore[arg-type]
    assert LoyaltyAccount.objects.get(pk=customer.pk).balance == Decimal("400.00")


def test_redeem_without_an_idempotency_key_is_refused(api_client_for: Callable[..., APIClient]) -> None:
    customer = CustomerFactory.create()
    response = api_client_for("redeem").post(REDEEM, redeem_body(customer.pk), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"


def test_a_quote_token_cannot_redeem(api_client_for: Callable[..., APIClient]) -> None:
    customer = CustomerFactory.create()
    response = api_client_for("quote").post(REDEEM, redeem_body(customer.pk), format="json", HTTP_IDEMPOTENCY_KEY="x")
    assert response.status_code == 403


def test_an_operator_may_quote_but_not_redeem(client_for: Callable[[str | None], object]) -> None:
    customer = CustomerFactory.create()
    client = client_for("Operator")
    quote = client.post(  # type: ignore[attr-defined]
        QUOTE, {"customer": {"id": customer.pk}, "cart": {"total": "10.00"}}, content_type="application/json"
    )
    redeem = client.post(  # type: ignore[attr-defined]
        REDEEM, redeem_body(customer.pk), content_type="application/json", HTTP_IDEMPOTENCY_KEY="x"
    )
    assert (quote.status_code, redeem.status_code) == (200, 403)


def test_more_credit_than_the_balance_is_refused_naming_the_balance(api_client_for: Callable[..., APIClient]) -> None:
    customer = CustomerFactory.create()
    give_credit(customer.pk, "50.00")
    response = api_client_for("redeem").post(
        REDEEM, redeem_body(customer.pk, credit="60.00"), format="json", HTTP_IDEMPOTENCY_KEY="x"
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "balance_spent"
    assert "50 ₽" in error["message"].replace("\u00a0", " ")
    assert LoyaltyAccount.objects.get(pk=customer.pk).balance == Decimal("50.00")
    assert Redemption.objects.count() == 0


def test_an_unknown_code_gets_a_clear_error(api_client_for: Callable[..., APIClient]) -> None:
    customer = CustomerFactory.create()
    body = {"customer": {"id": customer.pk}, "cart": {"total": "10.00"}, "code": "nope42"}
    response = api_client_for("quote").post(QUOTE, body, format="json")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "unknown_code",
        "message": "No coupon, promo or referral code “NOPE42” exists.",
        "fields": {"code": ["No coupon, promo or referral code “NOPE42” exists."]},
    }


def test_an_expired_coupon_gets_a_clear_error(api_client_for: Callable[..., APIClient]) -> None:
    coupon = CouponFactory.create(code="CEXPIRED01", valid_until=timezone.now() - timedelta(days=1))
    body = {"customer": {"id": coupon.customer_id}, "cart": {"total": "1000.00"}, "code": "cexpired01"}
    response = api_client_for("quote").post(QUOTE, body, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "expired_code"
    assert response.json()["error"]["message"].startswith("Code CEXPIRED01 expired on ")


def test_a_used_coupon_gets_a_clear_error_and_changes_nothing(api_client_for: Callable[..., APIClient]) -> None:
    coupon = CouponFactory.create(code="CUSED00001")
    client = api_client_for("redeem")
    first = client.post(
        REDEEM, redeem_body(coupon.customer_id, "A-1", code=coupon.code), format="json", HTTP_IDEMPOTENCY_KEY="1"
    )
    second = client.post(
        REDEEM, redeem_body(coupon.customer_id, "A-2", code=coupon.code), format="json", HTTP_IDEMPOTENCY_KEY="2"
    )
    assert first.status_code == 201
    assert first.json()["discount_total"] == "300.00"
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "used_code"
    assert second.json()["error"]["message"].startswith("Coupon CUSED00001 was already used on ")
    assert Redemption.objects.count() == 1


def test_another_customers_coupon_is_unknown_to_this_one() -> None:
    coupon = CouponFactory.create()
    with pytest.raises(LoyaltyError) as error:
        loyalty_quote(customer=CustomerFactory.create(), cart=Cart(total=Decimal("100")), code=coupon.code)
    assert error.value.code == "unknown_code"


def referral_rule() -> LoyaltyRule:
    return LoyaltyRuleFactory.create(
        kind="referral", params={"referrer_amount": "300", "referee_amount": "200", "referee_percent": "10"}
    )


def test_a_self_referral_by_a_shared_phone_gets_a_clear_error(api_client_for: Callable[..., APIClient]) -> None:
    referral_rule()
    referrer = CustomerFactory.create()
    CustomerPhoneFactory.create(customer=referrer, number="+79990000001")
    newcomer = CustomerFactory.create()
    CustomerPhoneFactory.create(customer=newcomer, number="+79990000002")
    # The same person, with a second number on the old record.
    CustomerPhoneFactory.create(customer=referrer, number="+79990000003")
    code = referral_code_for(referrer.pk).code
    own = api_client_for("quote").post(
        QUOTE, {"customer": {"id": referrer.pk}, "cart": {"total": "100.00"}, "code": code}, format="json"
    )
    assert own.status_code == 422
    assert own.json()["error"]["code"] == "self_referral"
    assert code in own.json()["error"]["message"]


def test_a_self_referral_by_the_same_address_is_refused() -> None:
    referral_rule()
    referrer = CustomerFactory.create(address="ул. Ленина, 1, кв. 5")
    newcomer = CustomerFactory.create(address="  ул. Ленина,  1, кв. 5 ")
    with pytest.raises(LoyaltyError) as error:
        loyalty_quote(customer=newcomer, cart=Cart(total=Decimal("100")), code=referral_code_for(referrer.pk).code)
    assert error.value.code == "self_referral"


def test_a_referral_code_gives_the_newcomer_the_first_order_discount_once() -> None:
    referral_rule()
    referrer, newcomer = CustomerFactory.create(), CustomerFactory.create()
    code = referral_code_for(referrer.pk).code
    redemption = loyalty_redeem(
        customer=newcomer, cart=Cart(total=Decimal("1000.00")), order_source="web", order_external_id="N-1",
        idempotency_key="n1", code=code,
    )  # fmt: skip
    assert redemption.discount == Decimal("100.00")
    with pytest.raises(LoyaltyError) as error:
        loyalty_quote(customer=newcomer, cart=Cart(total=Decimal("1000.00")), code=code)
    assert error.value.code == "referral_reused"


def test_a_promo_code_is_limited_per_customer() -> None:
    rule = LoyaltyRuleFactory.create(kind="promo_batch", params={"value_kind": "percent", "value": "15"})
    batch = promo_batch_generate(user=make_owner(), rule=rule, name="Spring", count=3, uses_per_code=10)
    codes = list(PromoCode.objects.filter(batch=batch).values_list("code", flat=True))
    customer = CustomerFactory.create()
    first = loyalty_redeem(
        customer=customer, cart=Cart(total=Decimal("1000.00")), order_source="web", order_external_id="P-1",
        idempotency_key="p1", code=codes[0],
    )  # fmt: skip
    assert first.discount == Decimal("150.00")
    with pytest.raises(LoyaltyError) as error:
        loyalty_quote(customer=customer, cart=Cart(total=Decimal("1000.00")), code=codes[1])
    assert error.value.code == "code_limit_reached"


def test_promo_codes_are_unguessable_and_unique() -> None:
    rule = LoyaltyRuleFactory.create(kind="promo_batch", params={"value_kind": "fixed", "value": "100"})
    batch = promo_batch_generate(user=make_owner(), rule=rule, name="Autumn", count=2000, prefix="aut")
    codes = list(PromoCode.objects.filter(batch=batch).values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 2000
    assert all(c.startswith("AUT") and len(c) == 13 for c in codes)


def test_an_order_is_redeemed_once_whatever_the_key() -> None:
    customer = CustomerFactory.create()
    give_credit(customer.pk, "100.00")
    loyalty_redeem(
        customer=customer,
        cart=Cart(total=Decimal("100")),
        order_source="web",
        order_external_id="A-1",
        idempotency_key="a",
        credit=Decimal("10"),
    )
    with pytest.raises(LoyaltyError) as error:
        loyalty_redeem(
            customer=customer,
            cart=Cart(total=Decimal("100")),
            order_source="web",
            order_external_id="A-1",
            idempotency_key="b",
            credit=Decimal("10"),
        )
    assert error.value.code == "order_already_redeemed"
    assert LoyaltyAccount.objects.get(pk=customer.pk).balance == Decimal("90.00")


def test_a_win_back_offer_reads_the_scores_churn_risk() -> None:
    LoyaltyRuleFactory.create(
        kind="win_back",
        params={
            "value_kind": "percent",
            "curve": "steps",
            "steps": [["0.6", "10"], ["0.8", "20"]],
            "risk_threshold": "0.6",
        },
    )
    score = CustomerScoreFactory.create(churn_risk=0.85)
    quote = loyalty_quote(customer=score.customer, cart=Cart(total=Decimal("1000.00"))).quote
    assert quote.discount == Decimal("200.00")


def test_a_budget_used_up_stops_the_offer() -> None:
    rule = tiers()
    LoyaltyRule.objects.filter(pk=rule.pk).update(budget_cap=Decimal("50.00"))
    customer = CustomerFactory.create()
    delivered_orders(customer, 10)
    first = loyalty_redeem(
        customer=customer,
        cart=Cart(total=Decimal("1000.00")),
        order_source="web",
        order_external_id="B-1",
        idempotency_key="b1",
    )
    second = loyalty_redeem(
        customer=customer,
        cart=Cart(total=Decimal("1000.00")),
        order_source="web",
        order_external_id="B-2",
        idempotency_key="b2",
    )
    assert (first.discount, second.discount) == (Decimal("50.00"), Decimal("0.00"))
    assert LoyaltyRule.objects.get(pk=rule.pk).budget_spent == Decimal("50.00")


def test_a_coupon_left_unused_stays_usable() -> None:
    coupon = CouponFactory.create()
    loyalty_quote(customer=coupon.customer, cart=Cart(total=Decimal("1000")), code=coupon.code)
    assert Coupon.objects.get(pk=coupon.pk).used_at is None


def test_reasons_read_in_russian() -> None:
    from django.utils import translation

    from loyalty.engine.evaluate import Reason
    from loyalty.reasons import reason_text

    with translation.override("ru"):
        text = reason_text(
            Reason("tier_reached", {"basis": "orders", "from": Decimal("5"), "percent": Decimal("5.00")})
        )
        control = reason_text(Reason("control_group"))
    assert text == "Скидка 5%: от 5 доставленных заказов"
    assert control.startswith("В контрольной группе правила")


def test_a_coupon_that_loses_to_a_better_offer_is_not_spent() -> None:
    rule = tiers()
    customer = CustomerFactory.create()
    delivered_orders(customer, 10)
    coupon = CouponFactory.create(customer=customer, value=Decimal("50.00"))
    redemption = loyalty_redeem(
        customer=customer,
        cart=Cart(total=Decimal("2000")),
        code=coupon.code,
        credit=Decimal("0"),
        order_source="web",
        order_external_id="A-1",
        idempotency_key="k-1",
    )
    assert redemption.discount == Decimal("200.00")
    assert [offer["rule_id"] for offer in redemption.offers] == [rule.pk]
    assert Coupon.objects.get(pk=coupon.pk).used_at is None
