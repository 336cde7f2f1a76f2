"""A small shop whose figures are worked out by hand in the tests' comments.

Gross margin 50 %, time zone Moscow, today 2026-06-15.
- Email, campaign "spring": Anna (orders 1,000 on 2026-01-10 and 600 on 2026-02-10, churn risk 20 %, CLV 900) and
  Boris (400 on 2026-01-20 and a cancelled order in February; churn risk 70 %, CLV 100).
- Social, no campaign: Vera (2,000 on 2026-02-05 and 1,000 on 2026-02-20, never scored).
"""

from datetime import UTC, datetime
from decimal import Decimal

from customers.models import Customer
from orders.models import OrderStatus
from orders.services import customer_summaries_refresh
from shop.models import ShopSettings
from tests.factories import CustomerFactory, CustomerScoreFactory, OrderFactory

TODAY = datetime(2026, 6, 15, 9, tzinfo=UTC)


def _order(customer: Customer, day: str, total: str, status: str = OrderStatus.DELIVERED) -> None:
    OrderFactory.create(
        customer=customer,
        placed_at=datetime.fromisoformat(f"{day}T12:00:00+00:00"),
        status=status,
        total=Decimal(total),
        subtotal=Decimal(total),
    )


def small_shop() -> dict[str, Customer]:
    shop = ShopSettings.load()
    shop.gross_margin_percent = Decimal("50")
    shop.time_zone = "Europe/Moscow"
    shop.save()
    anna = CustomerFactory.create(name="Анна", channel="email", utm_campaign="spring")
    boris = CustomerFactory.create(name="Борис", channel="email", utm_campaign="spring")
    vera = CustomerFactory.create(name="Вера", channel="social", utm_campaign="")
    _order(anna, "2026-01-10", "1000.00")
    _order(anna, "2026-02-10", "600.00")
    _order(boris, "2026-01-20", "400.00")
    _order(boris, "2026-02-25", "900.00", status=OrderStatus.CANCELLED)
    _order(vera, "2026-02-05", "2000.00")
    _order(vera, "2026-02-20", "1000.00")
    customer_summaries_refresh()
    CustomerScoreFactory.create(customer=anna, churn_risk=0.2, predicted_clv=Decimal("900.00"))
    CustomerScoreFactory.create(customer=boris, churn_risk=0.7, predicted_clv=Decimal("100.00"))
    return {"anna": anna, "boris": boris, "vera": vera}
