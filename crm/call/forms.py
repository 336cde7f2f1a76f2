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


class CallLogForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=CallOutcome.choices, widget=forms.Select(attrs={"class": "form-select"})
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
