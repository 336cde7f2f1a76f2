from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from analytics.services.spend import parse_month
from customers.models import Channel


class SpendForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    month = forms.CharField(label=_("Month"), help_text=_("For example 2026-03"), max_length=10)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=14, decimal_places=2)

    def clean_month(self) -> date:
        month = parse_month(self.cleaned_data["month"])
        if month is None:
            raise forms.ValidationError(_("Write the month as 2026-03."))
        return month


class SpendUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("Columns: month, channel, amount; ; or , between them."))
