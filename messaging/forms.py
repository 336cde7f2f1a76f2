from django import forms

from messaging.models import MessagingSettings


class MessagingSettingsForm(forms.ModelForm):
    """Quiet hours and the per-customer cap, which surveys and campaigns obey alike."""

    class Meta:
        model = MessagingSettings
        fields = ("quiet_from", "quiet_until", "cap_messages", "cap_days")
