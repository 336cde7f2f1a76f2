"""The owner's campaign editor: conditions as choices, the messages per language as plain fields."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from loyalty.campaigns.models import LANGUAGES, Campaign, Preset
from loyalty.forms import RuleForm
from loyalty.models import LoyaltyRule, RuleKind
from scoring.models import Tier

OFFER_KINDS = (RuleKind.WIN_BACK, RuleKind.NEXT_ORDER_COUPON, RuleKind.CUMULATIVE)
LANGUAGE_NAMES = {"ru": _("Russian"), "en": _("English")}
PLACEHOLDERS_HELP = _("Placeholders: {name}, {offer}, {code}, {expiry}, {link}.")


def _numbers(raw: str) -> list[float]:
    """ "60 %, 80" or "0.6; 0.8" as churn risks [0.6, 0.8]: a number above 1 or with a percent sign is a percent."""
    values = []
    for part in raw.replace(";", ",").split(","):
        text = part.strip()
        if not text:
            continue
        value = float(text.rstrip("% ").replace(" ", ""))
        if text.endswith("%") or value > 1:
            value /= 100
        if not 0 < value <= 1:
            raise forms.ValidationError(_("Each threshold is a churn risk between 0 and 1 (or 1–100 %)."))
        values.append(round(value, 4))
    return sorted(set(values))


class CampaignForm(forms.ModelForm):
    # The same conditions as a rule's, with the same labels and choices (forms copy their fields per instance).
    segments = RuleForm.base_fields["segments"]
    tiers = RuleForm.base_fields["tiers"]
    channels = RuleForm.base_fields["channels"]
    call_tiers = forms.MultipleChoiceField(
        label=_("Tiers called by an operator instead of a message"), choices=Tier.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    link_url = forms.URLField(
        label=_("Link to the shop"), required=False, assume_scheme="https",
        help_text=_("Where the tracked link in the message leads."),
    )  # fmt: skip
    tags_text = forms.CharField(label=_("Tags (comma-separated, any of them)"), required=False, max_length=500)
    thresholds_text = forms.CharField(
        label=_("Churn-risk thresholds (e.g. 60 %, 80 %)"), required=False, max_length=100,
        help_text=_("A customer enters again, with a bigger offer, each time their risk crosses the next one."),
    )  # fmt: skip

    class Meta:
        model = Campaign
        fields = (
            "name", "schedule", "rule", "offer_days", "send_channel", "churn_min", "churn_max", "days_min",
            "days_max", "order_kind", "budget", "control_share", "link_url",
        )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = LoyaltyRule.objects.filter(kind__in=OFFER_KINDS).order_by("name")  # type: ignore[attr-defined]
        campaign = self.instance
        # A preset's campaign may keep an empty name (its title is then the preset's label in each reader's
        # language); a campaign the owner writes needs one.
        self.fields["name"].required = campaign.preset == Preset.CUSTOM
        if not self.fields["name"].required:
            self.fields["name"].help_text = _("Leave empty to show the preset's name in each reader's language.")
        for name in ("segments", "tiers", "channels", "call_tiers"):
            self.initial.setdefault(name, getattr(campaign, name) or [])
        self.initial.setdefault("tags_text", ", ".join(campaign.tags or []))
        self.initial.setdefault("thresholds_text", ", ".join(f"{v * 100:g} %" for v in campaign.risk_thresholds or []))
        for language in LANGUAGES:
            template = campaign.template_for(language)
            label = LANGUAGE_NAMES[language]
            self.fields[f"subject_{language}"] = forms.CharField(
                label=_("Email subject (%(language)s)") % {"language": label}, max_length=200,
                initial=template.get("subject", ""),
            )  # fmt: skip
            self.fields[f"email_{language}"] = forms.CharField(
                label=_("Email text (%(language)s)") % {"language": label}, initial=template.get("email", ""),
                widget=forms.Textarea(attrs={"rows": 4}), help_text=PLACEHOLDERS_HELP, max_length=5000,
            )  # fmt: skip
            self.fields[f"sms_{language}"] = forms.CharField(
                label=_("SMS text (%(language)s)") % {"language": label}, initial=template.get("sms", ""),
                max_length=400, help_text=PLACEHOLDERS_HELP,
            )  # fmt: skip

    def clean_thresholds_text(self) -> list[float]:
        try:
            return _numbers(self.cleaned_data["thresholds_text"])
        except ValueError as error:
            raise forms.ValidationError(_("Write the thresholds as numbers, e.g. 60 %, 80 %.")) from error

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("churn_min"), data.get("churn_max")
        if low is not None and high is not None and low > high:
            self.add_error("churn_max", _("The upper churn risk must not be below the lower one."))
        low_days, high_days = data.get("days_min"), data.get("days_max")
        if low_days is not None and high_days is not None and low_days > high_days:
            self.add_error("days_max", _("The upper bound must not be below the lower one."))
        return data

    def apply(self) -> Campaign:
        """The instance with every field of the form set (not saved): saved by the service, or previewed."""
        campaign: Campaign = self.instance
        data = self.cleaned_data
        for name in ("segments", "tiers", "channels", "call_tiers"):
            setattr(campaign, name, sorted(data.get(name) or []))
        campaign.tags = sorted({tag.strip() for tag in (data.get("tags_text") or "").split(",") if tag.strip()})
        campaign.risk_thresholds = data.get("thresholds_text") or []
        campaign.templates = {
            language: {part: data.get(f"{part}_{language}", "") for part in ("subject", "email", "sms")}
            for language in LANGUAGES
        }
        return campaign


class CallDoneForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), max_length=500, required=False)
