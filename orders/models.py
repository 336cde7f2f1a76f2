"""Orders, their items and the status pipeline with a row for every transition."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from customers.models import Customer
from shop.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise


def money_field(verbose_name: "StrOrPromise", **kwargs: Any) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs)


class OrderStatus(models.TextChoices):
    NEW = "new", _("New")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")


# The pipeline: an order only moves forward. Cancelled and returned are final; a return needs a delivery first.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.NEW: frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.RETURNED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.RETURNED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.RETURNED: frozenset(),
}
# How far along the pipeline a status is: a delivery of an older status than the stored one is stale.
STATUS_RANK: dict[str, int] = {
    OrderStatus.NEW: 0,
    OrderStatus.PAID: 1,
    OrderStatus.SHIPPED: 2,
    OrderStatus.DELIVERED: 3,
    OrderStatus.CANCELLED: 4,
    OrderStatus.RETURNED: 5,
}


class OrderQuerySet(models.QuerySet["Order"]):
    def delivered(self) -> "OrderQuerySet":
        return self.filter(status=OrderStatus.DELIVERED)

    def counted(self) -> "OrderQuerySet":
        """Orders that count towards a customer's history: everything but cancellations."""
        return self.exclude(status=OrderStatus.CANCELLED)

    def since(self, moment: object) -> "OrderQuerySet":
        return self.filter(placed_at__gte=moment)


