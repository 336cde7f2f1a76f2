"""Forms of the customers pages: the list's filters and the card's edits. Each edit form feeds one service call."""

import re
from typing import Any

from crispy_forms.bootstrap import FieldWithButtons, StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Field, Layout, Row, Submit
from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from customers.contacts import EmailError, normalize_email
from customers.contrib import extension_filters, list_extensions
from customers.models import Channel, ConsentChannel, Customer, Tag
from customers.search import SearchKind
from customers.selectors import CustomerFilters, is_valid_sort, tag_choices
from shop.models import ShopSettings
from shop.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from shop.phones import PhoneError, normalize_phone

# A search made only of digits and phone punctuation is a phone number, whatever way it is written.
PHONE_LIKE = re.compile(r"^[\d\s()+\-.]+$")


class CustomerFilterForm(forms.Form):
    """The list's search and filters, read from the query string (GET): a filtered list is a link to share."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("Name, phone, email or order number"), "type": "search"}),
    )
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=Tag.objects.none(), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", _("Any channel")), *Channel.choices], required=False)
    first_order_from = forms.DateField(
        label=_("First order from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    first_order_to = forms.DateField(label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    last_order_from = forms.DateField(
        label=_("Last order from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    last_order_to = forms.DateField(label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    orders_min = forms.IntegerField(label=_("Orders from"), required=False, min_value=0)
    orders_max = forms.IntegerField(label=_("to"), required=False, min_value=0)
    spent_min = forms.DecimalField(
        label=_("Spent from"),
        required=False,
        min_value=0,
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
    )
    spent_max = forms.DecimalField(
        label=_("to"), required=False, min_value=0, max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tag_field = self.fields["tag"]
        assert isinstance(tag_field, forms.ModelChoiceField)
        tag_field.queryset = tag_choices()
        tag_field.empty_label = _("Any tag")
        # Filters other apps add (customers.contrib): scores' tier, segment and churn risk.
        self.extension_filters = extension_filters()
        for name, item in self.extension_filters.items():
            self.fields[name] = item.field()
        extension_rows = [
            Row(*(Column(name, css_class="col-6 col-md-3") for name in row))
            for extension in list_extensions()
            for row in extension.form_rows
        ]
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_id = "customer-filters"
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column(Field("q", autofocus=True), css_class="col-md-6"),
                Column("tag", css_class="col-md-3"),
                Column("channel", css_class="col-md-3"),
            ),
            Row(
                Column("first_order_from", css_class="col-6 col-md-3"),
                Column("first_order_to", css_class="col-6 col-md-3"),
                Column("last_order_from", css_class="col-6 col-md-3"),
                Column("last_order_to", css_class="col-6 col-md-3"),
            ),
            Row(
                Column("orders_min", css_class="col-6 col-md-3"),
                Column("orders_max", css_class="col-6 col-md-3"),
                Column("spent_min", css_class="col-6 col-md-3"),
                Column("spent_max", css_class="col-6 col-md-3"),
            ),
            *extension_rows,
            "sort",
            Submit("", _("Show"), css_class="btn-primary"),
            HTML(format_html('<a class="btn btn-link" href="{}">{}</a>', reverse("customers:list"), _("Reset"))),
        )

    def clean_q(self) -> tuple[str, str]:
        """The search as ``(kind, value)``: a whole phone in any format → its E.164 form; a shorter number or one
        written with ``#`` → a phone's last digits or an order number; an email → lower-cased; else a name."""
        text = " ".join(self.cleaned_data["q"].split())
        if not text:
            return "", ""
        if "@" in text:
            return SearchKind.EMAIL, text.lower()
        if text.startswith("#"):
            return SearchKind.NUMBER, text
        if PHONE_LIKE.match(text) and any(ch.isdigit() for ch in text):
            try:
                return SearchKind.PHONE, normalize_phone(text, ShopSettings.load().phone_region)
            except PhoneError:
                return SearchKind.NUMBER, text
        return SearchKind.NAME, text

    def clean_sort(self) -> str:
        sort: str = self.cleaned_data["sort"]
        return sort if is_valid_sort(sort) else ""

    def filters(self) -> CustomerFilters:
        """The filters of a valid form; an invalid one filters by its valid fields only, so a typo in one box
        does not empty the page."""
        data = self.cleaned_data if self.is_bound else {}
        kind, search = data.get("q") or ("", "")
        if self.is_bound and "q" in self.errors:
            # A search the form refused (too long) finds nobody rather than silently showing everyone.
            kind, search = SearchKind.PHONE, str(self.data.get("q", ""))
        tag = data.get("tag")
        return CustomerFilters(
            search_kind=kind,
            search=search,
            tag_id=tag.pk if tag else None,
            channel=data.get("channel") or "",
            first_order_from=data.get("first_order_from"),
            first_order_to=data.get("first_order_to"),
            last_order_from=data.get("last_order_from"),
            last_order_to=data.get("last_order_to"),
            orders_min=data.get("orders_min"),
            orders_max=data.get("orders_max"),
            spent_min=data.get("spent_min"),
            spent_max=data.get("spent_max"),
            extra=tuple(
                (name, data[name]) for name in self.extension_filters if data.get(name) not in (None, "", False)
            ),
        )


class CardForm(forms.Form):
    """A small form on the card, posting to its own URL: one field and its button side by side."""

    submit_label: Any = _("Save")

    def __init__(self, *args: Any, action: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.form_class = "card-form mb-2"
        self.helper.form_show_labels = False
        field_name = next(iter(self.fields))
        self.helper.layout = Layout(
            FieldWithButtons(
                Field(field_name, css_class="form-control-sm"),
                StrictButton(self.submit_label, type="submit", css_class="btn-outline-primary btn-sm"),
            )
        )


class CustomerProfileForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ("name", "city", "address", "language")
        widgets = {"address": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save")))


class PhoneAddForm(CardForm):
    submit_label = _("Add phone")
    # The card shows this form's refusals under it (messages tagged ``field-phone``, templates/customers/card).
    card_field = "phone"
    number = forms.CharField(
        label=_("Phone"), max_length=40, widget=forms.TextInput(attrs={"placeholder": "+7 999 123-45-67"})
    )

    def clean_number(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["number"], ShopSettings.load().phone_region)
        except PhoneError as error:
            raise forms.ValidationError(str(error)) from error


class EmailAddForm(CardForm):
    submit_label = _("Add email")
    card_field = "email"
    address = forms.CharField(
        label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"placeholder": "name@example.com"})
    )

    def clean_address(self) -> str:
        try:
            return normalize_email(self.cleaned_data["address"])
        except EmailError as error:
            raise forms.ValidationError(str(error)) from error


class TagAddForm(CardForm):
    submit_label = _("Add tag")
    name = forms.CharField(
        label=_("Tag"),
        max_length=60,
        widget=forms.TextInput(attrs={"placeholder": _("An existing tag or a new one")}),
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("The tag name is empty."))
        return name


class ConsentForm(forms.Form):
    channel = forms.ChoiceField(choices=ConsentChannel.choices)
    granted = forms.TypedChoiceField(choices=[("1", "yes"), ("0", "no")], coerce=lambda value: value == "1")


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=5000,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": _("A note for colleagues: what was agreed, what to remember")}
        ),
    )

    def __init__(self, *args: Any, action: str = "", show_label: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.form_show_labels = show_label
        self.helper.add_input(Submit("submit", _("Save note"), css_class="btn-sm"))

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("The note is empty."))
        return text
