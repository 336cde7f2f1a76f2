from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


def _threshold(label: "str | _StrPromise") -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=100, widget=forms.NumberInput(attrs={"step": 1}))


class TierThresholdsForm(forms.Form):
    """The lowest importance (0–100) of each tier; a customer at or above VIP's is VIP, and so on down to Low."""

    vip_from = _threshold(_("VIP from"))
    high_from = _threshold(_("High from"))
    medium_from = _threshold(_("Medium from"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        vip, high, medium = data.get("vip_from"), data.get("high_from"), data.get("medium_from")
        if vip is not None and high is not None and medium is not None and not medium <= high <= vip:
            raise forms.ValidationError(
                _("Tier thresholds must rise: Medium ≤ High ≤ VIP ≤ 100."), code="thresholds_order"
            )
        return data
