"""Scores of every customer and the runs that computed them."""

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import Customer
from scoring.engine.importance import TierThresholds
from scoring.explain import churn_rising, reason_lines, reason_sentence, standing_words
from scoring.explain import explanation as explain_score
from shop.models import ShopSettings
from shop.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS


class Tier(models.TextChoices):
    VIP = "vip", _("VIP")
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class Segment(models.TextChoices):
    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALISTS = "potential_loyalists", _("Potential loyalists")
    NEW = "new", pgettext_lazy("RF segment", "New")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
    AT_RISK = "at_risk", _("At risk")
    CANT_LOSE = "cant_lose", _("Can't lose them")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")


class ScoringRun(models.Model):
    """One recalculation of the whole base: when, how many, the fitted parameters and each step's time."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customers = models.PositiveIntegerField(default=0)
    method = models.CharField(max_length=20, blank=True, help_text=_("bgnbd, or rf when the model fell back"))
    fallback_reason = models.TextField(blank=True)
    params = models.JSONField(default=dict, help_text=_("fitted parameters and log-likelihoods"))
    cut_points = models.JSONField(default=dict, help_text=_("quintile and percentile boundaries for single updates"))
    timings = models.JSONField(default=dict, help_text=_("seconds per step"))
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"run {self.pk} {self.state}"

    @property
    def fallback_sentence(self) -> str:
        """Why the run fell back to RF scores, as a sentence in the reader's language."""
        return reason_sentence(self.fallback_reason, self.params.get("fallback", {}))

    @property
    def horizon_days(self) -> int | None:
        return self.params.get("horizon_days")


def money_field(**kwargs: object) -> models.DecimalField:
    return models.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs)  # type: ignore[arg-type]


