"""The owner's loyalty rules and every change made to them."""

from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from loyalty.engine.params import Kind, ParamsError, parse_params
from shop.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS


def money_field(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs)


class RuleKind(models.TextChoices):
    CUMULATIVE = Kind.CUMULATIVE, _("Cumulative discount tiers")
    WIN_BACK = Kind.WIN_BACK, _("Win-back offer")
    NEXT_ORDER_COUPON = Kind.NEXT_ORDER_COUPON, _("Next-order coupon")
    STORE_CREDIT = Kind.STORE_CREDIT, _("Store credit (bonus)")
    REVIEW_REWARD = Kind.REVIEW_REWARD, _("Review reward")
    REFERRAL = Kind.REFERRAL, _("Referral programme")
    VIP_PERK = Kind.VIP_PERK, _("VIP perk")
    PROMO_BATCH = Kind.PROMO_BATCH, _("Promo code batch")


class Stacking(models.TextChoices):
    BEST = "best", _("Best single offer")
    STACK = "stack", _("Stack with others up to a maximum total %")


class OrderKind(models.TextChoices):
    ANY = "any", _("Any order")
    FIRST = "first", _("First order only")
    REPEAT = "repeat", _("Repeat orders only")


class LoyaltyRule(models.Model):
    """One programme the owner runs. Conditions are typed columns (lists of segments, tiers and channels as JSON,
    empty meaning "any"); the kind's parameters are JSON validated by ``loyalty.engine.params`` on every save, so
    a rule that the engine could not read never reaches the database."""

    # Empty for a rule a preset made: its title is then its kind's label, in the reader's language.
    name = models.CharField(pgettext_lazy("loyalty rule", "name"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=RuleKind.choices)
    params = models.JSONField(_("parameters"), default=dict)
    is_active = models.BooleanField(_("active"), default=False)

    segments = models.JSONField(_("RF segments"), default=list, blank=True)
    tiers = models.JSONField(_("importance tiers"), default=list, blank=True)
    channels = models.JSONField(_("acquisition channels"), default=list, blank=True)
    churn_min = models.FloatField(
        _("churn risk from"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    churn_max = models.FloatField(
        _("churn risk to"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    order_kind = models.CharField(_("orders"), max_length=10, choices=OrderKind.choices, default=OrderKind.ANY)
    min_order = money_field(_("minimum order"), null=True, blank=True)
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)

    budget_cap = money_field(_("budget cap"), null=True, blank=True)
    # What the rule has given away so far (discounts redeemed, credit and coupons issued): raised by a conditional
    # UPDATE that refuses to pass the cap, so two concurrent redemptions cannot both take the last of a budget.
    budget_spent = money_field(_("budget spent"), default=Decimal("0"), editable=False)
    stacking = models.CharField(_("stacking"), max_length=10, choices=Stacking.choices, default=Stacking.BEST)
    max_total_percent = models.DecimalField(
        _("maximum total discount %"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    control_share = models.DecimalField(
        _("control group share"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(Decimal("0.9"))],
        help_text=_("Share of eligible customers (0–0.9) who deliberately do not get the offer."),
    )

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("loyalty rule")
        verbose_name_plural = _("loyalty rules")
        ordering: ClassVar = ["name", "id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=models.Q(budget_spent__gte=0), name="loyalty_rule_spent_not_negative"),
            models.CheckConstraint(
                condition=models.Q(budget_cap__isnull=True) | models.Q(budget_spent__lte=models.F("budget_cap")),
                name="loyalty_rule_within_budget",
            ),
            models.CheckConstraint(
                condition=models.Q(control_share__gte=0) & models.Q(control_share__lte=Decimal("0.9")),
                name="loyalty_rule_control_share_range",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["is_active", "kind"], name="loyalty_rule_active_kind")]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        """The owner's name for the rule, else its kind's label in the active language."""
        return self.name or str(self.get_kind_display())

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        try:
            parse_params(self.kind, self.params)
        except ParamsError as error:
            raise ValidationError({"params": f"{error.field}: {error.message}"}) from error
        if self.churn_min is not None and self.churn_max is not None and self.churn_min > self.churn_max:
            raise ValidationError({"churn_max": _("The upper churn risk must not be below the lower one.")})
        if self.starts_on and self.ends_on and self.starts_on > self.ends_on:
            raise ValidationError({"ends_on": _("The end date must not be before the start date.")})

    @property
    def budget_left(self) -> Decimal | None:
        return None if self.budget_cap is None else max(self.budget_cap - self.budget_spent, Decimal("0"))


class LoyaltyRuleChange(models.Model):
    """Who changed a rule, when, and its fields before and after: the rule's audit trail, never rewritten."""

    rule = models.ForeignKey(LoyaltyRule, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    before = models.JSONField(null=True, help_text=_("Empty when the rule was created."))
    after = models.JSONField()

    class Meta:
        ordering: ClassVar = ["-changed_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["rule", "changed_at"], name="loyalty_rule_change_rule")]

    def __str__(self) -> str:
        return f"{self.rule_id} @ {self.changed_at:%Y-%m-%d %H:%M}"

    @property
    def changed_fields(self) -> list[str]:
        before = self.before or {}
        return sorted(key for key in self.after if before.get(key) != self.after.get(key))

    @property
    def diff(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for each field that changed."""
        before = self.before or {}
        return [(name, before.get(name), self.after.get(name)) for name in self.changed_fields]
