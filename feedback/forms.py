from django import forms
from django.utils.translation import gettext_lazy as _

from feedback.models import FeedbackSettings, FollowUpOutcome, FollowUpState

SATISFACTION = [(n, str(n)) for n in range(1, 6)]
RECOMMEND = [(n, str(n)) for n in range(0, 11)]


class SurveyForm(forms.Form):
    product_score = forms.TypedChoiceField(
        label=_("How satisfied are you with the purchase?"), choices=SATISFACTION, coerce=int, widget=forms.RadioSelect
    )
    service_score = forms.TypedChoiceField(
        label=_("How satisfied are you with our service?"), choices=SATISFACTION, coerce=int, widget=forms.RadioSelect
    )
    recommend_score = forms.TypedChoiceField(
        label=_("How likely are you to recommend us to friends?"),
        choices=RECOMMEND,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything to add? (optional)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FeedbackSettingsForm(forms.ModelForm):
    class Meta:
        model = FeedbackSettings
        fields = (
            "enabled",
            "timing_mode",
            "after_hours",
            "next_day_hour",
            "cap_days",
            "reminder_days",
            "link_days",
            "channel_preference",
            "follow_up_days",
        )


class FollowUpForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), choices=FollowUpState.choices)
    assignee = forms.TypedChoiceField(label=_("Assignee"), coerce=int, required=False, empty_value=None)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", "—"), *FollowUpOutcome.choices], required=False)
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: object, assignees: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["assignee"].choices = [("", "—"), *assignees]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("state") == FollowUpState.RESOLVED and not data.get("outcome"):
            self.add_error("outcome", _("Say how it was resolved."))
        return data
