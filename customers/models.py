"""Customers: who they are, how to reach them, where they came from, and what they agreed to receive."""

from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shop.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS


class Channel(models.TextChoices):
    """First-touch acquisition channel, derived from UTM source/medium (``customers.channels.classify``)."""

    SEARCH_ADS = "search_ads", _("Search ads")
    ORGANIC = "organic", _("Organic search")
    SOCIAL = "social", _("Social networks")
    MARKETPLACE = "marketplace", _("Marketplace")
    REFERRAL = "referral", _("Referral")
    EMAIL = "email", _("Email")
    DIRECT = "direct", _("Direct")
    OFFLINE = "offline", _("Offline / phone")
    UNKNOWN = "unknown", _("Unknown")


class CustomerQuerySet(models.QuerySet["Customer"]):
    def active(self) -> "CustomerQuerySet":
        """Customers that are not merged into another one."""
        return self.filter(merged_into__isnull=True)


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    address = models.TextField(_("address"), blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True, choices=[("ru", "Русский"), ("en", "English")])

    channel = models.CharField(
        _("acquisition channel"), max_length=20, choices=Channel.choices, default=Channel.UNKNOWN
    )
    utm_source = models.CharField(_("UTM source"), max_length=120, blank=True)
    utm_medium = models.CharField(_("UTM medium"), max_length=120, blank=True)
    utm_campaign = models.CharField(_("UTM campaign"), max_length=200, blank=True)
    referred_by = models.ForeignKey(
        "self",
        verbose_name=_("referred by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
    )

    # Current marketing consent per channel with its proof — when it was given or withdrawn, where (source) and to
    # which wording of the consent text (its version) — as Russia's law on advertising (Art. 18) asks the sender to
    # prove it. Every change is also a ConsentChange row (the audit trail).
    email_consent = models.BooleanField(_("email consent"), default=False)
    email_consent_at = models.DateTimeField(null=True, blank=True)
    email_consent_source = models.CharField(max_length=60, blank=True)
    email_consent_wording = models.CharField(
        _("email consent wording version"), max_length=40, blank=True, default="", db_default=""
    )
    sms_consent = models.BooleanField(_("SMS consent"), default=False)
    sms_consent_at = models.DateTimeField(null=True, blank=True)
    sms_consent_source = models.CharField(max_length=60, blank=True)
    sms_consent_wording = models.CharField(
        _("SMS consent wording version"), max_length=40, blank=True, default="", db_default=""
    )

    # Order summary kept by orders.services on every order change, so lists filter and sort on a million rows
    # without aggregating ten million orders per page. Counts every order that was not cancelled.
    orders_count = models.PositiveIntegerField(_("orders"), default=0)
    total_spent = models.DecimalField(
        _("total spent"), max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, default=Decimal("0")
    )
    first_order_at = models.DateTimeField(_("first order"), null=True, blank=True)
    last_order_at = models.DateTimeField(_("last order"), null=True, blank=True)

    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_customers", editable=False
    )
    erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    tags: "models.ManyToManyField[Tag, Any]" = models.ManyToManyField(
        "Tag", verbose_name=_("tags"), blank=True, related_name="customers"
    )

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        # Name search also has a trigram index on UPPER(name), written as SQL in its own migration (0002).
        indexes: ClassVar = [
            models.Index(fields=["last_order_at", "id"], name="customer_last_order"),
            models.Index(fields=["name", "id"], name="customer_name"),
            models.Index(fields=["total_spent", "id"], name="customer_total_spent"),
            models.Index(fields=["orders_count", "id"], name="customer_orders_count"),
            models.Index(fields=["channel", "id"], name="customer_channel"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or _("Customer #%(id)s") % {"id": self.pk}

    @property
    def average_order(self) -> Decimal | None:
        if not self.orders_count:
            return None
        return (self.total_spent / self.orders_count).quantize(Decimal("0.01"))

    @property
    def days_since_last_order(self) -> int | None:
        if self.last_order_at is None:
            return None
        return (timezone.now() - self.last_order_at).days


class CustomerPhone(models.Model):
    """A phone number in E.164; a number belongs to one customer only (the caller lookup depends on it)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("phone"), max_length=20, unique=True)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("phone")
        verbose_name_plural = _("phones")
        ordering: ClassVar = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.number


class CustomerEmail(models.Model):
    """An email address, stored lower-cased and stripped; one customer per address."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="emails")
    address = models.EmailField(_("email"), max_length=254, unique=True)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        ordering: ClassVar = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.address


class ContactKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")


class UnverifiedContact(models.Model):
    """A phone or email a source sent that could not be read (``555-555-SHIP``), kept as it came beside the customer
    of the order it arrived with, for a person to fix or discard on the card. The order is the record: a bad contact
    never refuses it, and an unverified value is never used to match, call or write to anyone."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="unverified_contacts")
    kind = models.CharField(_("kind"), max_length=10, choices=ContactKind.choices)
    raw = models.CharField(_("as received"), max_length=254)
    reason = models.CharField(_("why it was not accepted"), max_length=255, blank=True)
    source = models.CharField(_("source"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("unverified contact")
        verbose_name_plural = _("unverified contacts")
        ordering: ClassVar = ["created_at", "id"]
        constraints: ClassVar = [
            # A platform re-sends the same order many times: the same bad value is kept once per customer.
            models.UniqueConstraint(fields=["customer", "kind", "raw"], name="unverified_contact_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.raw}"


class CustomerExternalId(models.Model):
    """The customer's id in a source system (the website, a marketplace, a CSV file's own ids)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="external_ids")
    source = models.CharField(_("source"), max_length=60)
    external_id = models.CharField(_("external id"), max_length=120)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["source", "external_id"], name="customer_external_id_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


