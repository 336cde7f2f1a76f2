"""Scores in the customer list: importance, tier, segment, churn risk and predicted CLV as columns, filters and
keyset-paginated sorts, plugged in by scoring through customers.contrib."""

import ast
import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from customers import selectors
from customers.contrib import extension_sorts
from customers.models import Customer
from customers.selectors import CustomerFilters, customer_list
from scoring.models import CustomerScore, ScoringSettings, Segment, Tier
from scoring.services import scoring_settings_update
from tests.factories import CustomerFactory, make_manager

LIST = reverse("customers:list")
EXPORT = reverse("customers:export")


def tier_of(importance: int) -> str:
    if importance >= 95:
        return Tier.VIP
    if importance >= 80:
        return Tier.HIGH
    if importance >= 50:
        return Tier.MEDIUM
    return Tier.LOW


def scored(
    importance: int,
    *,
    churn: float | None = 0.2,
    clv: str | None = "1000.00",
    segment: str = Segment.LOYAL,
    **customer_fields: object,
) -> Customer:
    """A customer with a delivered order's summary and a score as a scoring run writes it (default thresholds)."""
    customer = CustomerFactory.create(orders_count=2, total_spent=Decimal("2000"), **customer_fields)
    CustomerScore.objects.create(
        customer=customer,
        first_purchase=date(2025, 1, 1),
        last_purchase=date(2026, 3, 1),
        transactions=2,
        recency_days=30,
        tenure_days=400,
        total_value=Decimal("2000"),
        average_value=Decimal("1000"),
        r_score=4,
        f_score=3,
        m_score=3,
        segment=segment,
        p_alive=None if churn is None else 1 - churn,
        churn_risk=churn,
        predicted_clv=None if clv is None else Decimal(clv),
        importance=importance,
        tier=tier_of(importance),
    )
    return customer


def listed_ids(response) -> list[int]:
    return [customer.pk for customer in response.context["page"].rows]


def test_scoring_registers_its_sorts_with_the_list():
    assert {"importance", "churn", "clv"} <= set(extension_sorts())


