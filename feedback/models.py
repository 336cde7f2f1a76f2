"""Survey invitations (the outbox), skips with their reason, answers, follow-up tasks and the owner's settings."""

import secrets
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from messaging.reasons import reason_text
from shop.reasons import StoredReasons


class TimingMode(models.TextChoices):
    AFTER_HOURS = "after_hours", _("The same day, some hours after delivery")
    NEXT_DAY = "next_day", _("The next day at a set hour")


class ChannelPreference(models.TextChoices):
    EMAIL_FIRST = "email_first", _("Email, else SMS")
    SMS_FIRST = "sms_first", _("SMS, else email")


class FeedbackSettings(models.Model):
    """The owner's one record of survey settings. Read it with :meth:`load`."""

    enabled = models.BooleanField(_("send surveys"), default=True)
    timing_mode = models.CharField(
        _("when to ask"), max_length=12, choices=TimingMode.choices, default=TimingMode.NEXT_DAY
    )
    after_hours = models.PositiveSmallIntegerField(
        _("hours after delivery"), default=4, validators=[MinValueValidator(1), MaxValueValidator(72)]
    )
    next_day_hour = models.PositiveSmallIntegerField(
        _("hour on the next day"), default=12, validators=[MaxValueValidator(23)]
    )
    cap_days = models.PositiveSmallIntegerField(
        _("at most one survey per customer in days"), default=30, validators=[MaxValueValidator(365)]
    )
    reminder_days = models.PositiveSmallIntegerField(
        _("remind after days (0: never)"), default=3, validators=[MaxValueValidator(30)]
    )
    link_days = models.PositiveSmallIntegerField(
        _("link valid for days"), default=14, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    channel_preference = models.CharField(
        _("channel"), max_length=12, choices=ChannelPreference.choices, default=ChannelPreference.EMAIL_FIRST
    )
    # Two days: an unhappy customer called back within a day or two is usually recovered; after a week the
    # complaint has become the reason they left.
    follow_up_days = models.PositiveSmallIntegerField(
        _("days to handle a follow-up"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("A follow-up not resolved within this many days of the answer is marked overdue."),
    )

    class Meta:
        verbose_name = _("feedback settings")
        verbose_name_plural = _("feedback settings")

    def __str__(self) -> str:
        return str(_("Feedback settings"))

    @classmethod
    def load(cls) -> "FeedbackSettings":
        return cls.objects.get_or_create(pk=1)[0]


class InvitationChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class InvitationState(models.TextChoices):
    DUE = "due", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # A worker claimed the row and died before recording the outcome: the message may or may not have left.
    # Sending it again could reach the customer twice, so a person checks instead (at most once, as promised).
    UNKNOWN = "unknown", _("Unknown: needs a check")
    ANSWERED = "answered", pgettext_lazy("survey invitation", "Answered")


def new_public_token() -> str:
    return secrets.token_urlsafe(24)


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def due(self, now: object) -> "InvitationQuerySet":
        return self.filter(state=InvitationState.DUE, due_at__lte=now)


class Invitation(models.Model):
    """One survey per order; its message goes through messaging's outbox, claimed before it leaves."""

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="feedback_invitation")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="feedback_invitations")
    channel = models.CharField(_("channel"), max_length=8, choices=InvitationChannel.choices)
    address = models.CharField(_("address"), max_length=254)
    language = models.CharField(_("language"), max_length=8, blank=True)
    public_token = models.CharField(max_length=64, unique=True, default=new_public_token, editable=False)
    # The survey's state: follows its message in messaging's outbox (sent, failed, unknown), then answered.
    state = models.CharField(_("state"), max_length=10, choices=InvitationState.choices, default=InvitationState.DUE)
    due_at = models.DateTimeField(_("due"))
    # The outbox row that carries the invitation (none for surveys of the demo's history, which never left).
    message = models.OneToOneField(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_invitation"
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Its message's reason code (``messaging.reasons``), never a sentence: read it with ``reason_text``.
    error = models.TextField(blank=True)
    reminder_due_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        indexes: ClassVar = [
            models.Index(fields=["customer", "created_at"], name="feedback_invitation_customer"),
            # The reports' surveys sent in a period (response rate by week and month) as a range, not a scan.
            models.Index(
                fields=["sent_at"], name="feedback_invitation_sent", condition=models.Q(sent_at__isnull=False)
            ),
            # The reminders read only sent surveys still waiting for their reminder, whatever the table's size.
            models.Index(
                fields=["reminder_due_at"],
                name="feedback_invitation_reminder",
                condition=models.Q(
                    state=InvitationState.SENT, reminder_sent_at__isnull=True, reminder_due_at__isnull=False
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.state}"

    @property
    def reason_text(self) -> str:
        """Why the survey did not leave (or left in doubt), in the active language; empty when there is none."""
        return reason_text(self.error)


class SkipReason(models.TextChoices):
    DISABLED = "disabled", _("Surveys are switched off")
    NO_CONSENT = "no_consent", _("No consent to messages")
    NO_ADDRESS = "no_address", _("No email or phone")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed from surveys")
    CAPPED = "capped", _("Asked recently")
    ERASED = "erased", _("Personal data erased")


class InvitationSkip(models.Model):
    """A delivered order that got no survey, and why: the sweeper's memory of what it decided not to do."""

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="feedback_skip")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=16, choices=SkipReason.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("skipped survey")
        verbose_name_plural = _("skipped surveys")

    def __str__(self) -> str:
        return f"{self.order_id} {self.reason}"


class Unsubscribe(models.Model):
    """A customer who asked for no more surveys (one click from any survey message)."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="feedback_unsubscribe")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("survey unsubscription")
        verbose_name_plural = _("survey unsubscriptions")

    def __str__(self) -> str:
        return str(self.customer_id)


class Response(models.Model):
    """The customer's answer; one per invitation, enforced by the one-to-one key."""

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="feedback_responses")
    product_score = models.PositiveSmallIntegerField(
        _("satisfaction with the purchase"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    service_score = models.PositiveSmallIntegerField(
        _("satisfaction with the service"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    recommend_score = models.PositiveSmallIntegerField(_("would recommend (0–10)"), validators=[MaxValueValidator(10)])
    comment = models.TextField(_("comment"), blank=True, max_length=4000)
    created_at = models.DateTimeField(_("answered"), default=timezone.now)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        indexes: ClassVar = [models.Index(fields=["created_at"], name="feedback_response_created")]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(recommend_score__lte=10, product_score__range=(1, 5), service_score__range=(1, 5)),
                name="feedback_response_scores_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.invitation_id}: {self.recommend_score}"

    @property
    def is_detractor(self) -> bool:
        return self.recommend_score <= 6

    @property
    def is_low_satisfaction(self) -> bool:
        return min(self.product_score, self.service_score) <= 2

    @property
    def is_unhappy(self) -> bool:
        """A detractor or a low satisfaction: the answers that open a follow-up."""
        return self.is_detractor or self.is_low_satisfaction


class FollowUpState(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")


class FollowUpOutcome(models.TextChoices):
    APOLOGISED = "apologised", _("Apologised")
    COMPENSATED = "compensated", _("Compensated")
    REPLACED = "replaced", _("Replaced or refunded")
    UNREACHABLE = "unreachable", _("Could not reach")
    NO_ACTION = "no_action", _("No action needed")


class FollowUpReason(models.TextChoices):
    """Why staff opened a follow-up without a survey answer: stored as a code (``FOLLOW_UP_REASONS.store``) and read
    in the reader's language, whoever clicked; text a person typed, or stored before the codes, reads as stored."""

    EARLY_WARNING = (
        "early_warning",
        _("Early warning: churn risk rose from %(before)s%% to %(now)s%% since last month."),
    )
    TYPED = "typed", "%(detail)s"


FOLLOW_UP_REASONS = StoredReasons(FollowUpReason, FollowUpReason.TYPED)


class FollowUp(models.Model):
    """A manager's task: opened by an unhappy answer (an open complaint on the customer's card until resolved), or
    by staff for a customer without an answer, with the reason (a rising churn risk on the early-warning list):
    that one has no answer and no order, and is not a complaint."""

    response = models.OneToOneField(Response, null=True, blank=True, on_delete=models.CASCADE, related_name="follow_up")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="feedback_follow_ups")
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(_("state"), max_length=12, choices=FollowUpState.choices, default=FollowUpState.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(_("due"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=FollowUpOutcome.choices, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes: ClassVar = [
            models.Index(fields=["state", "due_at"], name="feedback_followup_state_due"),
            models.Index(fields=["customer", "state"], name="feedback_followup_customer"),
        ]
        constraints: ClassVar = [
            # Either an answer's follow-up, or one opened by staff with its reason.
            models.CheckConstraint(
                condition=models.Q(response__isnull=False) | ~models.Q(reason=""), name="feedback_followup_has_cause"
            ),
            # One unresolved follow-up opened by staff per customer: a second click opens the same one.
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(response__isnull=True) & ~models.Q(state="resolved"),
                name="feedback_followup_one_open_by_staff",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.state}"

    @property
    def is_overdue(self) -> bool:
        return self.state != FollowUpState.RESOLVED and self.due_at < timezone.now()

    @property
    def is_complaint(self) -> bool:
        return self.response_id is not None

    @property
    def reason_text(self) -> str:
        """Why staff opened it, in the active language (the reader's); empty for an answer's follow-up."""
        return FOLLOW_UP_REASONS.text(self.reason)


class FollowUpComment(models.Model):
    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("comment"), max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["created_at"]

    def __str__(self) -> str:
        return self.text[:40]
