"""Writes of the orders app: the one way an order enters or changes, whatever brought it (API, webhook, CSV,
a manager's hand)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import ContactKind
from customers.services import CustomerData, customers_resolve
from customers.unverified import unverified_contacts_keep
from orders.bulk import customer_summaries_refresh, new_order_summary, orders_update_postgres
from orders.models import (
    ALLOWED_TRANSITIONS,
    STATUS_RANK,
    ChangeOrigin,
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusChange,
)
from orders.signals import send_orders_changed
from shop.bulk_insert import objects_insert
from shop.locks import advisory_xact_lock
from shop.models import ShopSettings

# One order's items at most, whatever brings it: a real basket is far below it, and ten thousand items are an attack
# or a bug.
MAX_ITEMS_PER_ORDER = 500


class TransitionError(ValueError):
    """A status change the pipeline forbids; the message says which and why, for a person to read."""


@dataclass(frozen=True)
class ItemData:
    name: str
    price: Decimal
    quantity: Decimal = Decimal("1")
    sku: str = ""
    category: str = ""


@dataclass(frozen=True)
class OrderData:
    """An order as a source describes it, validated and normalised by the caller."""

    source: str
    external_id: str
    customer: CustomerData
    placed_at: datetime
    status: str = OrderStatus.NEW
    status_at: datetime | None = None  # when the source says the order reached ``status``
    delivered_at: datetime | None = None
    updated_at: datetime | None = None  # when the platform last changed the order, as it says
    currency: str = ""
    subtotal: Decimal = Decimal("0")
    discount_total: Decimal = Decimal("0")
    delivery_cost: Decimal = Decimal("0")
    total: Decimal = Decimal("0")
    promo_code: str = ""
    items: tuple[ItemData, ...] | None = None  # None: the source said nothing about items; keep what we have


@dataclass
class UpsertResult:
    source: str
    external_id: str
    order_id: int | None = None
    created: bool = False
    status_changed: bool = False
    stale: bool = False  # an older state than the stored one: ignored, as a late delivery of a webhook should be
    error: str = ""
    warnings: list[str] = field(default_factory=list)  # stored, but something the sender should hear about

    @property
    def ok(self) -> bool:
        return not self.error


def transition_error(current: str, wanted: str) -> str:
    return _("An order that is “%(current)s” cannot become “%(wanted)s”.") % {
        "current": OrderStatus(current).label,
        "wanted": OrderStatus(wanted).label,
    }


def orders_upsert(*, items: Sequence[OrderData], origin: str, user: Any = None) -> list[UpsertResult]:
    """Create or update orders by ``(source, external_id)``, set-based, in one transaction.

    Idempotent: the same payload twice changes nothing the second time. Out-of-order deliveries never move an
    order back: a status earlier in the pipeline than the stored one, or a payload whose ``updated_at`` is older
    than the stored one, is reported ``stale`` and ignored; a later status the pipeline forbids (delivered →
    cancelled) is that row's ``error`` and the other rows still land. Contacts the source sent that could not be
    read are kept on the order's customer as unverified, and the row's ``warnings`` say so.

    Locking: advisory locks on every order key and customer identity in the batch (key order, so no deadlocks),
    then ``SELECT … FOR UPDATE`` of the existing orders; concurrent deliveries of the same order serialise and
    leave exactly one row in the newest status. Triggers, on commit, ``orders_changed`` for the changed orders.
    """
    if not items:
        return []
    # The last delivery of a key in one batch wins, as if they had arrived one after the other.
    latest: dict[tuple[str, str], OrderData] = {}
    for data in items:
        latest[(data.source, data.external_id)] = data
    with transaction.atomic():
        advisory_xact_lock(f"order:{s}:{x}" for s, x in latest)
        results = _upsert_locked(list(latest.values()), origin, user)
    by_key = {(r.source, r.external_id): r for r in results}
    return [by_key[(d.source, d.external_id)] for d in items]


def order_upsert(*, data: OrderData, origin: str, user: Any = None) -> UpsertResult:
    """One order; see :func:`orders_upsert`."""
    return orders_upsert(items=[data], origin=origin, user=user)[0]


def _upsert_locked(items: list[OrderData], origin: str, user: Any) -> list[UpsertResult]:
    """Decide, then write: new keys are created, existing ones updated (both only gather rows), and one persist step
    writes every row of the batch set-based and queues the batch's event."""
    writes = _Writes(now=timezone.now(), origin=origin, user=user)
    existing = {
        (o.source, o.external_id): o
        for o in Order.objects.select_for_update()
        .filter(source__in={d.source for d in items}, external_id__in={d.external_id for d in items})
        .order_by("pk")
    }
    new_items = [d for d in items if (d.source, d.external_id) not in existing]
    # Read before ``_create`` takes the customers' locks, which other batches wait on until this one commits.
    stored_items = _stored_items([o.pk for o in existing.values()])
    results = _create(new_items, writes)
    for data in items:
        order = existing.get((data.source, data.external_id))
        if order is not None:
            results.append(_update(order, data, stored_items.get(order.pk, []), writes))
    _persist(writes)
    _keep_unverified(items, results, existing, writes)
    return results