def test_customers_app_does_not_import_scoring_or_any_higher_app():
    """The layering: customers sits below scoring, orders, feedback, loyalty and crm; scores reach the list only
    through the registry scoring fills from its AppConfig."""
    higher = {"scoring", "orders", "feedback", "loyalty", "crm"}
    found = []
    for path in sorted((Path(settings.BASE_DIR) / "customers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [f"{path.name}: {name}" for name in names if name.split(".")[0] in higher]
    assert found == []


def test_list_shows_the_score_columns(db, client):
    scored(97, churn=0.62, clv="48200.00", segment=Segment.CHAMPIONS, name="Вера")
    client.force_login(make_manager(language="en"))
    response = client.get(LIST)
    row = response.content.decode()
    assert 'data-tier="vip"' in row and ">VIP</span>" in row and 'data-segment="champions"' in row
    assert ">97<" in row and "62%" in row and "48,200\u00a0₽" in row
    with translation.override("en"):
        headers = [str(header["label"]) for header in response.context["headers"]]
    assert headers[-5:] == ["Importance", "Tier", "Segment", "Churn risk", "Predicted CLV"]


def test_a_customer_without_a_score_shows_dashes_not_zeroes(client_for):
    CustomerFactory.create(name="Новичок")
    response = client_for("Manager").get(LIST)
    cells = response.content.decode().split('data-column="importance"')[1]
    assert cells.split("</td>")[0].strip().endswith("—</span>")
    assert 'data-tier="' not in response.content.decode()


def test_operator_still_may_not_browse_a_filtered_list(client_for):
    assert client_for("Operator").get(LIST, {"tier": "vip", "sort": "-importance"}).status_code == 403


def test_tier_filter_keeps_only_that_tier(client_for):
    vip = scored(97)
    scored(85)
    scored(10)
    CustomerFactory.create()
    assert listed_ids(client_for("Manager").get(LIST, {"tier": "vip"})) == [vip.pk]


def test_tier_filter_follows_the_owners_thresholds(client_for):
    lower = scored(90)
    higher = scored(97)
    scoring_settings_update(vip_from=90, high_from=80, medium_from=50)
    assert set(listed_ids(client_for("Manager").get(LIST, {"tier": "vip"}))) == {lower.pk, higher.pk}
    assert listed_ids(client_for("Manager").get(LIST, {"tier": "high"})) == []


def test_low_tier_includes_importance_zero_but_no_unscored_customer(client_for):
    zero = scored(0)
    CustomerFactory.create()
    assert listed_ids(client_for("Manager").get(LIST, {"tier": "low"})) == [zero.pk]


def test_segment_filter_keeps_only_that_segment(client_for):
    champion = scored(90, segment=Segment.CHAMPIONS)
    scored(90, segment=Segment.AT_RISK)
    CustomerFactory.create()
    assert listed_ids(client_for("Manager").get(LIST, {"segment": "champions"})) == [champion.pk]


def test_an_unknown_tier_is_refused_with_the_reason_and_filters_nothing(client_for):
    vip = scored(97)
    response = client_for("Manager").get(LIST, {"tier": "platinum"})
    assert "tier" in response.context["form"].errors
    assert listed_ids(response) == [vip.pk]


def test_churn_filter_takes_a_percent_and_is_inclusive(client_for):
    exactly = scored(60, churn=0.5)
    above = scored(60, churn=0.8)
    scored(60, churn=0.49)
    scored(60, churn=None)  # the model did not fit: no churn risk, so not "at risk from 50%"
    CustomerFactory.create()
    response = client_for("Manager").get(LIST, {"churn_min": "50", "sort": "-churn"})
    assert listed_ids(response) == [above.pk, exactly.pk]


@pytest.mark.parametrize("value", ["-1", "101", "lots"])
def test_a_churn_percent_out_of_range_is_refused(client_for, value):
    response = client_for("Manager").get(LIST, {"churn_min": value})
    assert "churn_min" in response.context["form"].errors


def test_filters_combine_with_the_lists_own(client_for):
    wanted = scored(97, channel="social")
    scored(97, channel="organic")
    scored(40, channel="social")
    assert listed_ids(client_for("Manager").get(LIST, {"tier": "vip", "channel": "social"})) == [wanted.pk]


SCORE_COLUMN = {"importance": "importance", "churn": "churn_risk", "clv": "predicted_clv"}


def _tied_scored_base() -> None:
    """26 customers: ties on every score, scores without churn risk or CLV (a model that fell back), and customers
    never scored."""
    for index in range(26):
        if index % 6 == 5:
            CustomerFactory.create()
            continue
        scored(
            [97, 60, 60, 12][index % 4],
            churn=None if index % 7 == 3 else [0.9, 0.25, 0.25][index % 3],
            clv=None if index % 7 == 3 else ["5000.00", "120.50", "120.50", "0.00"][index % 4],
        )


def _expected(sort: str) -> list[int]:
    """Valued rows by (value, id), then rows without a value by id, both in the sort's direction."""
    key, descending = selectors.parse_sort(sort)
    values = dict(CustomerScore.objects.values_list("customer_id", SCORE_COLUMN[key]))
    ids = list(Customer.objects.values_list("id", flat=True))
    present = sorted([(values[pk], pk) for pk in ids if values.get(pk) is not None], reverse=descending)
    missing = sorted([pk for pk in ids if values.get(pk) is None], reverse=descending)
    return [pk for _value, pk in present] + missing


SCORE_SORTS = ["importance", "-importance", "churn", "-churn", "clv", "-clv"]


@pytest.mark.parametrize("sort", SCORE_SORTS)
def test_next_links_walk_every_customer_once_in_score_order(db, sort):
    _tied_scored_base()
    seen: list[int] = []
    cursor = None
    for _page in range(10):
        page = customer_list(CustomerFilters(), sort, cursor, limit=4)
        seen += [customer.pk for customer in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == _expected(sort)


@pytest.mark.parametrize("sort", SCORE_SORTS)
def test_previous_links_walk_back_through_the_same_score_pages(db, sort):
    _tied_scored_base()
    forward: list[list[int]] = []
    page = customer_list(CustomerFilters(), sort, None, limit=4)
    forward.append([c.pk for c in page.rows])
    while page.next_cursor:
        page = customer_list(CustomerFilters(), sort, page.next_cursor, limit=4)
        forward.append([c.pk for c in page.rows])
    backward = [[c.pk for c in page.rows]]
    cursor = page.previous_cursor
    while cursor:
        page = customer_list(CustomerFilters(), sort, cursor, limit=4)
        backward.append([c.pk for c in page.rows])
        cursor = page.previous_cursor
    assert backward[::-1] == forward


def test_a_filtered_score_sort_pages_through_only_the_filtered_customers(client_for):
    _tied_scored_base()
    client = client_for("Manager")
    seen: list[int] = []
    response = client.get(LIST, {"tier": "medium", "sort": "-importance", "size": 25})
    seen += listed_ids(response)
    assert response.context["next_url"] is None
    expected = list(
        CustomerScore.objects.filter(tier=Tier.MEDIUM)
        .order_by("-importance", "-customer_id")
        .values_list("customer_id", flat=True)
    )
    assert seen == expected and len(expected) > 4


def test_next_link_keeps_the_score_filter_and_sort(client_for):
    for _index in range(30):
        scored(97)
    response = client_for("Manager").get(LIST, {"tier": "vip", "sort": "-churn", "size": 25})
    next_url = response.context["next_url"]
    assert "tier=vip" in next_url and "sort=-churn" in next_url and "cursor=" in next_url
    assert len(client_for("Manager").get(LIST + next_url).context["page"].rows) == 5


def test_a_cursor_of_the_importance_sort_does_not_steer_the_churn_sort(db):
    _tied_scored_base()
    by_importance = customer_list(CustomerFilters(), "-importance", None, limit=4)
    by_churn = customer_list(CustomerFilters(), "-churn", None, limit=4)
    again = customer_list(CustomerFilters(), "-churn", by_importance.next_cursor, limit=4)
    assert [c.pk for c in again.rows] == [c.pk for c in by_churn.rows]


def test_score_headers_sort_biggest_first_then_turn_round(client_for):
    scored(50)
    client = client_for("Manager")
    headers = {header["key"]: header for header in client.get(LIST).context["headers"] if header["key"]}
    assert "sort=-importance" in headers["importance"]["url"]
    assert "sort=-churn" in headers["churn"]["url"] and "sort=-clv" in headers["clv"]["url"]
    turned = {header["key"]: header for header in client.get(LIST, {"sort": "-importance"}).context["headers"]}
    assert "sort=importance" in turned["importance"]["url"] and turned["importance"]["active"]


def _page_queries(client, query: dict[str, str]) -> int:
    client.get(LIST, query)  # the first request of a session also loads the cached shop settings
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, query)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("query", [{"sort": "-importance"}, {"sort": "-churn", "tier": "vip"}, {"tier": "vip"}])
def test_a_score_sorted_or_filtered_page_costs_the_same_queries_for_pages_of_25_and_100(client_for, query):
    client = client_for("Manager")
    for _index in range(110):
        scored(97)
    assert _page_queries(client, {**query, "size": "100"}) == _page_queries(client, {**query, "size": "25"})


def test_a_page_sorted_by_importance_reads_customers_with_their_scores_in_one_query(db, django_assert_num_queries):
    for _index in range(8):
        scored(70)
    with django_assert_num_queries(2):  # the page with its scores joined, then the page's tags
        page = customer_list(CustomerFilters(orders_min=1), "-importance", None, limit=5)
        assert [vars(customer)["score_importance"] for customer in page.rows] == [70] * 5
        assert all(vars(customer)["score_tier"] == Tier.MEDIUM for customer in page.rows)


def test_the_stretch_without_scores_is_read_only_on_the_page_where_the_scores_end(db):
    for _index in range(6):
        scored(70)
    CustomerFactory.create()
    with CaptureQueriesContext(connection) as first_page:
        page = customer_list(CustomerFilters(orders_min=0), "-importance", None, limit=3)
    with CaptureQueriesContext(connection) as last_page:
        rest = customer_list(CustomerFilters(orders_min=0), "-importance", page.next_cursor, limit=10)
    assert len(rest.rows) == 4 and vars(rest.rows[-1])["score_importance"] is None
    assert len(last_page) == len(first_page) + 1


def test_export_carries_the_score_columns(db, client):
    scored(97, churn=0.625, clv="48200.50", segment=Segment.CHAMPIONS, name="Вера")
    CustomerFactory.create(name="Новичок")
    client.force_login(make_manager(language="en"))
    with translation.override("en"):
        text = client.get(EXPORT, {"sort": "-importance", "sep": "comma"}, HTTP_ACCEPT_LANGUAGE="en")
        body = b"".join(text.streaming_content).decode().lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][-5:] == ["Importance", "Tier", "Segment", "Churn risk, %", "Predicted CLV"]
    assert rows[1][1] == "Вера" and rows[1][-5:] == ["97", "VIP", "Champions", "62", "48200.50"]
    assert rows[2][1] == "Новичок" and rows[2][-5:] == ["", "", "", "", ""]


def test_export_writes_predicted_clv_with_a_decimal_comma_for_semicolons(client_for):
    scored(97, clv="48200.50")
    body = b"".join(client_for("Manager").get(EXPORT).streaming_content).decode()
    assert ";48200,50" in body


def test_segment_links_from_the_segments_page_open_the_filtered_list(client_for):
    """The segments page links to ``?segment=<key>`` and ``?tier=<key>``: the list reads exactly those names."""
    champion = scored(97, segment=Segment.CHAMPIONS)
    scored(40, segment=Segment.LOST)
    client = client_for("Manager")
    for query in (f"?segment={Segment.CHAMPIONS}", f"?tier={Tier.VIP}", "?segment=champions&tier=vip"):
        assert listed_ids(client.get(LIST + query)) == [champion.pk]


def test_settings_are_read_once_per_filtered_page(client_for):
    ScoringSettings.load()
    scored(97)
    client = client_for("Manager")
    client.get(LIST, {"tier": "vip"})
    with CaptureQueriesContext(connection) as queries:
        client.get(LIST, {"tier": "vip"})
    assert sum('"scoring_scoringsettings"' in query["sql"] for query in queries.captured_queries) == 1


def test_the_score_sorts_and_the_segment_filter_have_their_indexes(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'scoring_customerscore'")
        indexes = dict(cursor.fetchall())
    assert "(churn_risk, customer_id) WHERE (churn_risk IS NOT NULL)" in indexes["score_churn_list"]
    assert "(predicted_clv, customer_id) WHERE (predicted_clv IS NOT NULL)" in indexes["score_clv_list"]
    assert indexes["score_segment_list"].endswith("(segment, importance, customer_id)")


def test_customers_without_a_score_are_found_by_an_anti_join_not_a_join_of_both_tables(db):
    """The stretch of unscored customers is ``NOT EXISTS``: PostgreSQL can stop after a page, where a LEFT JOIN …
    IS NULL with the score columns selected was planned as a hash join of both whole tables."""
    scored(50)
    CustomerFactory.create()
    with CaptureQueriesContext(connection) as queries:
        customer_list(CustomerFilters(), "-importance", None, limit=5)
    unscored = [query["sql"] for query in queries.captured_queries if "NOT (EXISTS(" in query["sql"]]
    assert len(unscored) == 1 and 'U0."importance" IS NOT NULL' in unscored[0]


def test_a_tier_or_segment_filter_without_a_sort_lists_the_most_important_first(client_for):
    middle = scored(90, segment=Segment.CHAMPIONS, last_order_at=timezone.now())
    top = scored(99, segment=Segment.CHAMPIONS, last_order_at=timezone.now() - timedelta(days=30))
    client = client_for("Manager")
    for query in ({"segment": "champions"}, {"tier": "high"}):
        response = client.get(LIST, query)
        expected = [top.pk, middle.pk] if "segment" in query else [middle.pk]
        assert listed_ids(response) == expected and response.context["page"].sort == "-importance"


def test_a_churn_filter_without_a_sort_lists_the_most_at_risk_first_and_a_chosen_sort_wins(client_for):
    likely = scored(60, churn=0.9, last_order_at=timezone.now() - timedelta(days=300))
    possible = scored(70, churn=0.6, last_order_at=timezone.now())
    client = client_for("Manager")
    assert listed_ids(client.get(LIST, {"churn_min": "50"})) == [likely.pk, possible.pk]
    assert listed_ids(client.get(LIST, {"churn_min": "50", "sort": "-last_order"})) == [possible.pk, likely.pk]
