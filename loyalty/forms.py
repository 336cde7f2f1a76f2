"""The owner's rule editor: conditions as choices, the kind's parameters as JSON checked by the engine's parser."""

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Channel
from loyalty.engine.params import ParamsError, params_to_json, parse_params
from loyalty.models import LoyaltyRule, RuleKind
from loyalty.services.codes import MAX_BATCH
from scoring.models import Segment, Tier

# What each kind's parameters look like, shown under the field and used as the starting value of a new rule.
PARAM_EXAMPLES: dict[str, dict[str, Any]] = {
    "cumulative": {"basis": "orders", "tiers": [[2, "3"], [5, "5"], [10, "10"]]},
    "win_back": {
        "value_kind": "percent",
        "curve": "linear",
        "risk_from": "0.5",
        "risk_to": "0.9",
        "value_from": "5",
        "value_to": "20",
        "risk_threshold": "0.5",
        "days_threshold": None,
        "clv_reference": None,
        "cap": "25",
    },
    "next_order_coupon": {"value_kind": "percent", "value": "10", "valid_days": 30},
    "store_credit": {"accrual_kind": "percent", "value": "5", "expires_days": 90, "max_share_percent": "30"},
    "review_reward": {"amount": "200", "expires_days": 90},
    "referral": {"referrer_amount": "500", "referee_amount": "300", "referee_percent": "10", "expires_days": 180},
    "vip_perk": {"perk": "free_delivery", "percent": "0", "note": ""},
    "promo_batch": {"value_kind": "percent", "value": "15"},
}


class RuleForm(forms.ModelForm):
    params = forms.CharField(
        label=_("Parameters (JSON)"),
        widget=forms.Textarea(attrs={"rows": 6, "class": "font-monospace"}),
        help_text=_('The kind\'s parameters; amounts as strings, e.g. "5" or "199.90".'),
    )
    segments = forms.MultipleChoiceField(
        label=_("RF segments"), choices=Segment.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any segment."),
    )  # fmt: skip
    tiers = forms.MultipleChoiceField(
        label=_("Importance tiers"), choices=Tier.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    channels = forms.MultipleChoiceField(
        label=_("Acquisition channels"), choices=Channel.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = LoyaltyRule
        fields = (
            "name", "kind", "params", "is_active", "segments", "tiers", "channels", "churn_min", "churn_max",
            "order_kind", "min_order", "starts_on", "ends_on", "budget_cap", "stacking", "max_total_percent",
            "control_share",
        )  # fmt: skip
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance
        # A rule a preset made may keep an empty name (its title is then its kind's label in each reader's
        # language); a rule the owner writes needs one.
        self.fields["name"].required = not (instance.pk and not instance.name)
        if not self.fields["name"].required:
            self.fields["name"].help_text = _("Leave empty to show the kind's name in each reader's language.")
        if instance.pk:
            self.initial["params"] = json.dumps(instance.params, ensure_ascii=False, indent=1)
        else:
            kind = self.initial.get("kind") or "cumulative"
            self.initial.setdefault("params", json.dumps(PARAM_EXAMPLES[kind], ensure_ascii=False, indent=1))

    def clean_params(self) -> Any:
        try:
            return json.loads(self.cleaned_data["params"])
        except json.JSONDecodeError as error:
            raise forms.ValidationError(_("Not valid JSON: %(error)s") % {"error": error.msg}) from error

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind, params = cleaned.get("kind"), cleaned.get("params")
        if kind and params is not None:
            try:
                cleaned["params"] = params_to_json(parse_params(kind, params))
            except ParamsError as error:
                self.add_error("params", f"{error.field}: {error.message}")
        return cleaned

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class PromoBatchForm(forms.Form):
    """A batch of promo codes for a promo-batch rule; the codes themselves are drawn by the service."""

    rule = forms.ModelChoiceField(label=_("Rule"), queryset=LoyaltyRule.objects.none())
    name = forms.CharField(label=_("Campaign"), max_length=120)
    count = forms.IntegerField(label=_("Number of codes"), min_value=1, max_value=MAX_BATCH, initial=100)
    code_prefix = forms.RegexField(
        label=_("Prefix"),
        regex=r"^[A-Za-z0-9]{0,10}$",
        required=False,
        max_length=10,
        help_text=_("Up to 10 Latin letters or digits before the random part, e.g. SPRING."),
        error_messages={"invalid": _("Use up to 10 Latin letters or digits.")},
    )
    uses_per_code = forms.IntegerField(label=_("Uses per code"), min_value=1, max_value=1_000_000, initial=1)
    uses_per_customer = forms.IntegerField(label=_("Uses per customer"), min_value=1, max_value=1000, initial=1)
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The last day the codes work; empty: no end date."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rules = LoyaltyRule.objects.filter(kind=RuleKind.PROMO_BATCH).order_by("-is_active", "name", "pk")
        self.fields["rule"].queryset = rules  # type: ignore[attr-defined]

    def clean_valid_until(self) -> date | None:
        day: date | None = self.cleaned_data.get("valid_until")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(_("The last valid day must not be in the past."))
        return day

    def valid_until_moment(self) -> datetime | None:
        """The end of the chosen day in local time: a code dated the 31st works all of the 31st."""
        day = self.cleaned_data.get("valid_until")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


class AdjustmentForm(forms.Form):
    """The owner's adjustment of one customer's credit: a signed amount and the reason, both required."""

    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=12,
        decimal_places=2,
        help_text=_("Positive adds credit, negative takes it off (never below zero)."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    expires_on = forms.DateField(
        label=_("Added credit expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The last day it can be spent; only for a positive amount; empty: it does not expire."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        amount, expires_on = cleaned.get("amount"), cleaned.get("expires_on")
        if expires_on is not None and amount is not None and amount < 0:
            self.add_error("expires_on", _("Only added credit has an expiry date."))
        if expires_on is not None and expires_on < timezone.localdate():
            self.add_error("expires_on", _("The expiry date must not be in the past."))
        return cleaned

    def expires_moment(self) -> datetime | None:
        """The end of the chosen day in local time, as for promo codes."""
        day = self.cleaned_data.get("expires_on")
        return None if day is None else timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