def _keep_unverified(
    items: list[OrderData], results: list[UpsertResult], existing: dict[tuple[str, str], Order], writes: "_Writes"
) -> None:
    """Unreadable contacts go aside on the order's customer, and each row that brought one hears it."""
    customer_of = {(o.source, o.external_id): o.customer_id for o in [*existing.values(), *writes.created]}
    by_key = {(r.source, r.external_id): r for r in results}
    entries = []
    for data in items:
        if not data.customer.unverified:
            continue
        key = (data.source, data.external_id)
        entries.append((customer_of[key], data.source, data.customer.unverified))
        by_key[key].warnings += [
            unverified_warning(kind, raw, reason) for kind, raw, reason in data.customer.unverified
        ]
    unverified_contacts_keep(entries=entries)


def unverified_warning(kind: str, raw: str, reason: str) -> str:
    field_name = "customer.phones" if kind == ContactKind.PHONE else "customer.emails"
    return _(
        "%(field)s: %(reason)s The order is stored; “%(raw)s” is kept on the customer's card as unverified for a "
        "person to fix."
    ) % {"field": field_name, "reason": reason.rstrip(".") + ".", "raw": raw}


@dataclass
class _Writes:
    """The rows one batch writes, gathered by the create and update steps and written by :func:`_persist`."""

    now: datetime
    origin: str
    user: Any
    created: list[Order] = field(default_factory=list)
    updated: list[Order] = field(default_factory=list)
    # Orders written only to record the platform's newer update time: nothing to tell the apps above.
    quiet: set[int] = field(default_factory=set)
    changes: list[OrderStatusChange] = field(default_factory=list)
    item_rows: list[OrderItem] = field(default_factory=list)
    replace_items_of: list[int] = field(default_factory=list)
    # Customers this batch created: their summaries were written by their insert, from this batch's orders.
    new_customers: set[int] = field(default_factory=set)

    def change(self, order: Order, old: str, new: str, at: datetime) -> None:
        self.changes.append(_change(order, old, new, at, self.origin, self.user))


def _create(items: list[OrderData], writes: _Writes) -> list[UpsertResult]:
    """New orders, each with its customer matched or created, its first status change and its items."""
    # The rows and their customers' summaries are built before the customers' locks are taken; only ids are left.
    currency = ShopSettings.load().currency
    orders = [_new_order(data, currency, writes.now) for data in items]
    resolved = customers_resolve(
        items=[d.customer for d in items], summaries=[new_order_summary(order) for order in orders]
    )
    for order, customer in zip(orders, resolved, strict=True):
        order.customer_id = customer.customer_id
    writes.new_customers.update(customer.customer_id for customer in resolved if customer.created)
    objects_insert(orders)
    for order, data in zip(orders, items, strict=True):
        writes.change(order, "", data.status, order.status_changed_at)
        writes.item_rows += _items(order.pk, data.items or ())
    writes.created += orders
    return [UpsertResult(d.source, d.external_id, o.pk, created=True) for o, d in zip(orders, items, strict=True)]


