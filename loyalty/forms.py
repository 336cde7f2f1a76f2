"""The owner's rule editor: conditions as choices, the kind's parameters as JSON checked by the engine's parser."""

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import Channel
from loyalty.engine.params import ParamsError, params_to_json, parse_params
from loyalty.models import LoyaltyRule
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