class Note(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        indexes: ClassVar = [models.Index(fields=["customer", "-created_at"], name="note_customer_time")]

    def __str__(self) -> str:
        return self.text[:50]


class ConsentChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class ConsentChange(models.Model):
    """The audit trail of marketing consent: who agreed or withdrew, by which channel, when and through what."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consent_changes")
    channel = models.CharField(max_length=10, choices=ConsentChannel.choices)
    granted = models.BooleanField()
    source = models.CharField(max_length=60, help_text=_("Where the consent came from: checkout, survey, manager…"))
    # The version of the consent text the customer agreed to (e.g. "2026-01"), so the exact words can be shown.
    wording = models.CharField(_("wording version"), max_length=40, blank=True, default="", db_default="")
    # When it was given or withdrawn, as the source reports it (a checkout's tick may arrive later by import).
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.channel} {'granted' if self.granted else 'withdrawn'} ({self.source})"


class CustomerMerge(models.Model):
    """A merge of a duplicate into a survivor, with what moved, so a person can see it happened and why."""

    survivor = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges")
    merged_customer_id = models.BigIntegerField()
    merged_snapshot = models.JSONField(help_text=_("The merged customer's fields and contacts at merge time."))
    moved = models.JSONField(default=dict, help_text=_("How many orders, phones, emails, notes moved."))
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-merged_at"]

    def __str__(self) -> str:
        return f"#{self.merged_customer_id} → #{self.survivor_id}"


class CallDirection(models.TextChoices):
    INBOUND = "in", _("Incoming")
    OUTBOUND = "out", _("Outgoing")


class CallState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    ENDED = "ended", _("Ended")
    MISSED = "missed", _("Missed")


class CallOutcome(models.TextChoices):
    NONE = "", _("Not set")
    RESOLVED = "resolved", _("Question resolved")
    ORDER = "order", _("Order placed")
    COMPLAINT = "complaint", _("Complaint")
    CALLBACK = "callback", _("Call back later")
    OFFER_ACCEPTED = "offer_accepted", _("Offer accepted")
    OFFER_DECLINED = "offer_declined", _("Offer declined")
    OTHER = "other", _("Other")


class Call(models.Model):
    """A phone call with a customer (or an unknown number), from the telephony webhook or logged by hand.

    A call is live while ringing or answered; the operator's console shows the live call addressed to them, so the
    card survives a page refresh. A missed inbound call waits in the call-back list until someone calls back.
    """

    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    phone = models.CharField(_("number"), max_length=32, help_text=_("E.164 when it could be read."))
    direction = models.CharField(
        _("direction"), max_length=3, choices=CallDirection.choices, default=CallDirection.INBOUND
    )
    state = models.CharField(_("state"), max_length=10, choices=CallState.choices, default=CallState.RINGING)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    extension = models.CharField(_("extension"), max_length=32, blank=True)
    provider = models.CharField(max_length=30, blank=True, help_text=_("generic, zadarma, or manual"))
    provider_call_id = models.CharField(max_length=120, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=CallOutcome.choices, blank=True, default="")
    note = models.TextField(_("note"), blank=True)
    called_back_at = models.DateTimeField(_("called back"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering: ClassVar = ["-started_at"]
        constraints: ClassVar = [
            # Telephony retries its webhooks: one row per provider call, whatever arrives twice.
            models.UniqueConstraint(
                fields=["provider", "provider_call_id"],
                condition=~models.Q(provider_call_id=""),
                name="call_provider_id_unique",
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["customer", "-started_at"], name="call_customer_time"),
            # The console asks "what is live for me?" every second.
            models.Index(fields=["operator", "state"], name="call_operator_state"),
            models.Index(fields=["state", "called_back_at", "-started_at"], name="call_missed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.phone} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.state in {CallState.RINGING, CallState.ANSWERED}

    @property
    def duration_seconds(self) -> int | None:
        if self.answered_at and self.ended_at:
            return int((self.ended_at - self.answered_at).total_seconds())
        return None
