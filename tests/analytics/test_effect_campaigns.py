"""A retention campaign as a programme of the effect report: its recipients are the exposures, the discounts its
coupons actually took off are the cost.

The small data set (gross margin 50 %, today 2026-06-15; campaign "Come back", control share 0.2):
- treated: T1 entered 01-01, bought 1,000 on 01-10 with its campaign coupon taking 100 off (margin 0.5 × 1,100 =
  550, cost 100); T2 entered 01-01 and again on 02-01 (another occasion: counted once, from 01-01), bought 600 on
  01-20, its coupon never used (margin 300, cost 0); T3 entered 01-01, took 30 off a 300 order on 01-12 with a coupon
  of another programme (margin 0.5 × 300 = 150: only the campaign's own discount is added back; no cost).
- control: C1 entered 01-01, bought 500 on 01-05 (margin 250); C2 nothing.
In 30 days: treated 3 customers, 3 buyers, 3 orders, margin 1,000, cost 100, net 900 (net² 450² + 300² + 150²
= 315,000); control 2, 1, 1, margin 250, cost 0, net 250 (net² 62,500).
"""

from decimal import Decimal

import pytest

from analytics.effect.sources import campaign_key, programmes
from analytics.models import ProgrammeEffect
from analytics.selectors.effect import programme_results
from analytics.services import aggregates_refresh
from customers.models import Customer
from loyalty.campaigns.models import Campaign, CampaignRecipient, Group, RecipientStatus
from loyalty.models import Coupon, Redemption, RedemptionOffer
from shop.models import ShopSettings
from tests.analytics.test_effect import _at, _order, _today  # noqa: F401 (_today: the autouse clock)
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _coupon(customer: Customer, code: str) -> Coupon:
    return Coupon.objects.create(
        code=code, customer=customer, value_kind="fixed", value=Decimal("100"), valid_until=_at("12-31")
    )


def _enter(campaign: Campaign, customer: Customer, group: str, day: str, occasion: str = "") -> CampaignRecipient:
    treated = group == Group.TREATED
    return CampaignRecipient.objects.create(
        campaign=campaign, customer=customer, group=group, occasion=occasion, entered_at=_at(day),
        status=RecipientStatus.SENT if treated else RecipientStatus.CONTROL,
        coupon=_coupon(customer, f"C-{customer.pk}-{occasion}") if treated else None,
    )  # fmt: skip


def _checkout(coupon: Coupon, day: str, amount: str) -> None:
    redemption = Redemption.objects.create(
        idempotency_key=f"test-{coupon.code}", customer=coupon.customer, order_source="shop",
        order_external_id=coupon.code, subtotal=Decimal("1100"), discount=Decimal(amount),
        credit_spent=Decimal("0"), total=Decimal("1000"), created_at=_at(day),
    )  # fmt: skip
    RedemptionOffer.objects.create(redemption=redemption, rule=None, kind="coupon", amount=Decimal(amount))
    Coupon.objects.filter(pk=coupon.pk).update(used_at=_at(day), redemption=redemption)


def small_campaign() -> Campaign:
    shop = ShopSettings.load()
    shop.gross_margin_percent = Decimal("50")
    shop.save()
    campaign = Campaign.objects.create(name="Come back", control_share=Decimal("0.2"))
    t1, t2, t3, c1, c2 = CustomerFactory.create_batch(5)
    first = _enter(campaign, t1, Group.TREATED, "01-01")
    _enter(campaign, t2, Group.TREATED, "01-01")
    _enter(campaign, t2, Group.TREATED, "02-01", occasion="risk:0.80")
    _enter(campaign, t3, Group.TREATED, "01-01")
    _enter(campaign, c1, Group.CONTROL, "01-01")
    _enter(campaign, c2, Group.CONTROL, "01-01")
    _order(t1, "01-10", "1000.00")
    assert first.coupon is not None
    _checkout(first.coupon, "01-10", "100.00")
    _order(t2, "01-20", "600.00")
    _order(t3, "01-12", "300.00")
    _checkout(_coupon(t3, "OTHER"), "01-12", "30.00")
    _order(c1, "01-05", "500.00")
    return campaign


def test_a_campaign_is_a_programme_named_after_it():
    campaign = small_campaign()
    Campaign.objects.create(name="No control group", control_share=Decimal("0"))
    found = {programme.key: programme.name for programme in programmes()}
    assert found == {campaign_key(campaign.pk): "Come back"}


def test_the_refresh_sums_the_campaigns_groups_and_its_redeemed_coupons_as_worked_out_by_hand():
    campaign = small_campaign()
    aggregates_refresh()
    rows = {
        (row.window_days, row.group): (
            row.customers, row.buyers, row.orders, row.margin, row.cost, row.net, row.net_squares
        )
        for row in ProgrammeEffect.objects.filter(programme=campaign_key(campaign.pk))
    }  # fmt: skip
    assert rows[(30, "treated")] == (
        3, 3, 3, Decimal("1000.00"), Decimal("100.00"), Decimal("900.00"), Decimal("315000")
    )  # fmt: skip
    assert rows[(30, "control")] == (2, 1, 1, Decimal("250.00"), Decimal("0.00"), Decimal("250.00"), Decimal("62500"))
    (result,) = programme_results(window_days=30)
    assert result.name == "Come back"
    assert result.treated.net_per_customer == Decimal("300.00")
    assert result.control.net_per_customer == Decimal("125.00")
    assert result.incremental == Decimal("175.00")


def test_a_coupon_taken_back_with_its_returned_order_costs_nothing():
    campaign = small_campaign()
    Redemption.objects.filter(idempotency_key__startswith="test-C-").update(state="reversed", reversed_at=_at("01-11"))
    aggregates_refresh()
    row = ProgrammeEffect.objects.get(programme=campaign_key(campaign.pk), window_days=30, group="treated")
    assert row.cost == Decimal("0.00")