class Order(models.Model):
    source = models.CharField(_("source"), max_length=60)
    external_id = models.CharField(_("external id"), max_length=120)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    placed_at = models.DateTimeField(_("placed"))
    status = models.CharField(_("status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.NEW)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    subtotal = money_field(_("items"), default=Decimal("0"))
    discount_total = money_field(_("discount"), default=Decimal("0"))
    delivery_cost = money_field(_("delivery"), default=Decimal("0"))
    total = money_field(_("total"), default=Decimal("0"))
    promo_code = models.CharField(_("promo code"), max_length=60, blank=True)
    # When the platform last changed the order, as it says (Shopify's ``updated_at``): a payload older than the one
    # stored is stale and never moves the order back, even under a fresh signature.
    source_updated_at = models.DateTimeField(_("updated at the source"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["source", "external_id"], name="order_source_external_id_unique"),
            models.CheckConstraint(condition=models.Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(condition=models.Q(subtotal__gte=0), name="order_subtotal_not_negative"),
            models.CheckConstraint(condition=models.Q(discount_total__gte=0), name="order_discount_not_negative"),
            models.CheckConstraint(condition=models.Q(delivery_cost__gte=0), name="order_delivery_not_negative"),
        ]
        indexes: ClassVar = [
            # The card's timeline and the customer's summary: one customer's orders by time.
            models.Index(fields=["customer", "placed_at"], name="order_customer_placed"),
            # The order list, newest first, with keyset pagination on (placed_at, id).
            models.Index(fields=["placed_at", "id"], name="order_placed"),
            models.Index(fields=["status", "placed_at"], name="order_status_placed"),
            # Recent changes by status: the survey sweep's deliveries of the last days and scoring's returns of the
            # last 90 days, read as a range instead of a scan of every order every ten minutes.
            models.Index(fields=["status", "status_changed_at"], name="order_status_changed"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"

    def can_move_to(self, status: str) -> bool:
        return status in ALLOWED_TRANSITIONS[self.status]

    @property
    def is_final(self) -> bool:
        return not ALLOWED_TRANSITIONS[self.status]


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    sku = models.CharField(_("SKU"), max_length=80, blank=True)
    name = models.CharField(_("name"), max_length=255)
    category = models.CharField(_("category"), max_length=120, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3, default=Decimal("1"))
    price = money_field(_("price"))

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        constraints: ClassVar = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="order_item_price_not_negative"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="order_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def line_total(self) -> Decimal:
        return (self.price * self.quantity).quantize(Decimal("0.01"))


class ChangeOrigin(models.TextChoices):
    API = "api", _("API")
    WEBHOOK = "webhook", _("Webhook")
    CSV = "csv", _("CSV import")
    MANUAL = "manual", _("By hand")
    DEMO = "demo", _("Demo data")


class OrderStatusChange(models.Model):
    """One row per transition: the order's history, never rewritten."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=OrderStatus.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    origin = models.CharField(max_length=10, choices=ChangeOrigin.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering: ClassVar = ["changed_at", "id"]
        indexes: ClassVar = [models.Index(fields=["order", "changed_at"], name="status_change_order")]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class WebhookKind(models.TextChoices):
    GENERIC = "generic", _("Retain JSON (generic)")
    SHOPIFY = "shopify", _("Shopify orders")


class WebhookSource(models.Model):
    """A platform that sends signed webhooks. The secret signs every delivery; the owner copies it once."""

    slug = models.SlugField(_("address name"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("format"), max_length=20, choices=WebhookKind.choices, default=WebhookKind.GENERIC)
    secret = models.CharField(max_length=128, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook source")
        verbose_name_plural = _("webhook sources")
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookEvent(models.Model):
    """Each delivery's event id, kept so a repeated delivery is recognised: the same event with the same body is
    answered again with the stored answer (a platform retrying a timeout must hear 200), another body is refused."""

    source = models.ForeignKey(WebhookSource, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=120)
    topic = models.CharField(max_length=60, blank=True)
    body_sha256 = models.CharField(max_length=64, blank=True)
    response = models.JSONField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint(fields=["source", "event_id"], name="webhook_event_unique")]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.event_id}"


class OrderEvent(models.Model):
    """The follow-up work of one committed change of orders (rescoring, surveys, bonuses), written in the same
    transaction as the orders: the broker only carries the message that asks for its dispatch and may lose it, so
    a sweep dispatches what is still pending (DESIGN, reliability). ``payload`` holds the ``orders_changed`` arguments."""

    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            # The sweep's question, "what is still pending, oldest first", reads only the pending few.
            models.Index(
                fields=["created_at"], condition=models.Q(dispatched_at__isnull=True), name="order_event_pending"
            ),
            # Dispatched events are forgotten after a day: a range on their dispatch time.
            models.Index(fields=["dispatched_at"], name="order_event_dispatched"),
        ]

    def __str__(self) -> str:
        return f"order event {self.pk}"


class ImportKind(models.TextChoices):
    ORDERS = "orders", _("Orders")
    CUSTOMERS = "customers", _("Customers")


class ImportState(models.TextChoices):
    UPLOADED = "uploaded", _("Waiting for the mapping")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportFailure(models.TextChoices):
    ERROR = "error", _("The import raised an error")
    STALLED = "stalled", _("The import stopped making progress")


class ImportJob(models.Model):
    """A CSV file being imported: its detected format, the column mapping, progress and the rows it skipped.

    ``heartbeat_at`` is the job's last sign of life: when it was queued, claimed, and each time a chunk of rows
    committed (or a long read of the file went on). A sweep judges a job by it, never by ``started_at``: a healthy
    import of a big file runs for hours and must not be queued a second time beside itself.
    """

    # No sign of life for this long: the worker died (or its message was lost); the sweep resumes the job.
    STALE_AFTER = timedelta(minutes=10)
    # Resumed this many times without finishing: something in the file or the worker kills it every time.
    MAX_RESUMPTIONS = 3

    kind = models.CharField(_("what"), max_length=10, choices=ImportKind.choices)
    file = models.FileField(upload_to="imports/")
    original_name = models.CharField(_("file"), max_length=255)
    encoding = models.CharField(max_length=20)
    delimiter = models.CharField(max_length=1)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, help_text=_("target field → column header"))
    state = models.CharField(_("state"), max_length=10, choices=ImportState.choices, default=ImportState.UPLOADED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    skipped_rows = models.PositiveIntegerField(_("skipped rows"), default=0)
    error_report = models.FileField(upload_to="imports/reports/", blank=True)
    error = models.TextField(blank=True)
    failure = models.CharField(max_length=10, choices=ImportFailure.choices, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    # How many times the sweep queued the job again after it went silent; also the fencing token of the worker
    # that runs it, so a worker thought dead cannot write over the one that resumed its job.
    resumptions = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.state == ImportState.DONE else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))

    def is_stale(self, now: datetime) -> bool:
        """Queued or running with no sign of life for :attr:`STALE_AFTER`."""
        waiting = self.state in {ImportState.QUEUED, ImportState.RUNNING}
        return waiting and (self.heartbeat_at is None or self.heartbeat_at < now - self.STALE_AFTER)

    @property
    def failure_reason(self) -> str:
        """Why the import failed, in the reader's language (an error raised inside the import is shown as it was
        raised)."""
        if self.failure != ImportFailure.STALLED:
            return self.error
        minutes = int(self.STALE_AFTER.total_seconds() // 60)
        return ngettext(
            "The import stopped making progress: no sign of life for %(minutes)s minutes, after it had already "
            "been resumed %(times)s time. It was stopped after %(rows)s of %(total)s rows; the rows imported so far "
            "are kept, and uploading the same file again imports the rest.",
            "The import stopped making progress: no sign of life for %(minutes)s minutes, after it had already "
            "been resumed %(times)s times. It was stopped after %(rows)s of %(total)s rows; the rows imported so "
            "far are kept, and uploading the same file again imports the rest.",
            self.resumptions,
        ) % {"minutes": minutes, "times": self.resumptions, "rows": self.processed_rows, "total": self.total_rows}
