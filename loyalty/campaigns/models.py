"""A campaign, its recipients (treated and control, with what happened to each) and the operator's call tasks."""

from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from loyalty.models.rules import OrderKind, money_field
from messaging.models import Channel as MessageChannel

LANGUAGES = ("ru", "en")


class Preset(models.TextChoices):
    CUSTOM = "custom", _("Custom")
    REWARD_LOYALTY = "reward_loyalty", _("Reward loyalty")
    WIN_BACK = "win_back", _("Win back before they go")


class Schedule(models.TextChoices):
    ONCE = "once", _("Once")
    DAILY = "daily", _("Daily, whoever newly qualifies")
    AFTER_DELIVERY = "after_delivery", _("After each delivered order")


class SendChannel(models.TextChoices):
    EMAIL_FIRST = "email_first", _("Email, else SMS")
    SMS_FIRST = "sms_first", _("SMS, else email")
    EMAIL = "email", _("Email only")
    SMS = "sms", _("SMS only")


class StopReason(models.TextChoices):
    """Why a campaign stopped by itself: stored as the code, shown in the reader's language."""

    BUDGET_SPENT = "budget_spent", _("The budget is spent.")


class Campaign(models.Model):
    """Audience + offer + message + schedule + budget + control group. Conditions are typed columns, lists as JSON
    (empty meaning "any"); ``templates`` holds per language ``{"subject", "email", "sms"}``."""

    # Empty for a preset's campaign the owner has not renamed: its title is then the preset's label, in the
    # reader's language, not in the language of whoever switched it on first.
    name = models.CharField(pgettext_lazy("campaign", "name"), max_length=120, blank=True)
    preset = models.CharField(_("preset"), max_length=20, choices=Preset.choices, default=Preset.CUSTOM)
    is_active = models.BooleanField(_("active"), default=False)
    schedule = models.CharField(_("schedule"), max_length=20, choices=Schedule.choices, default=Schedule.DAILY)

    segments = models.JSONField(_("RF segments"), default=list, blank=True)
    tiers = models.JSONField(_("importance tiers"), default=list, blank=True)
    channels = models.JSONField(_("acquisition channels"), default=list, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    churn_min = models.FloatField(
        _("churn risk from"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    churn_max = models.FloatField(
        _("churn risk to"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    days_min = models.PositiveIntegerField(_("days since last order from"), null=True, blank=True)
    days_max = models.PositiveIntegerField(_("days since last order to"), null=True, blank=True)
    order_kind = models.CharField(_("customers"), max_length=10, choices=OrderKind.choices, default=OrderKind.ANY)
    send_channel = models.CharField(
        _("send by"), max_length=12, choices=SendChannel.choices, default=SendChannel.EMAIL_FIRST
    )
    # Win-back: a customer enters again each time their churn risk crosses the next of these (rising offer).
    risk_thresholds = models.JSONField(_("churn-risk thresholds"), default=list, blank=True)
    # Tiers whose customers get an operator's call instead of a message (a personal approach for the best).
    call_tiers = models.JSONField(_("tiers called by an operator"), default=list, blank=True)

    rule = models.ForeignKey(
        "loyalty.LoyaltyRule", null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns",
        verbose_name=_("offer (loyalty rule)"),
    )  # fmt: skip
    offer_days = models.PositiveSmallIntegerField(
        _("personal coupon valid for days"), default=14, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    templates = models.JSONField(_("messages"), default=dict, blank=True)
    link_url = models.URLField(_("link to the shop"), blank=True)

    budget = money_field(_("budget"), null=True, blank=True)
    # The offers given so far at their nominal value (a fixed coupon's sum; a percent coupon at the customer's
    # average order), raised under the campaign's row lock and never past the budget.
    spent = money_field(_("spent"), default=Decimal("0"), editable=False)
    control_share = models.DecimalField(
        _("control group share"), max_digits=4, decimal_places=3, default=Decimal("0.1"),
        validators=[MinValueValidator(0), MaxValueValidator(Decimal("0.9"))],
        help_text=_("Share of the audience (0–0.9) who deliberately get nothing, to measure the effect."),
    )  # fmt: skip
    stopped_reason = models.CharField(_("stopped"), max_length=200, blank=True, choices=StopReason.choices)

    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering: ClassVar = ["name", "id"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(spent__lte=models.F("budget")), name="loyalty_campaign_budget"
            ),
            models.CheckConstraint(
                condition=Q(control_share__gte=0) & Q(control_share__lte=Decimal("0.9")),
                name="loyalty_campaign_control_share_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        """The owner's name for the campaign, else its preset's label in the active language."""
        return self.name or str(self.get_preset_display())

    @property
    def control_key(self) -> str:
        """The stable hash's key: its own namespace, so a campaign and a rule with the same id hold out
        different customers."""
        return f"campaign-{self.pk or 0}"

    @property
    def budget_left(self) -> Decimal | None:
        return None if self.budget is None else max(self.budget - self.spent, Decimal("0"))

    def template_for(self, language: str) -> dict[str, Any]:
        templates = self.templates or {}
        return dict(templates.get(language) or {})


class Group(models.TextChoices):
    TREATED = "treated", _("Treated")
    CONTROL = "control", _("Control")


class RecipientStatus(models.TextChoices):
    NEW = "new", _("Selected")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Unknown: needs a check")
    CANCELLED = "cancelled", _("Not sent (consent withdrawn or capped)")
    CONTROL = "control", _("Control: nothing sent")
    CALL = "call", _("Operator's call")
    CALLED = "called", _("Called")
    NO_CHANNEL = "no_channel", _("No consent or address")
    CAPPED = "capped", _("Over the message cap")
    OVER_BUDGET = "over_budget", _("Over budget")


class CampaignRecipient(models.Model):
    """One customer's entry into one campaign on one occasion, treated or control, and what happened.

    For the programme-effect report: per campaign, each customer's group and the time they entered is the index
    ``loyalty_recipient_effect`` (campaign, group, entered_at) INCLUDE (customer): "treated and control customers
    of campaign C who entered between A and B" is one index-only range scan. A customer may enter again on a new
    occasion (``occasion``: "" for once/daily, ``risk:0.60`` for a win-back threshold, ``order:<id>`` after a
    delivery); their group is the same each time (the stable hash of campaign and customer)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="campaign_entries")
    occasion = models.CharField(max_length=40, blank=True, default="")
    group = models.CharField(_("group"), max_length=8, choices=Group.choices)
    status = models.CharField(_("status"), max_length=12, choices=RecipientStatus.choices)
    channel = models.CharField(_("channel"), max_length=8, blank=True, choices=MessageChannel.choices)
    language = models.CharField(_("language"), max_length=8, blank=True)
    message = models.OneToOneField(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="campaign_recipient"
    )
    coupon = models.OneToOneField(
        "loyalty.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="campaign_recipient"
    )
    offer_kind = models.CharField(max_length=10, blank=True)
    offer_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    offer_cost = money_field(_("offer cost"), null=True, blank=True)
    entered_at = models.DateTimeField(_("entered"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked"), null=True, blank=True)
    clicks = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")
        constraints: ClassVar = [
            # A daily run selecting the same customer again inserts nothing (ON CONFLICT DO NOTHING).
            models.UniqueConstraint(fields=["campaign", "customer", "occasion"], name="loyalty_recipient_once"),
            # The control group never receives anything: no message, no coupon.
            models.CheckConstraint(
                condition=~Q(group="control") | (Q(message__isnull=True) & Q(coupon__isnull=True)),
                name="loyalty_recipient_control_gets_nothing",
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["campaign", "group", "entered_at"], include=["customer"], name="loyalty_recipient_effect"
            ),
            # The card's "campaigns that reached this customer".
            models.Index(fields=["customer", "entered_at"], name="loyalty_recipient_customer"),
            # The runner's batches of selected recipients still to process.
            models.Index(fields=["campaign", "id"], condition=Q(status="new"), name="loyalty_recipient_new"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.customer_id} {self.group} {self.status}"


class CallState(models.TextChoices):
    OPEN = "open", _("To call")
    DONE = "done", _("Called")


class CallTask(models.Model):
    """A call an operator makes instead of a message (VIP and High tiers of a win-back campaign)."""

    recipient = models.OneToOneField(CampaignRecipient, on_delete=models.CASCADE, related_name="call_task")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="campaign_calls")
    due_on = models.DateField(_("call on"))
    state = models.CharField(_("state"), max_length=8, choices=CallState.choices, default=CallState.OPEN)
    outcome = models.CharField(_("outcome"), max_length=500, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("call task")
        verbose_name_plural = _("call tasks")
        indexes: ClassVar = [
            models.Index(fields=["due_on", "id"], condition=Q(state="open"), name="loyalty_calltask_open")
        ]

    def __str__(self) -> str:
        return f"call {self.customer_id} on {self.due_on}"
