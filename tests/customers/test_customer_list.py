"""The customer list: who may see it, search, filters, sorting, keyset pagination and its fixed query count."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from customers import selectors
from customers.models import Channel, Customer
from customers.selectors import CustomerFilters, customer_list, listing
from shop.templatetags.retain_format import approximate
from tests.factories import CustomerFactory, CustomerPhoneFactory, OrderFactory, TagFactory, make_manager

MSK = ZoneInfo("Europe/Moscow")
LIST = reverse("customers:list")


def moscow(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=MSK)


def listed_ids(response) -> list[int]:
    return [customer.pk for customer in response.context["page"].rows]


@pytest.mark.parametrize(("role", "status"), [("Owner", 200), ("Manager", 200), ("Operator", 403), ("norole", 403)])
def test_only_browsing_roles_get_the_customer_list(client_for, role, status):
    assert client_for(role).get(LIST).status_code == status


def test_anonymous_visitor_is_sent_to_sign_in_from_the_list(client_for):
    response = client_for(None).get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("typed", ["8 (999) 123-45-67", "+7 999 1234567", "79991234567", "+7 (999) 123 45 67"])
def test_search_finds_a_customer_by_phone_written_any_way(client_for, typed):
    wanted = CustomerPhoneFactory.create(number="+79991234567").customer
    CustomerPhoneFactory.create(number="+79991234568")
    response = client_for("Manager").get(LIST, {"q": typed})
    assert listed_ids(response) == [wanted.pk]


def test_search_by_email_ignores_case(client_for):
    wanted = CustomerFactory.create()
    wanted.emails.create(address="anna@example.com")
    CustomerFactory.create().emails.create(address="boris@example.com")
    response = client_for("Manager").get(LIST, {"q": "  Anna@Example.COM "})
    assert listed_ids(response) == [wanted.pk]


def test_search_by_part_of_a_name_ignores_case(client_for):
    wanted = CustomerFactory.create(name="Анна Петрова")
    CustomerFactory.create(name="Борис Сидоров")
    response = client_for("Manager").get(LIST, {"q": "петров"})
    assert listed_ids(response) == [wanted.pk]


def test_search_by_the_last_four_digits_of_a_phone_finds_its_owner(client_for):
    wanted = CustomerPhoneFactory.create(number="+79991234567").customer
    CustomerPhoneFactory.create(number="+79994567123")
    response = client_for("Manager").get(LIST, {"q": "45-67"})
    assert response.context["form"].errors == {}
    assert listed_ids(response) == [wanted.pk]


def test_search_by_fewer_than_four_digits_does_not_match_phones(client_for):
    CustomerPhoneFactory.create(number="+79991234567")
    assert listed_ids(client_for("Manager").get(LIST, {"q": "567"})) == []


@pytest.mark.parametrize("typed", ["1001", "#1001"])
def test_search_by_order_number_finds_the_orders_customer(client_for, typed):
    wanted = OrderFactory.create(external_id="1001").customer
    OrderFactory.create(external_id="10011")
    assert listed_ids(client_for("Manager").get(LIST, {"q": typed})) == [wanted.pk]


def test_search_by_an_order_number_written_with_a_hash_in_the_shop(client_for):
    wanted = OrderFactory.create(external_id="#2002").customer
    assert listed_ids(client_for("Manager").get(LIST, {"q": "2002"})) == [wanted.pk]


def test_search_by_a_lettered_order_number_finds_the_orders_customer(client_for):
    wanted = OrderFactory.create(external_id="A-77").customer
    CustomerFactory.create(name="Анна Петрова")
    assert listed_ids(client_for("Manager").get(LIST, {"q": "A-77"})) == [wanted.pk]


def test_search_by_surname_first_finds_a_name_written_given_name_first(client_for):
    wanted = CustomerFactory.create(name="Мария Иванова")
    CustomerFactory.create(name="Мария Петрова")
    assert listed_ids(client_for("Manager").get(LIST, {"q": "Иванова Мария"})) == [wanted.pk]


def test_search_by_a_name_in_lower_case_russian_finds_it_written_with_capitals(client_for):
    wanted = CustomerFactory.create(name="Ольга ЗАХАРОВА")
    assert listed_ids(client_for("Manager").get(LIST, {"q": "захарова ольга"})) == [wanted.pk]


@pytest.mark.django_db
def test_search_by_phone_digits_reads_the_suffix_index():
    CustomerPhoneFactory.create_batch(3)
    queryset = customer_list_queryset_for("4567")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = queryset.explain()
        cursor.execute("RESET enable_seqscan")
    assert "customer_phone_suffix" in plan
    assert "order_number" in plan


def customer_list_queryset_for(text: str):
    return selectors.customer_queryset(CustomerFilters(search_kind=selectors.SearchKind.NUMBER, search=text))


def test_merged_customers_are_not_listed(client_for):
    survivor = CustomerFactory.create()
    CustomerFactory.create(merged_into=survivor)
    assert listed_ids(client_for("Manager").get(LIST)) == [survivor.pk]


def test_tag_filter_keeps_only_tagged_customers(client_for):
    vip = TagFactory.create(name="VIP")
    tagged = CustomerFactory.create()
    tagged.tags.add(vip, TagFactory.create(name="opt"))
    CustomerFactory.create().tags.add(TagFactory.create(name="other"))
    assert listed_ids(client_for("Manager").get(LIST, {"tag": vip.pk})) == [tagged.pk]


def test_channel_filter_keeps_only_that_channel(client_for):
    social = CustomerFactory.create(channel=Channel.SOCIAL)
    CustomerFactory.create(channel=Channel.MARKETPLACE)
    assert listed_ids(client_for("Manager").get(LIST, {"channel": Channel.SOCIAL})) == [social.pk]


def test_last_order_range_includes_both_days_in_the_shops_time_zone(client_for):
    # 1 March 00:30 in Moscow is still 28 February in UTC: the range must be the manager's days, not UTC's.
    first_day = CustomerFactory.create(last_order_at=moscow(2026, 3, 1, 0) + timedelta(minutes=30))
    last_day = CustomerFactory.create(last_order_at=moscow(2026, 3, 31, 23))
    CustomerFactory.create(last_order_at=moscow(2026, 2, 28, 23))
    CustomerFactory.create(last_order_at=moscow(2026, 4, 1, 0))
    CustomerFactory.create(last_order_at=None)
    response = client_for("Manager").get(LIST, {"last_order_from": "2026-03-01", "last_order_to": "2026-03-31"})
    assert set(listed_ids(response)) == {first_day.pk, last_day.pk}


def test_first_order_range_filters_on_the_first_order(client_for):
    early = CustomerFactory.create(first_order_at=moscow(2025, 1, 10), last_order_at=moscow(2026, 3, 1))
    CustomerFactory.create(first_order_at=moscow(2026, 2, 10), last_order_at=moscow(2026, 3, 1))
    response = client_for("Manager").get(LIST, {"first_order_to": "2025-12-31"})
    assert listed_ids(response) == [early.pk]


def test_order_count_range_is_inclusive(client_for):
    two = CustomerFactory.create(orders_count=2)
    four = CustomerFactory.create(orders_count=4)
    CustomerFactory.create(orders_count=1)
    CustomerFactory.create(orders_count=5)
    response = client_for("Manager").get(LIST, {"orders_min": 2, "orders_max": 4})
    assert set(listed_ids(response)) == {two.pk, four.pk}


def test_total_spent_range_is_inclusive(client_for):
    exact = CustomerFactory.create(total_spent=Decimal("1000.00"))
    CustomerFactory.create(total_spent=Decimal("999.99"))
    CustomerFactory.create(total_spent=Decimal("5000.01"))
    response = client_for("Manager").get(LIST, {"spent_min": "1000", "spent_max": "5000"})
    assert listed_ids(response) == [exact.pk]


def _sort_key_data() -> list[Customer]:
    return [
        CustomerFactory.create(
            name="Вера", orders_count=3, total_spent=Decimal("300"), last_order_at=moscow(2026, 3, 3)
        ),
        CustomerFactory.create(name="Анна", orders_count=1, total_spent=Decimal("900"), last_order_at=None),
        CustomerFactory.create(
            name="Борис", orders_count=7, total_spent=Decimal("100"), last_order_at=moscow(2026, 1, 1)
        ),
    ]


@pytest.mark.parametrize(
    ("sort", "expected_names"),
    [
        ("-last_order", ["Вера", "Борис", "Анна"]),
        ("last_order", ["Борис", "Вера", "Анна"]),
        ("-total_spent", ["Анна", "Вера", "Борис"]),
        ("total_spent", ["Борис", "Вера", "Анна"]),
        ("-orders", ["Борис", "Вера", "Анна"]),
        ("orders", ["Анна", "Вера", "Борис"]),
        ("name", ["Анна", "Борис", "Вера"]),
        ("-name", ["Вера", "Борис", "Анна"]),
        ("created", ["Вера", "Анна", "Борис"]),
        ("-created", ["Борис", "Анна", "Вера"]),
    ],
)
def test_sorting_orders_rows_with_customers_without_orders_last(client_for, sort, expected_names):
    _sort_key_data()
    response = client_for("Manager").get(LIST, {"sort": sort})
    assert [customer.name for customer in response.context["page"].rows] == expected_names


def test_unknown_sort_falls_back_to_newest_last_order(client_for):
    _sort_key_data()
    response = client_for("Manager").get(LIST, {"sort": "id; DROP TABLE customers_customer"})
    assert [customer.name for customer in response.context["page"].rows] == ["Вера", "Борис", "Анна"]


def _tied_base() -> None:
    """23 customers: ties on every sort value and a tail of customers without orders (NULL last order)."""
    for index in range(23):
        CustomerFactory.create(
            name=f"Клиент {index % 4}",
            orders_count=index % 3,
            total_spent=Decimal(index % 5) * 100,
            last_order_at=None if index % 4 == 0 else moscow(2026, 3, 1 + index % 3),
        )


def _expected(sort: str) -> list[int]:
    key, descending = selectors.parse_sort(sort)
    column = selectors.SORT_COLUMNS[key]
    rows = list(Customer.objects.values_list(column, "id"))
    present = sorted([r for r in rows if r[0] is not None], reverse=descending)
    missing = sorted([r for r in rows if r[0] is None], key=lambda r: r[1], reverse=descending)
    return [pk for _value, pk in present + missing]


@pytest.mark.parametrize("sort", sorted(selectors.VALID_SORTS))
def test_next_links_walk_every_customer_once_in_order(db, sort):
    _tied_base()
    seen: list[int] = []
    cursor = None
    for _page in range(10):
        page = customer_list(CustomerFilters(), sort, cursor, limit=5)
        seen += [customer.pk for customer in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == _expected(sort)


@pytest.mark.parametrize("sort", ["-last_order", "last_order", "total_spent", "-name"])
def test_previous_links_walk_back_through_the_same_pages(db, sort):
    _tied_base()
    forward: list[list[int]] = []
    cursor = None
    page = customer_list(CustomerFilters(), sort, None, limit=5)
    forward.append([c.pk for c in page.rows])
    while page.next_cursor:
        page = customer_list(CustomerFilters(), sort, page.next_cursor, limit=5)
        forward.append([c.pk for c in page.rows])
    backward = [[c.pk for c in page.rows]]
    cursor = page.previous_cursor
    while cursor:
        page = customer_list(CustomerFilters(), sort, cursor, limit=5)
        backward.append([c.pk for c in page.rows])
        cursor = page.previous_cursor
    assert backward[::-1] == forward


def test_first_page_has_no_previous_link_and_last_page_no_next(db):
    _tied_base()
    first = customer_list(CustomerFilters(), "-last_order", None, limit=20)
    last = customer_list(CustomerFilters(), "-last_order", first.next_cursor, limit=20)
    assert (first.previous_cursor, len(last.rows), last.next_cursor) == (None, 3, None)
    assert last.previous_cursor is not None


def test_a_tampered_cursor_starts_from_the_first_page(db):
    _tied_base()
    first = customer_list(CustomerFilters(), "-total_spent", None, limit=5)
    assert first.next_cursor is not None
    forged = first.next_cursor[:-3] + "abc"
    assert [c.pk for c in customer_list(CustomerFilters(), "-total_spent", forged, limit=5).rows] == [
        c.pk for c in first.rows
    ]


def test_a_cursor_of_another_sort_starts_from_the_first_page(db):
    _tied_base()
    by_spent = customer_list(CustomerFilters(), "-total_spent", None, limit=5)
    by_name = customer_list(CustomerFilters(), "name", None, limit=5)
    assert [c.pk for c in customer_list(CustomerFilters(), "name", by_spent.next_cursor, limit=5).rows] == [
        c.pk for c in by_name.rows
    ]


def test_next_link_keeps_the_filters_and_sort(client_for):
    for _index in range(30):
        CustomerFactory.create(channel=Channel.SOCIAL)
    response = client_for("Manager").get(LIST, {"channel": Channel.SOCIAL, "sort": "name", "size": 25})
    next_url = response.context["next_url"]
    assert "channel=social" in next_url and "sort=name" in next_url and "cursor=" in next_url
    second = client_for("Manager").get(LIST + next_url)
    assert len(second.context["page"].rows) == 5


def _base_with_contacts(count: int) -> None:
    tags = [TagFactory.create(name="VIP"), TagFactory.create(name="опт")]
    for _index in range(count):
        customer = CustomerFactory.create(last_order_at=moscow(2026, 3, 1), orders_count=2)
        CustomerPhoneFactory.create(customer=customer)
        customer.emails.create(address=f"c{customer.pk}@example.com")
        customer.tags.add(*tags)


def _page_queries(client, count: int) -> int:
    client.get(LIST)  # the first request of a session also loads the cached shop settings
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, {"size": 50})
    assert len(response.context["page"].rows) == count
    return len(queries)


def test_list_page_costs_the_same_queries_for_5_and_50_customers(client_for):
    client = client_for("Manager")
    _base_with_contacts(5)
    five = _page_queries(client, 5)
    _base_with_contacts(45)
    assert _page_queries(client, 50) == five


@pytest.mark.parametrize("count", [5, 50])
def test_a_filtered_page_reads_customers_and_tags_in_two_queries(db, django_assert_num_queries, count):
    _base_with_contacts(count)
    with django_assert_num_queries(2):
        page = customer_list(CustomerFilters(orders_min=1), "-last_order", None, limit=50)
        for customer in page.rows:
            assert getattr(customer, "primary_phone", None) and getattr(customer, "primary_email", None)
            assert len(customer.tags.all()) == 2


@pytest.mark.parametrize("count", [5, 50])
def test_an_unfiltered_page_adds_only_the_total(db, django_assert_num_queries, count):
    _base_with_contacts(count)
    # Customers and tags, then pg_class's estimate and, on a base this small, the exact count.
    with django_assert_num_queries(4):
        page = customer_list(CustomerFilters(), "-last_order", None, limit=50)
        for customer in page.rows:
            list(customer.tags.all())
    assert (page.total, page.total_is_estimate) == (count, False)


def test_a_large_base_shows_the_estimate_rounded(db, client, monkeypatch):
    monkeypatch.setattr(listing, "customer_count_estimate", lambda: (1_034_567, True))
    client.force_login(make_manager(language="en"))
    response = client.get(LIST)
    assert "≈ 1.0 M" in response.content.decode()


def test_the_estimate_comes_from_pg_class_once_the_table_is_analysed(db, monkeypatch):
    for _index in range(3):
        CustomerFactory.create()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    monkeypatch.setattr(listing, "EXACT_COUNT_BELOW", 1)
    assert selectors.customer_count_estimate() == (3, True)


def test_filtered_list_shows_no_total(client_for):
    CustomerFactory.create(channel=Channel.SOCIAL)
    response = client_for("Manager").get(LIST, {"channel": Channel.SOCIAL})
    assert response.context["page"].total is None


@pytest.mark.parametrize(("count", "shown"), [(999, "999"), (12_345, "12.3 K"), (1_034_567, "1.0 M")])
def test_large_counts_are_rounded_for_reading(count, shown):
    with translation.override("en"):
        assert approximate(count) == shown
