"""Analytics' own tables: the owner's marketing spend, and the monthly aggregates the nightly refresh writes so that
every report page reads a few thousand rows instead of ten million orders.

The aggregates are derived data: ``analytics.services.aggregates_refresh`` rewrites them set-based (INSERT … SELECT
… GROUP BY) from the other apps' selectors; nothing else writes them, and nothing is lost when they are rebuilt."""

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Channel
from shop.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS

# Sums over a million customers need more digits than one order's amount.
TOTAL_MAX_DIGITS = 18


def total_field(**kwargs: object) -> models.DecimalField:
    return models.DecimalField(max_digits=TOTAL_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs)  # type: ignore[arg-type]


class MarketingSpend(models.Model):
    """What the owner spent on one acquisition channel in one month, entered by hand or from a CSV file."""

    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    month = models.DateField(_("month"), help_text=_("first day of the month"))
    amount = models.DecimalField(
        _("amount"),
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        validators=[MinValueValidator(Decimal("0"))],
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("marketing spend")
        verbose_name_plural = _("marketing spend")
        ordering: ClassVar = ["-month", "channel"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["channel", "month"], name="analytics_spend_channel_month"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="analytics_spend_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.month:%Y-%m}: {self.amount}"


class AcquisitionCohort(models.Model):
    """Customers whose first order fell in ``month``, by channel and UTM campaign, with what their scores say now."""

    channel = models.CharField(max_length=20)
    campaign = models.CharField(max_length=200)
    month = models.DateField()
    customers = models.PositiveIntegerField()
    # Two orders or more that were not cancelled (the customer summary's count).
    repeat_customers = models.PositiveIntegerField()
    scored_customers = models.PositiveIntegerField()
    # Churn risk below 50 %.
    active_customers = models.PositiveIntegerField()
    predicted_clv = total_field()

    class Meta:
        indexes: ClassVar = [models.Index(fields=["channel", "month"], name="analytics_cohort_channel")]

    def __str__(self) -> str:
        return f"{self.channel}/{self.campaign} {self.month:%Y-%m}: {self.customers}"


class CohortMonth(models.Model):
    """Delivered orders of one acquisition cohort (channel, campaign, month of the first order) in the month
    ``month_offset`` months after it: how many of the cohort bought, and for how much."""

    channel = models.CharField(max_length=20)
    campaign = models.CharField(max_length=200)
    cohort = models.DateField()
    month_offset = models.PositiveSmallIntegerField()
    buyers = models.PositiveIntegerField()
    revenue = total_field()

    class Meta:
        indexes: ClassVar = [models.Index(fields=["cohort", "month_offset"], name="analytics_cohortmonth_cohort")]

    def __str__(self) -> str:
        return f"{self.channel}/{self.campaign} {self.cohort:%Y-%m}+{self.month_offset}: {self.buyers}"


class SegmentMonth(models.Model):
    """Customers in each RF segment and tier as a month began (from scoring's monthly snapshots)."""

    month = models.DateField()
    segment = models.CharField(max_length=20)
    tier = models.CharField(max_length=10)
    customers = models.PositiveIntegerField()

    class Meta:
        indexes: ClassVar = [models.Index(fields=["month"], name="analytics_segmentmonth_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.segment}/{self.tier}: {self.customers}"


class SegmentFlow(models.Model):
    """Customers who were in ``from_segment`` a month before ``month`` and in ``to_segment`` at ``month``;
    ``from_segment`` is empty for customers without a snapshot the month before (new to the scores)."""

    month = models.DateField()
    from_segment = models.CharField(max_length=20, blank=True)
    to_segment = models.CharField(max_length=20)
    customers = models.PositiveIntegerField()

    class Meta:
        indexes: ClassVar = [models.Index(fields=["month"], name="analytics_segmentflow_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.from_segment}→{self.to_segment}: {self.customers}"


class EarlyWarning(models.Model):
    """A customer whose churn risk rose meaningfully since last month's snapshot, as the last refresh saw it."""

    customer_id = models.BigIntegerField(primary_key=True)
    churn_risk = models.FloatField()
    previous_churn_risk = models.FloatField()
    rise = models.FloatField()
    # Predicted 12-month margin (CLV): what the shop stands to lose.
    value_at_stake = total_field()
    last_purchase = models.DateField()

    class Meta:
        indexes: ClassVar = [models.Index(fields=["value_at_stake", "customer_id"], name="analytics_warning_value")]

    def __str__(self) -> str:
        return f"{self.customer_id}: +{self.rise:.2f}"


class Refresh(models.Model):
    """One rewrite of the aggregates: when, how long each step took, and whether it finished."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    timings = models.JSONField(default=dict)
    error = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["-started_at"]

    def __str__(self) -> str:
        return f"refresh {self.pk} {self.state}"


class ExposureGroup(models.TextChoices):
    TREATED = "treated", _("Treated")
    CONTROL = "control", _("Control")


class ProgrammeExposure(models.Model):
    """A customer who entered a loyalty rule's eligible set, in its treated or control group, and when.

    Nothing in loyalty records who was eligible when: the control group is a stable hash checked at every quote.
    The nightly refresh therefore records each night's newcomers here (once per rule and customer: the first time
    counts), so a customer who bought after an offer and left the eligible set stays in the comparison — measuring
    only the customers eligible now would drop the programme's successes from the treated group."""

    programme = models.CharField(max_length=40)
    customer_id = models.BigIntegerField()
    group = models.CharField(max_length=10, choices=ExposureGroup.choices)
    since = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["programme", "customer_id"], name="analytics_exposure_once"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} {self.customer_id} {self.group}"


class ProgrammeEffect(models.Model):
    """One group of one programme over one window (days after each customer entered), summed over the customers
    whose whole window has passed: what the statistics of the effect page need, and nothing per customer.

    A customer's net value is the margin of the delivered orders placed in the window, at the price before the
    programme's own discounts, minus what the programme gave them in the window (its checkout discounts and the
    credit it issued, less credit reversed)."""

    programme = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    url = models.CharField(max_length=200, blank=True)
    window_days = models.PositiveSmallIntegerField()
    group = models.CharField(max_length=10, choices=ExposureGroup.choices)
    customers = models.PositiveIntegerField()
    buyers = models.PositiveIntegerField()
    orders = models.PositiveIntegerField()
    margin = total_field()
    cost = total_field()
    net = total_field()
    # Σ net² for the variance; four decimal places keep the squares of cents exact.
    net_squares = models.DecimalField(max_digits=36, decimal_places=4)
    # Σ net³ and Σ net⁴ for the skewness and the kurtosis the interval allows for (exact for cents); empty on rows
    # written before they were kept, read as "no correction" (Welch's interval).
    net_cubes = models.DecimalField(max_digits=48, decimal_places=6, null=True)
    net_fourths = models.DecimalField(max_digits=60, decimal_places=8, null=True)
    first_since = models.DateTimeField(null=True)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["window_days", "programme"], name="analytics_effect_window")]

    def __str__(self) -> str:
        return f"{self.programme} {self.window_days}d {self.group}: {self.customers}"


def _any_cost() -> models.Q:
    """A discount or credit in any window (``analytics.effect.aggregate.COSTED`` is the same test in SQL)."""
    condition = models.Q()
    for days in (30, 90, 180, 365):
        for kind in ("discount", "credit"):
            condition |= ~models.Q(**{f"{kind}_{days}": 0})
    return condition


class ExposureValue(models.Model):
    """One exposure's delivered orders and the programme's costs in each window after it entered
    (``orders_30``/``revenue_30``/``discount_30``/``credit_30`` … ``_365``), in whole cents: the per-customer part of
    the programme-effect sums, kept so that a weeknight rereads only the exposures something happened to.

    Rewritten for every exposure by the full rewrite (Sundays, ``analytics_refresh --full``); on weeknights only
    the exposures that are new, gone or moved, whose customer's orders changed, whose costs changed or whose window
    closed since the last run (``analytics.effect.aggregate``)."""

    programme = models.CharField(max_length=40)
    customer_id = models.BigIntegerField()
    group = models.CharField(max_length=10, choices=ExposureGroup.choices)
    since = models.DateTimeField()
    orders_30 = models.IntegerField(default=0)
    revenue_30 = models.BigIntegerField(default=0)
    discount_30 = models.BigIntegerField(default=0)
    credit_30 = models.BigIntegerField(default=0)
    orders_90 = models.IntegerField(default=0)
    revenue_90 = models.BigIntegerField(default=0)
    discount_90 = models.BigIntegerField(default=0)
    credit_90 = models.BigIntegerField(default=0)
    orders_180 = models.IntegerField(default=0)
    revenue_180 = models.BigIntegerField(default=0)
    discount_180 = models.BigIntegerField(default=0)
    credit_180 = models.BigIntegerField(default=0)
    orders_365 = models.IntegerField(default=0)
    revenue_365 = models.BigIntegerField(default=0)
    discount_365 = models.BigIntegerField(default=0)
    credit_365 = models.BigIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["programme", "customer_id"], name="analytics_value_once"),
        ]
        indexes: ClassVar = [
            # The exposures of the customers whose orders changed since the last run.
            models.Index(fields=["customer_id"], name="analytics_value_customer"),
            # The exposures whose window closed since the last run (a range of entry times), and each group's
            # earliest entry.
            models.Index(fields=["since"], name="analytics_value_since"),
            models.Index(fields=["programme", "group", "since"], name="analytics_value_first"),
            # The rows with a cost, checked every night against the programmes' costs (a few of a million).
            models.Index(
                fields=["programme", "customer_id"],
                condition=_any_cost(),
                name="analytics_value_costed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} {self.customer_id} since {self.since:%Y-%m-%d}"


class EffectBasis(models.Model):
    """What the stored programme effects were summed at (one row): the moment whose passed windows they count, the
    gross margin, and from when the next weeknight reads changed orders. A weeknight adds to the stored sums what
    changed since; a different margin or an earlier moment makes it a full rewrite."""

    measured_at = models.DateTimeField()
    margin = models.DecimalField(max_digits=7, decimal_places=6)
    changes_from = models.DateTimeField()

    def __str__(self) -> str:
        return f"effects at {self.measured_at:%Y-%m-%d %H:%M}"


class AtRiskValue(models.Model):
    """The customers at risk (churn risk of 50 % or more) as the last refresh saw them, and their predicted 12-month
    margin: the owner's morning figure, one row, so the dashboard never sums a million scores."""

    customers = models.PositiveIntegerField()
    value_at_stake = total_field()

    def __str__(self) -> str:
        return f"{self.customers}: {self.value_at_stake}"
