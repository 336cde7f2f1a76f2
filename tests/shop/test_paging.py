"""The one keyset-paging helper (shop.paging) that the customer list, the order list and the early warnings use."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db.models import Q

from shop.paging import (
    CursorError,
    Position,
    after,
    make_cursor,
    ordering,
    page_cursors,
    position_or_start,
    read_cursor,
)

SALT = "tests.paging"


def test_a_cursor_carries_its_position_back() -> None:
    moment = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    cursor = make_cursor(salt=SALT, scope="-placed_at", value=moment, pk=42, backwards=True)
    assert read_cursor(cursor, salt=SALT, scope="-placed_at") == Position(moment.isoformat(), 42, backwards=True)


def test_a_cursor_of_another_sort_is_refused() -> None:
    cursor = make_cursor(salt=SALT, scope="-total_spent", value="10.00", pk=1, backwards=False)
    with pytest.raises(CursorError):
        read_cursor(cursor, salt=SALT, scope="total_spent")


def test_a_cursor_of_another_list_is_refused() -> None:
    cursor = make_cursor(salt="another.list", scope="name", value="Anna", pk=1, backwards=False)
    with pytest.raises(CursorError):
        read_cursor(cursor, salt=SALT, scope="name")


def test_an_edited_cursor_starts_the_list_from_the_top() -> None:
    cursor = make_cursor(salt=SALT, scope="name", value="Anna", pk=1, backwards=False)
    assert position_or_start(cursor[:-2] + "xx", salt=SALT, scope="name") is None
    assert position_or_start("", salt=SALT, scope="name") is None


def test_after_bounds_the_leading_column_so_the_index_scan_starts_at_the_cursor() -> None:
    condition = after("placed_at", 5, 9, descending=True)
    assert condition == Q(placed_at__lte=5) & (Q(placed_at__lt=5) | Q(id__lt=9))
    assert after("name", "B", 3, descending=False, tiebreak="score__customer_id") == Q(name__gte="B") & (
        Q(name__gt="B") | Q(score__customer_id__gt=3)
    )


def test_ordering_sorts_the_tiebreak_the_same_way_as_the_column() -> None:
    assert ordering("total_spent", descending=True) == ["-total_spent", "-id"]
    assert ordering("value", descending=False, tiebreak="customer_id") == ["value", "customer_id"]


def _cursor_of(row: int, backwards: bool) -> str:
    return f"{'p' if backwards else 'n'}{row}"


def test_the_first_page_has_a_next_page_only_when_more_rows_were_read() -> None:
    assert page_cursors([1, 2], has_more=True, position=None, cursor_of=_cursor_of) == ("n2", None)
    assert page_cursors([1, 2], has_more=False, position=None, cursor_of=_cursor_of) == (None, None)


def test_a_later_page_links_back_to_the_one_before() -> None:
    forward = Position("x", 7, backwards=False)
    assert page_cursors([8, 9], has_more=False, position=forward, cursor_of=_cursor_of) == (None, "p8")


def test_walking_back_always_links_forward_and_back_only_while_rows_remain() -> None:
    back = Position("x", 7, backwards=True)
    assert page_cursors([5, 6], has_more=True, position=back, cursor_of=_cursor_of) == ("n6", "p5")
    assert page_cursors([5, 6], has_more=False, position=back, cursor_of=_cursor_of) == ("n6", None)


def test_an_empty_page_links_nowhere() -> None:
    assert page_cursors([], has_more=False, position=Position("x", 1, backwards=False), cursor_of=_cursor_of) == (
        None,
        None,
    )
