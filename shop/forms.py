from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from shop.models import IntegrationToken, ShopSettings, User
from shop.roles import TOKEN_SCOPES, Capability, Role


class CrispyMixin:
    submit_label = _("Save")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label))


class ShopSettingsForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = ShopSettings
        fields = (
            "name",
            "currency",
            "time_zone",
            "phone_region",
            "gross_margin_percent",
            "monthly_discount_rate_percent",
            "language",
            "operator_cards_per_hour",
            "audit_retention_days",
            "managers_require_two_factor",
        )


class UserCreateForm(CrispyMixin, forms.ModelForm):
    submit_label = _("Create user")
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)

    class Meta:
        model = User
        fields = ("username", "first_name", "last_name", "email", "extension", "language")

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        validate_password(password, User(username=self.cleaned_data.get("username", "")))
        return password


class UserChangeForm(CrispyMixin, forms.ModelForm):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    class Meta:
        model = User
        fields = ("first_name", "last_name", "email", "extension", "language", "is_active")


class TokenCreateForm(CrispyMixin, forms.Form):
    submit_label = _("Create token")
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("Where the token is used, e.g. “Website”."))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        widget=forms.CheckboxSelectMultiple,
        choices=[(c.value, c.label) for c in Capability if c.value in TOKEN_SCOPES],
    )
    lookup_rate_per_second = forms.IntegerField(
        label=_("Lookups a second"),
        min_value=1,
        max_value=10000,
        initial=10,
        required=False,
        help_text=_("More caller lookups within one second are answered 429 with Retry-After."),
    )

    def clean_lookup_rate_per_second(self) -> int:
        # Left empty: the default every token starts with.
        return self.cleaned_data.get("lookup_rate_per_second") or 10

    sources = forms.CharField(
        label=_("Sources it may write"),
        required=False,
        max_length=300,
        help_text=_(
            "The order sources this token imports, separated by commas (e.g. “site, ozon”). Empty: only the "
            "source named after the token. It can never change another source's orders."
        ),
    )

    def clean_sources(self) -> list[str]:
        names = [name.strip() for name in self.cleaned_data["sources"].split(",") if name.strip()]
        for name in names:
            if slugify(name) != name or len(name) > 60:
                raise forms.ValidationError(
                    _("“%(name)s” is not a source name: use Latin letters, digits and hyphens.") % {"name": name}
                )
        return list(dict.fromkeys(names))


class TokenRateForm(forms.ModelForm):
    class Meta:
        model = IntegrationToken
        fields = ("lookup_rate_per_second",)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=[("ru", "Русский"), ("en", "English")])


class SecondFactorCodeForm(CrispyMixin, forms.Form):
    """A six-digit code from the authenticator app, or (at sign-in) a backup code."""

    submit_label = _("Confirm")
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "autocapitalize": "off"}),
    )

    def __init__(self, *args: Any, backup_allowed: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = (
            _("The six digits your authenticator app shows now, or one of your backup codes.")
            if backup_allowed
            else _("The six digits your authenticator app shows now.")
        )
        if not backup_allowed:
            self.fields["code"].widget.attrs["inputmode"] = "numeric"
