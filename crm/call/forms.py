from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import CallDirection, CallOutcome


class PhoneSearchForm(forms.Form):
    phone = forms.CharField(label=_("Phone number"), max_length=40)


class CallerCreateForm(forms.Form):
    """The one step an operator needs to take for an unknown caller."""

    phone = forms.CharField(label=_("Phone number"), max_length=40, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=255)
    email = forms.EmailField(label=_("Email"), required=False)
    city = forms.CharField(label=_("City"), max_length=120, required=False)


class PromptSelect(forms.Select):
    """A select whose empty first option is a prompt ("Choose the outcome…"): shown until a choice is made but
    never selectable, because the field refuses it."""

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if value == "":
            option["attrs"]["disabled"] = True
        return option


class CallLogForm(forms.Form):
    # A logged call has an outcome: "Not set" is what a call has before it is logged, not a choice to offer.
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("", _("Choose the outcome…")), *[choice for choice in CallOutcome.choices if choice[0]]],
        widget=PromptSelect(attrs={"class": "form-select", "required": True}),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control", "placeholder": _("What was it about?")}),
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=CallDirection.choices,
        initial=CallDirection.INBOUND,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
