"""Rows that share an order number are one order: the layout of Shopify's export and most others, one row per
item with the order's own fields on its first row. An order whose rows disagree about an order-level value, or
whose items do not add up to its total, is reported with its lines instead of being stored wrong."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils.formats import localize
from django.utils.translation import gettext as _

from customers.services import CustomerData
from orders.imports.fields import ORDER_LEVEL, label, status_label
from orders.imports.parsing import RowResult
from orders.services import MAX_ITEMS_PER_ORDER, ItemData, OrderData

CENT = Decimal("0.01")
# Where a field is stored in a row's data when it is not its own name.
_STORED_AS = {"phone": "phones", "email": "emails"}


def order_key(row: RowResult) -> str:
    return str(row.data.get("external_id") or f"#line{row.line}")


def group_orders(rows: Iterable[RowResult]) -> list[list[RowResult]]:
    """The rows of each order in the order of their first line."""
    orders: dict[str, list[RowResult]] = {}
    for row in rows:
        orders.setdefault(order_key(row), []).append(row)
    return list(orders.values())


def _shown(target: str, value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return status_label(target, value) or str(localize(value))


def _disagreements(rows: list[RowResult]) -> list[tuple[RowResult, str]]:
    """Each later row whose filled order-level cell differs from the value the order took first."""
    found: list[tuple[RowResult, str]] = []
    first: dict[str, RowResult] = {}
    for row in rows:
        for target in ORDER_LEVEL:
            if target not in row.filled:
                continue
            key = _STORED_AS.get(target, target)
            if target not in first:
                first[target] = row
                continue
            reference = first[target]
            if row.data.get(key) != reference.data.get(key):
                found.append(
                    (
                        row,
                        _("%(field)s is “%(value)s” here but “%(first)s” on line %(line)s of the same order.")
                        % {
                            "field": label(target),
                            "value": _shown(target, row.data.get(key)),
                            "first": _shown(target, reference.data.get(key)),
                            "line": reference.line,
                        },
                    )
                )
    return found


def _first_value(rows: list[RowResult], target: str) -> Any:
    for row in rows:
        if target in row.filled and row.data.get(target) is not None:
            return row.data[target]
    return None


def _has_item(row: RowResult) -> bool:
    data = row.data
    return bool(data.get("item_name") or data.get("sku") or data.get("price") is not None or data.get("line_total"))


def _unit_price(row: RowResult) -> Decimal | None:
    data = row.data
    if data.get("price") is not None:
        return Decimal(data["price"])
    if data.get("line_total") is not None:
        quantity = data.get("quantity") or Decimal("1")
        return (data["line_total"] / quantity).quantize(CENT)
    return None


def _sum_mismatch(rows: list[RowResult]) -> str | None:
    """Why the items do not add up to the order's total (with its discount, delivery and added tax), or None when
    they do or when the file does not say enough to tell."""
    items = [row for row in rows if _has_item(row)]
    total = _first_value(rows, "total")
    prices = [_unit_price(row) for row in items]
    if not items or total is None or any(price is None for price in prices):
        return None
    goods = sum(
        (
            row.data["line_total"]
            if row.data.get("line_total") is not None
            else price * (row.data.get("quantity") or Decimal("1"))
            for row, price in zip(items, prices, strict=True)
            if price is not None
        ),
        Decimal("0"),
    ).quantize(CENT)
    extras = {
        target: _first_value(rows, target) or Decimal("0") for target in ("discount_total", "delivery_cost", "tax")
    }
    expected = goods - extras["discount_total"] + extras["delivery_cost"] + extras["tax"]
    # A kopeck per line for the platforms' rounding of unit prices.
    if abs(expected - total) <= CENT * len(items):
        return None
    return _(
        "The items add up to %(goods)s; less the discount %(discount)s, plus delivery %(delivery)s and tax %(tax)s "
        "that makes %(expected)s, not the order total %(total)s (lines %(lines)s)."
    ) % {
        "goods": localize(goods),
        "discount": localize(extras["discount_total"]),
        "delivery": localize(extras["delivery_cost"]),
        "tax": localize(extras["tax"]),
        "expected": localize(expected),
        "total": localize(total),
        "lines": ", ".join(str(row.line) for row in items),
    }


def _limits(rows: list[RowResult], shop: str) -> list[str]:
    """What the API refuses, refused here too: another currency than the shop's (``shop``; empty: not checked),
    more items than an order holds."""
    reasons = []
    currency = str(_first_value(rows, "currency") or "").upper()
    if shop and currency and currency != shop:
        reasons.append(
            _("Currency “%(value)s” is not the shop's currency (%(shop)s): orders are imported in %(shop)s only.")
            % {"value": currency[:10], "shop": shop}
        )
    items = sum(1 for row in rows if _has_item(row))
    if items > MAX_ITEMS_PER_ORDER:
        reasons.append(
            _("The order has %(count)s items; an order holds at most %(limit)s.")
            % {"count": items, "limit": MAX_ITEMS_PER_ORDER}
        )
    return reasons


def check_order(rows: list[RowResult], *, currency: str = "") -> None:
    """Add to the rows' errors what is wrong with the order as a whole: the order's fields missing from its
    first row, values its rows disagree on, a currency other than the shop's ``currency``, too many items, and items
    that do not add up to its total."""
    for row, reason in _disagreements(rows):
        row.errors.append(reason)
    rows[0].errors += _limits(rows, currency)
    if any(row.errors for row in rows):
        return
    mismatch = _sum_mismatch(rows)
    if mismatch:
        rows[0].errors.append(mismatch)


def order_from_rows(rows: list[RowResult], source: str) -> OrderData:
    """An order from its lines: each order-level field from the first line that fills it, each line that
    describes an item as one item."""
    first = rows[0].data
    order = {target: _first_value(rows, target) for target in ("total", "delivery_cost", "discount_total")}
    items = tuple(
        ItemData(
            name=row.data["item_name"] or row.data["sku"] or _("Item"),
            price=_unit_price(row) or Decimal("0"),
            quantity=row.data.get("quantity") or Decimal("1"),
            sku=row.data["sku"],
            category=row.data["category"],
        )
        for row in rows
        if _has_item(row)
    )
    total = order["total"] or Decimal("0")
    delivery = order["delivery_cost"] or Decimal("0")
    discount = order["discount_total"] or Decimal("0")
    subtotal = sum((i.price * i.quantity for i in items), Decimal("0")) if items else total - delivery + discount
    return OrderData(
        source=source,
        external_id=first["external_id"],
        customer=CustomerData.from_mapping(first, source=source, external_id=first["customer_id"]),
        placed_at=first["placed_at"],
        status=first["status"],
        status_at=first["placed_at"],
        currency=first["currency"][:3].upper(),
        subtotal=max(subtotal.quantize(CENT), Decimal("0")),
        discount_total=discount,
        delivery_cost=delivery,
        total=total,
        promo_code=first["promo_code"][:60],
        items=items or None,
    )