class CustomerScore(models.Model):
    """A customer's statistics and scores, from delivered orders that were not returned (one transaction a day)."""

    customer = models.OneToOneField(Customer, primary_key=True, on_delete=models.CASCADE, related_name="score")
    # No index: nothing looks scores up by run, and every full run would rebuild it on a million rows.
    run = models.ForeignKey(ScoringRun, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    first_purchase = models.DateField()
    last_purchase = models.DateField()
    transactions = models.PositiveIntegerField(help_text=_("purchase days"))
    recency_days = models.PositiveIntegerField()
    tenure_days = models.PositiveIntegerField()
    total_value = money_field(default=Decimal("0"))
    average_value = money_field(default=Decimal("0"))
    r_score = models.PositiveSmallIntegerField()
    f_score = models.PositiveSmallIntegerField()
    m_score = models.PositiveSmallIntegerField()
    segment = models.CharField(max_length=20, choices=Segment.choices)
    p_alive = models.FloatField(null=True)
    expected_30 = models.FloatField(null=True)
    expected_90 = models.FloatField(null=True)
    expected_365 = models.FloatField(null=True)
    expected_value = money_field(null=True)
    predicted_clv = money_field(null=True)
    # The probability of no purchase within the run's horizon: the model's own figure (BG/NBD, or without it the
    # shop's history), before the additions below; NULL where there is none.
    model_churn_risk = models.FloatField(null=True)
    # model_churn_risk plus each addition in churn_reasons (signals, returns), capped at 1.
    churn_risk = models.FloatField(null=True)
    churn_reasons = models.JSONField(default=list)
    # Last month's churn risk from its snapshot, copied here by each run so that "rising" costs nothing to show.
    previous_churn_risk = models.FloatField(null=True, blank=True)
    importance = models.PositiveSmallIntegerField()
    tier = models.CharField(max_length=10, choices=Tier.choices)
    # Valuable and at risk: realised value in the top 20 % of the base and churn risk of 50 % or more. A flag of
    # its own, because importance ranks what is still to come and a departing big spender ranks low by it: these
    # are the customers a win-back call is for ("Can't lose them" in RF terms, by the model's risk).
    at_risk_valuable = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [
            # The list's "valuable and at risk" filter has a partial index of its own, score_at_risk_valuable
            # (migration 0013), like the list's other sorts.
            # The list sorted by importance, and the tier filter read as its importance range (scoring.listing), so
            # no (tier, …) index: nothing reads one, and every full run would rebuild it.
            models.Index(fields=["importance", "customer"], name="score_importance"),
            # The segment filter uses score_segment_list (segment, importance, customer), migration 0006.
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.importance}"

    @property
    def churn_percent(self) -> int:
        return round((self.churn_risk or 0) * 100)

    @property
    def segment_label(self) -> str:
        return str(Segment(self.segment).label)

    @property
    def churn_reason_lines(self) -> list[str]:
        """Why churn risk was raised, in the reader's language."""
        return reason_lines(self.churn_reasons, {kind: str(label) for kind, label in ChurnSignal.Kind.choices})

    @property
    def churn_additions(self) -> list[tuple[str, int | None]]:
        """Each addition to the model's churn risk in words, with the percentage points it added (``None`` for a
        reason stored before additions carried their weight)."""
        lines = self.churn_reason_lines
        weights = [reason.get("weight") if isinstance(reason, dict) else None for reason in self.churn_reasons]
        return [
            (line, None if weight is None else round(weight * 100)) for line, weight in zip(lines, weights, strict=True)
        ]

    @property
    def model_churn_percent(self) -> int | None:
        return None if self.model_churn_risk is None else round(self.model_churn_risk * 100)

    @property
    def horizon_days(self) -> int | None:
        """The horizon this score's churn risk looks over (its run's), or ``None`` for a score without a run."""
        return self.run.horizon_days if self.run_id is not None and self.run is not None else None

    @property
    def standing(self) -> str:
        """ "Top 3%" or "Bottom 10%" among all scored customers."""
        return standing_words(self.importance)

    @property
    def churn_rising(self) -> bool:
        """Churn risk meaningfully above last month's snapshot."""
        return churn_rising(self.churn_risk, self.previous_churn_risk)

    @property
    def explanation(self) -> str:
        """Built when shown, in the reader's language and the shop's currency, from the stored figures."""
        return explain_score(
            self.importance,
            self.transactions,
            self.predicted_clv,
            self.churn_risk,
            ShopSettings.load().currency,
            fitted=self.p_alive is not None,
            rising=self.churn_rising,
        )


class ScoringSettings(models.Model):
    """The owner's tier thresholds: the lowest importance (0–100) of each tier. One row."""

    vip_from = models.PositiveSmallIntegerField(_("VIP from"), default=95, validators=[MaxValueValidator(100)])
    high_from = models.PositiveSmallIntegerField(_("High from"), default=80, validators=[MaxValueValidator(100)])
    medium_from = models.PositiveSmallIntegerField(_("Medium from"), default=50, validators=[MaxValueValidator(100)])
    # Churn risk is the probability of no purchase within this many days; empty: the time in which 80 % of the
    # shop's returns came (computed by every run).
    churn_horizon_days = models.PositiveSmallIntegerField(
        _("churn horizon, days"),
        null=True,
        blank=True,
        validators=[MinValueValidator(7), MaxValueValidator(730)],
        # xgettext:no-python-format
        help_text=_("Empty: the time in which 80% of the shop's repeat purchases came, computed by every run."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("scoring settings")
        verbose_name_plural = _("scoring settings")
        constraints: ClassVar = [
            models.CheckConstraint(condition=models.Q(pk=1), name="scoring_settings_singleton"),
            models.CheckConstraint(
                condition=models.Q(medium_from__lte=models.F("high_from"), high_from__lte=models.F("vip_from"))
                & models.Q(vip_from__lte=100),
                name="scoring_settings_tiers_ordered",
                violation_error_message=_("Tier thresholds must rise: Medium ≤ High ≤ VIP ≤ 100."),
            ),
        ]

    def __str__(self) -> str:
        return f"VIP ≥ {self.vip_from}, High ≥ {self.high_from}, Medium ≥ {self.medium_from}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = 1
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def load(cls) -> "ScoringSettings":
        settings, _created = cls.objects.get_or_create(pk=1)
        return settings

    @property
    def thresholds(self) -> TierThresholds:
        return TierThresholds(vip=self.vip_from, high=self.high_from, medium=self.medium_from)


class ScoreSnapshot(models.Model):
    """A customer's score as the month began: the month's first successful full run writes every customer's row, a
    later run in the month only the rows of customers scored for the first time since. For the card's history
    chart; the current month's last point is the live score."""

    # One row per customer and month, and the key is the table's only B-tree: it serves a customer's months in order
    # (the card) and the cascade, where a surrogate id would cost the month's million inserts a second index.
    pk = models.CompositePrimaryKey("customer", "month")
    # No foreign-key constraint in the database for either key: a month's first run inserts a million rows, and
    # PostgreSQL checks each row's keys one at a time at commit (11 s for a million rows and two keys here). The
    # rows come from the score table, whose customers exist; the ORM still cascades a deleted customer and clears
    # a deleted run.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="score_snapshots",
        db_index=False,
        db_constraint=False,
    )
    month = models.DateField(help_text=_("first day of the month"))
    # No index: nothing reads snapshots by run.
    run = models.ForeignKey(
        ScoringRun, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False, db_constraint=False
    )
    importance = models.PositiveSmallIntegerField()
    tier = models.CharField(max_length=10, choices=Tier.choices)
    segment = models.CharField(max_length=20, choices=Segment.choices)
    churn_risk = models.FloatField(null=True)
    predicted_clv = money_field(null=True)

    # A later run finds the month's rows through a BRIN index on month (migration 0009, PostgreSQL): a month's rows
    # are written together, so a block range holds one month, and the index costs nearly nothing to keep.

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m}: {self.importance}"


class ChurnSignal(models.Model):
    """Something the purchase model cannot see that says a customer may leave: an unhappy survey answer, an open
    complaint. Raised by higher apps (feedback) through ``scoring.services.churn_signal_raise``; while not cleared it
    adds ``weight`` to the customer's churn risk and its reason to the score's reasons."""

    class Kind(models.TextChoices):
        DETRACTOR = "detractor", _("Detractor answer")
        LOW_SATISFACTION = "low_satisfaction", _("Low satisfaction")
        COMPLAINT = "complaint", _("Open complaint")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="churn_signals")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    source = models.CharField(max_length=64, help_text=_("what raised it, e.g. feedback.response:42"))
    detail = models.CharField(max_length=200, blank=True)
    weight = models.FloatField(default=0.1)
    raised_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["kind", "source"], name="churn_signal_once_per_source"),
        ]
        indexes: ClassVar = [
            # The scoring run reads only the active signals; they are few beside a million customers.
            models.Index(fields=["customer"], condition=models.Q(cleared_at__isnull=True), name="churn_signal_active"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.source}"


class Backtest(models.Model):
    """The model judged on the shop's own history: fitted on the orders before ``cutoff``, its predictions for
    the holdout (``cutoff`` to the day it ran) compared with what happened. Nightly with the full run, or on the
    owner's demand with a cut-off of their choosing."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        REFUSED = "refused", _("Not possible")
        FAILED = "failed", _("Failed")

    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The full run it rode along with (nightly), if any.
    run = models.ForeignKey(ScoringRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="backtests")
    cutoff = models.DateField(_("cut-off"))
    # Why a backtest was not possible: a code put into words when shown (scoring.explain.reason_sentence).
    refusal = models.CharField(max_length=40, blank=True)
    refusal_detail = models.JSONField(default=dict)
    figures = models.JSONField(default=dict)
    seconds = models.FloatField(null=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"backtest {self.pk} {self.cutoff} {self.state}"

    @property
    def refusal_sentence(self) -> str:
        return reason_sentence(self.refusal, self.refusal_detail)
