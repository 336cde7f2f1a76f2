"""Order pages: the list with its filters and keyset pages, one order with its history, the manual status change,
and the dashboard panel and navigation that lead there."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.models import ChangeOrigin, Order, OrderStatus, OrderStatusChange
from orders.selectors import OrderFilters, month_figures, order_list
from orders.services import transition_error
from tests.factories import (
    CustomerFactory,
    OrderFactory,
    OrderItemFactory,
    OrderStatusChangeFactory,
    make_manager,
)

MSK = ZoneInfo("Europe/Moscow")
LIST = reverse("orders:list")


def detail(order: Order) -> str:
    return reverse("orders:detail", kwargs={"pk": order.pk})


def response_history(content: str) -> str:
    """The status-history table of an order page."""
    start = content.index('id="status-history"')
    return content[start : content.index("</table>", start)]


def listed_ids(response) -> list[int]:
    return [order.pk for order in response.context["page"].rows]


@pytest.mark.parametrize(("role", "status"), [("Owner", 200), ("Manager", 200), ("Operator", 403), ("norole", 403)])
def test_only_browsing_roles_get_the_order_list(client_for, role, status):
    assert client_for(role).get(LIST).status_code == status


@pytest.mark.parametrize(("role", "status"), [("Owner", 200), ("Manager", 200), ("Operator", 403), ("norole", 403)])
def test_only_browsing_roles_get_an_order_page(client_for, role, status):
    assert client_for(role).get(detail(OrderFactory.create())).status_code == status


@pytest.mark.parametrize("url", [LIST, "order"])
def test_anonymous_visitor_is_sent_to_sign_in_from_order_pages(client_for, url):
    target = detail(OrderFactory.create()) if url == "order" else url
    response = client_for(None).get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_unknown_order_is_404(client_for, db):
    assert client_for("Manager").get(reverse("orders:detail", kwargs={"pk": 999999})).status_code == 404


def test_orders_are_listed_newest_first(client_for):
    now = timezone.now()
    old = OrderFactory.create(placed_at=now - timedelta(days=2))
    new = OrderFactory.create(placed_at=now)
    middle = OrderFactory.create(placed_at=now - timedelta(days=1))
    assert listed_ids(client_for("Manager").get(LIST)) == [new.pk, middle.pk, old.pk]


def test_next_and_previous_links_walk_every_order_once_with_ties_on_time(db):
    moment = timezone.now()
    for index in range(17):
        # Groups of three orders placed at the very same moment: the id breaks the tie.
        OrderFactory.create(placed_at=moment - timedelta(minutes=index // 3))
    expected = list(Order.objects.order_by("-placed_at", "-id").values_list("pk", flat=True))
    pages = [order_list(OrderFilters(), None, limit=4)]
    while pages[-1].next_cursor:
        pages.append(order_list(OrderFilters(), pages[-1].next_cursor, limit=4))
    assert [order.pk for page in pages for order in page.rows] == expected
    back = [pages[-1]]
    while back[-1].previous_cursor:
        back.append(order_list(OrderFilters(), back[-1].previous_cursor, limit=4))
    assert [[o.pk for o in page.rows] for page in back[::-1]] == [[o.pk for o in page.rows] for page in pages]


def test_a_forged_cursor_starts_from_the_newest_orders(client_for):
    newest = OrderFactory.create()
    response = client_for("Manager").get(LIST, {"cursor": "eyJ0IjoiMjAwMCJ9:forged"})
    assert listed_ids(response) == [newest.pk]


def test_status_filter(client_for):
    delivered = OrderFactory.create(status=OrderStatus.DELIVERED)
    OrderFactory.create(status=OrderStatus.NEW)
    assert listed_ids(client_for("Manager").get(LIST, {"status": "delivered"})) == [delivered.pk]


def test_source_filter(client_for):
    ozon = OrderFactory.create(source="ozon")
    OrderFactory.create(source="web")
    assert listed_ids(client_for("Manager").get(LIST, {"source": "ozon"})) == [ozon.pk]


def test_date_filter_takes_whole_days_in_the_shops_time_zone(client_for):
    inside = OrderFactory.create(placed_at=datetime(2026, 3, 1, 0, 30, tzinfo=MSK))
    last = OrderFactory.create(placed_at=datetime(2026, 3, 2, 23, 59, tzinfo=MSK))
    OrderFactory.create(placed_at=datetime(2026, 2, 28, 23, 59, tzinfo=MSK))
    OrderFactory.create(placed_at=datetime(2026, 3, 3, 0, 0, tzinfo=MSK))
    response = client_for("Manager").get(LIST, {"placed_from": "2026-03-01", "placed_to": "2026-03-02"})
    assert listed_ids(response) == [last.pk, inside.pk]


def test_customer_filter(client_for):
    customer = CustomerFactory.create()
    theirs = OrderFactory.create(customer=customer)
    OrderFactory.create()
    assert listed_ids(client_for("Manager").get(LIST, {"customer": customer.pk})) == [theirs.pk]


def _list_queries(client, count: int) -> int:
    client.get(LIST)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
    assert len(response.context["page"].rows) == count
    return len(queries)


def test_order_list_costs_the_same_queries_for_5_and_50_orders(client_for):
    client = client_for("Manager")
    for _index in range(5):
        OrderFactory.create()
    five = _list_queries(client, 5)
    for _index in range(45):
        OrderFactory.create()
    assert _list_queries(client, 50) == five


@pytest.mark.parametrize("count", [5, 50])
def test_an_order_page_reads_orders_with_customers_in_one_query(db, django_assert_num_queries, count):
    for _index in range(count):
        OrderFactory.create()
    with django_assert_num_queries(1):
        page = order_list(OrderFilters(), None, limit=50)
        assert all(order.customer.display_name for order in page.rows)
    assert len(page.rows) == count


def test_order_page_shows_items_totals_and_history(client_for):
    order = OrderFactory.create(total=Decimal("1990.00"), subtotal=Decimal("1990.00"))
    OrderItemFactory.create(order=order, name="Чайник", price=Decimal("995.00"), quantity=Decimal("2"))
    OrderStatusChangeFactory.create(order=order, to_status="new", origin=ChangeOrigin.WEBHOOK)
    content = client_for("Manager").get(detail(order)).content.decode()
    assert "Чайник" in content
    assert "1\u00a0990\u00a0₽" in content
    history = response_history(content)
    assert str(ChangeOrigin.WEBHOOK.label) in history


def test_manager_changes_the_status_by_hand(db, client):
    manager = make_manager()
    client.force_login(manager)
    order = OrderFactory.create(status=OrderStatus.NEW)
    response = client.post(detail(order), {"status": OrderStatus.PAID})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    change = OrderStatusChange.objects.get(order=order)
    assert (change.from_status, change.to_status, change.origin, change.changed_by) == (
        "new",
        "paid",
        ChangeOrigin.MANUAL,
        manager,
    )


def test_manual_delivery_refreshes_the_customers_summary(client_for):
    order = OrderFactory.create(status=OrderStatus.SHIPPED, total=Decimal("700.00"))
    client_for("Manager").post(detail(order), {"status": OrderStatus.DELIVERED})
    order.customer.refresh_from_db()
    assert (order.customer.orders_count, order.customer.total_spent) == (1, Decimal("700.00"))


def test_an_impossible_transition_is_refused_with_its_reason_and_nothing_changes(client_for):
    order = OrderFactory.create(status=OrderStatus.DELIVERED)
    before = Order.objects.filter(pk=order.pk).values().get()
    response = client_for("Manager").post(detail(order), {"status": OrderStatus.PAID})
    assert response.status_code == 400
    assert response.context["form"].errors["status"] == [transition_error(OrderStatus.DELIVERED, OrderStatus.PAID)]
    assert transition_error(OrderStatus.DELIVERED, OrderStatus.PAID) in response.content.decode()
    assert Order.objects.filter(pk=order.pk).values().get() == before
    assert not OrderStatusChange.objects.filter(order=order).exists()


def test_operator_may_not_change_a_status(client_for):
    order = OrderFactory.create(status=OrderStatus.NEW)
    assert client_for("Operator").post(detail(order), {"status": OrderStatus.PAID}).status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW
    assert not OrderStatusChange.objects.exists()


def test_month_figures_count_this_months_orders_and_revenue(db):
    now = timezone.localtime()
    OrderFactory.create(placed_at=now, total=Decimal("100.00"))
    OrderFactory.create(placed_at=now, total=Decimal("50.00"), status=OrderStatus.RETURNED)
    OrderFactory.create(placed_at=now, total=Decimal("70.00"), status=OrderStatus.CANCELLED)
    first_of_month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    OrderFactory.create(placed_at=first_of_month - timedelta(seconds=1), total=Decimal("999.00"))
    figures = month_figures(now)
    assert (figures.orders, figures.revenue) == (2, Decimal("100.00"))


def test_dashboard_shows_the_customers_and_orders_panel_to_managers(client_for):
    OrderFactory.create(total=Decimal("1234.00"))
    content = client_for("Manager").get(reverse("home")).content.decode()
    assert 'data-panel="browse"' in content
    assert "1\u00a0234\u00a0₽" in content


def test_dashboard_hides_the_panel_and_the_menu_from_operators(client_for, db):
    content = client_for("Operator").get(reverse("home")).content.decode()
    assert 'data-panel="browse"' not in content
    assert 'data-nav="customers"' not in content


def test_menu_leads_managers_to_customers_and_orders(client_for, db):
    content = client_for("Manager").get(reverse("home")).content.decode()
    assert f'data-nav="customers" href="{reverse("customers:list")}"' in content
    assert f'data-nav="orders" href="{LIST}"' in content
