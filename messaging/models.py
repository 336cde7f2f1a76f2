"""The outbox every message to a customer goes through: one row per message, claimed before it leaves."""

from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging.reasons import reason_text


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class Purpose(models.TextChoices):
    # A message about something the customer did (a survey about their order): no advertising consent needed.
    SERVICE = "service", _("Service")
    # Advertising (a discount, a campaign): only with the customer's prior consent on that channel (Russia's law
    # on advertising, Art. 18), and every such message carries a one-click unsubscribe.
    MARKETING = "marketing", _("Marketing")


class MessageState(models.TextChoices):
    DUE = "due", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # The worker recorded its attempt and died before the outcome: the message may or may not have left. Sending
    # it again could reach the customer twice, so it stays for a person to check (at most once, as promised),
    # unless the provider drops a second copy with the same client id (see messaging.backends).
    UNKNOWN = "unknown", _("Unknown: needs a check")
    # Never left: the consent it needed was withdrawn, the customer unsubscribed or was erased before it went.
    CANCELLED = "cancelled", _("Cancelled before sending")


class MessageQuerySet(models.QuerySet["Message"]):
    def due(self, now: object) -> "MessageQuerySet":
        return self.filter(state=MessageState.DUE, due_at__lte=now)


class Message(models.Model):
    """One message to one customer on one channel: a row of the outbox.

    Either ``subject``/``body``/``html`` hold the rendered message, or the registered kind renders it at sending
    time from ``context`` (a survey's signed link is signed when it leaves, not when it was queued)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="messages")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    address = models.CharField(_("address"), max_length=254)
    language = models.CharField(_("language"), max_length=8, blank=True)
    # What created it and what renders it: e.g. kind "survey.invitation", source "order:123".
    kind = models.CharField(_("kind"), max_length=40)
    source = models.CharField(_("source"), max_length=80)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"), blank=True)
    html = models.TextField(blank=True)
    context = models.JSONField(default=dict, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=MessageState.choices, default=MessageState.DUE)
    due_at = models.DateTimeField(_("due"))
    # Attempts that reached the provider's call (recorded, committed, just before it).
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=4)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The start time of the PostgreSQL server the claim was made under (``pg_postmaster_start_time()``). Attempts
    # are committed without waiting for the disk, so a server crash may lose the last of them: rows claimed before
    # the server's last start may have left even without ``attempted_at`` (see messaging.services.recording).
    claimed_on = models.DateTimeField(null=True, blank=True, editable=False)
    # Set, and committed, just before the provider is called within the current claim: a dead worker's rows
    # with it may have left; rows without it never did.
    attempted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    provider_id = models.CharField(max_length=80, blank=True)
    # Why it did not leave, or left in doubt: a reason code (``messaging.reasons``), never a sentence; read it with
    # ``reason_text``, in the reader's language.
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes: ClassVar = [
            # The sender's batch: due rows by time; a partial index stays small however many were sent.
            models.Index(fields=["due_at"], name="messaging_message_due", condition=models.Q(state=MessageState.DUE)),
            # The stale-claim sweep reads only rows being sent.
            models.Index(
                fields=["claimed_at"], name="messaging_message_sending", condition=models.Q(state=MessageState.SENDING)
            ),
            # The per-customer cap and the card: a customer's messages by time.
            models.Index(fields=["customer", "created_at"], name="messaging_message_customer"),
        ]
        constraints: ClassVar = [
            # Queuing is idempotent: what created a message names it once (a retried task adds no second one).
            models.UniqueConstraint(fields=["kind", "source"], name="messaging_message_kind_source"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.source} {self.state}"

    @property
    def client_id(self) -> str:
        """The id the provider sees (the email's Message-ID, the SMS's id): the same on every attempt, so a
        provider that deduplicates drops a second copy."""
        return f"retain-message-{self.pk}"

    @property
    def reason_text(self) -> str:
        """Why it did not leave (or left in doubt), in the active language; empty when there is no reason."""
        return reason_text(self.error)


class MessagingSettings(models.Model):
    """The owner's one record of what every message obeys, surveys and campaigns alike. Read it with :meth:`load`.

    Quiet hours move a message's due time out of the night (in the shop's time zone). The cap limits marketing: a
    marketing message is refused at claim time when the customer already has ``cap_messages`` messages of any
    kind (surveys included) sent or being sent in the last ``cap_days`` days."""

    quiet_from = models.PositiveSmallIntegerField(_("quiet hours from"), default=21, validators=[MaxValueValidator(23)])
    quiet_until = models.PositiveSmallIntegerField(
        _("quiet hours until"), default=9, validators=[MaxValueValidator(23)]
    )
    cap_messages = models.PositiveSmallIntegerField(
        _("at most this many messages per customer"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Surveys count towards it; offers beyond it are not sent."),
    )
    cap_days = models.PositiveSmallIntegerField(
        _("in this many days"), default=7, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )

    class Meta:
        verbose_name = _("messaging settings")
        verbose_name_plural = _("messaging settings")

    def __str__(self) -> str:
        return str(_("Messaging settings"))

    @classmethod
    def load(cls) -> "MessagingSettings":
        return cls.objects.get_or_create(pk=1)[0]