def _new_order(data: OrderData, currency: str, now: datetime) -> Order:
    """The order's row but its customer, which resolving gives."""
    status_at = data.status_at or now
    return Order(
        source=data.source,
        external_id=data.external_id,
        placed_at=data.placed_at,
        status=data.status,
        status_changed_at=status_at,
        delivered_at=_delivered_at(data, status_at) if data.status in _DELIVERED_LIKE else None,
        currency=data.currency or currency,
        subtotal=data.subtotal,
        discount_total=data.discount_total,
        delivery_cost=data.delivery_cost,
        total=data.total,
        promo_code=data.promo_code,
        source_updated_at=data.updated_at,
        created_at=now,
    )


def _update(order: Order, data: OrderData, stored_items: list["ItemKey"], writes: _Writes) -> UpsertResult:
    """An existing order takes the source's newer state: a status earlier in the pipeline, or a payload the platform
    dated before the stored one, is ``stale`` and ignored; a forbidden move is the row's ``error``; otherwise the
    status, amounts and items that differ are taken, and the platform's newer update time."""
    result = UpsertResult(data.source, data.external_id, order.pk)
    if STATUS_RANK[data.status] < STATUS_RANK[order.status] or _older_at_source(data, order):
        result.stale = True
        return result
    if data.status != order.status:
        if data.status not in ALLOWED_TRANSITIONS[order.status]:
            result.error = transition_error(order.status, data.status)
            return result
        _move(order, data, writes)
        result.status_changed = True
    amounts_changed = _copy_amounts(order, data)
    items_changed = data.items is not None and _item_keys(data.items) != stored_items
    if items_changed:
        writes.replace_items_of.append(order.pk)
        writes.item_rows += _items(order.pk, data.items or ())
    newer = data.updated_at is not None and data.updated_at != order.source_updated_at
    if newer:
        order.source_updated_at = data.updated_at
    if result.status_changed or amounts_changed or items_changed:
        writes.updated.append(order)
    elif newer:
        writes.updated.append(order)
        writes.quiet.add(order.pk)
    return result


def _older_at_source(data: OrderData, order: Order) -> bool:
    """The payload says the platform changed the order before the state we hold: a late or captured delivery."""
    if data.updated_at is None or order.source_updated_at is None:
        return False
    return data.updated_at < order.source_updated_at


def _move(order: Order, data: OrderData, writes: _Writes) -> None:
    status_at = data.status_at or writes.now
    writes.change(order, order.status, data.status, status_at)
    order.status, order.status_changed_at = data.status, status_at
    if data.status == OrderStatus.DELIVERED:
        order.delivered_at = _delivered_at(data, status_at)


def _persist(writes: _Writes) -> None:
    """Every row the batch decided on, set-based; the customers' summaries; the event, queued for the commit."""
    if connection.vendor == "postgresql":
        orders_update_postgres(writes.updated, _UPDATED_FIELDS)
    else:
        Order.objects.bulk_update(writes.updated, _UPDATED_FIELDS)
    OrderItem.objects.filter(order_id__in=writes.replace_items_of).delete()
    objects_insert(writes.item_rows)
    objects_insert(writes.changes)
    touched = writes.created + [o for o in writes.updated if o.pk not in writes.quiet]
    customer_ids = sorted({o.customer_id for o in touched})
    customer_summaries_refresh(customer_ids=[c for c in customer_ids if c not in writes.new_customers])
    delivered = [c.order_id for c in writes.changes if c.to_status == OrderStatus.DELIVERED]
    send_orders_changed(
        order_ids=[o.pk for o in touched],
        customer_ids=customer_ids,
        delivered_order_ids=delivered,
        status_changes=[(c.order_id, c.from_status, c.to_status) for c in writes.changes],
    )


