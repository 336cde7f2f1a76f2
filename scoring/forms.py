from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from scoring.engine.backtest import MIN_HOLDOUT_DAYS

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

# The owner's churn horizon: a week at least (shorter, and a customer's next order is not yet due), two years at
# most (longer, and a shop's history rarely holds a return to learn it from). The model's field keeps the same.
HORIZON_MIN_DAYS = 7
HORIZON_MAX_DAYS = 730


def _threshold(label: "str | _StrPromise") -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=100, widget=forms.NumberInput(attrs={"step": 1}))


class ScoringSettingsForm(forms.Form):
    """The lowest importance (0–100) of each tier (a customer at or above VIP's is VIP, and so on down to Low),
    and the churn horizon in days (empty: the run learns it from the shop's own gaps between purchases)."""

    vip_from = _threshold(_("VIP from"))
    high_from = _threshold(_("High from"))
    medium_from = _threshold(_("Medium from"))
    churn_horizon_days = forms.IntegerField(
        label=_("Churn horizon, days"),
        required=False,
        min_value=HORIZON_MIN_DAYS,
        max_value=HORIZON_MAX_DAYS,
        widget=forms.NumberInput(attrs={"step": 1, "placeholder": _("automatic")}),
        help_text=_("Empty: learnt by every run from this shop's gaps between purchases. 7–730 days."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        vip, high, medium = data.get("vip_from"), data.get("high_from"), data.get("medium_from")
        if vip is not None and high is not None and medium is not None and not medium <= high <= vip:
            raise forms.ValidationError(
                _("Tier thresholds must rise: Medium ≤ High ≤ VIP ≤ 100."), code="thresholds_order"
            )
        return data


class BacktestForm(forms.Form):
    """The cut-off of an on-demand backtest: the model is fitted on the orders before it and judged on the days from
    it to today, so it must leave at least ``MIN_HOLDOUT_DAYS`` to judge on."""

    cutoff = forms.DateField(label=_("Cut-off"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["cutoff"].widget.attrs["max"] = (today - timedelta(days=MIN_HOLDOUT_DAYS)).isoformat()

    def clean_cutoff(self) -> date:
        cutoff: date = self.cleaned_data["cutoff"]
        if cutoff >= self.today:
            raise forms.ValidationError(
                _("The cut-off must be in the past: the model is judged on what happened after it."),
                code="cutoff_not_past",
            )
        latest = self.today - timedelta(days=MIN_HOLDOUT_DAYS)
        if cutoff > latest:
            raise forms.ValidationError(
                _(
                    "The cut-off must be at least %(days)s days before today, so that there are weeks after it "
                    "to compare with: %(latest)s at the latest."
                )
                % {"days": MIN_HOLDOUT_DAYS, "latest": date_format(latest, "DATE_FORMAT")},
                code="cutoff_too_recent",
            )
        return cutoff