_DELIVERED_LIKE = {OrderStatus.DELIVERED, OrderStatus.RETURNED}


def _delivered_at(data: OrderData, status_at: datetime) -> datetime:
    return data.delivered_at or status_at


_AMOUNT_FIELDS = ("placed_at", "subtotal", "discount_total", "delivery_cost", "total", "promo_code")
_UPDATED_FIELDS = ("status", "status_changed_at", "delivered_at", *_AMOUNT_FIELDS, "source_updated_at", "updated_at")


def _copy_amounts(order: Order, data: OrderData) -> bool:
    """Take the source's amounts; returns whether anything differed (a replayed delivery changes nothing)."""
    changed = False
    for name in _AMOUNT_FIELDS:
        value = getattr(data, name)
        if getattr(order, name) != value:
            setattr(order, name, value)
            changed = True
    order.updated_at = timezone.now()
    return changed


ItemKey = tuple[str, str, str, Decimal, Decimal]


def _item_keys(items: Sequence[ItemData]) -> list[ItemKey]:
    return sorted((i.sku, i.name, i.category, i.quantity, i.price) for i in items)


def _stored_items(order_ids: list[int]) -> dict[int, list[ItemKey]]:
    stored: dict[int, list[ItemKey]] = {}
    rows = OrderItem.objects.filter(order_id__in=order_ids).values_list(
        "order_id", "sku", "name", "category", "quantity", "price"
    )
    for order_id, *key in rows:
        stored.setdefault(order_id, []).append(tuple(key))  # type: ignore[arg-type]
    return {order_id: sorted(keys) for order_id, keys in stored.items()}


def _change(order: Order, old: str, new: str, at: datetime, origin: str, user: Any) -> OrderStatusChange:
    return OrderStatusChange(
        order_id=order.pk,
        from_status=old,
        to_status=new,
        changed_at=at,
        origin=origin,
        changed_by=user if getattr(user, "is_authenticated", False) else None,
    )


def _items(order_id: int, items: Sequence[ItemData]) -> list[OrderItem]:
    return [
        OrderItem(order_id=order_id, sku=i.sku, name=i.name, category=i.category, quantity=i.quantity, price=i.price)
        for i in items
    ]


def order_change_status(
    *, order: Order, status: str, origin: str = ChangeOrigin.MANUAL, user: Any = None, at: datetime | None = None
) -> Order:
    """Move one order along the pipeline by hand (or by any caller that must hear a refusal).

    Raises :class:`TransitionError` when the pipeline forbids it, including a move back. Locks the order row;
    triggers ``orders_changed`` on commit.
    """
    if status not in OrderStatus.values:
        raise TransitionError(_("“%(status)s” is not an order status.") % {"status": status})
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if status == locked.status:
            return locked
        if status not in ALLOWED_TRANSITIONS[locked.status]:
            raise TransitionError(transition_error(locked.status, status))
        moment = at or timezone.now()
        OrderStatusChange.objects.create(
            order=locked,
            from_status=locked.status,
            to_status=status,
            changed_at=moment,
            origin=origin,
            changed_by=user if getattr(user, "is_authenticated", False) else None,
        )
        previous = locked.status
        locked.status, locked.status_changed_at = status, moment
        fields = ["status", "status_changed_at", "updated_at"]
        if status == OrderStatus.DELIVERED:
            locked.delivered_at = moment
            fields.append("delivered_at")
        locked.save(update_fields=fields)
        customer_summaries_refresh(customer_ids=[locked.customer_id])
        send_orders_changed(
            order_ids=[locked.pk],
            customer_ids=[locked.customer_id],
            delivered_order_ids=[locked.pk] if status == OrderStatus.DELIVERED else [],
            status_changes=[(locked.pk, previous, status)],
        )
    return locked
