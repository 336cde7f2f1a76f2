"""Forms of the order pages: the list's filters and the manual status change."""

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Layout, Row, Submit
from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from orders.models import Order, OrderStatus
from orders.selectors import OrderFilters


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("Any status")), *OrderStatus.choices], required=False)
    source = forms.CharField(label=_("Source"), max_length=60, required=False)
    placed_from = forms.DateField(
        label=_("Placed from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    placed_to = forms.DateField(label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    customer = forms.IntegerField(label=_("Customer ID"), required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_id = "order-filters"
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column("status", css_class="col-md-2"),
                Column("source", css_class="col-md-2"),
                Column("placed_from", css_class="col-6 col-md-2"),
                Column("placed_to", css_class="col-6 col-md-2"),
                Column("customer", css_class="col-md-2"),
            ),
            Submit("", _("Show"), css_class="btn-primary"),
            HTML(format_html('<a class="btn btn-link" href="{}">{}</a>', reverse("orders:list"), _("Reset"))),
        )

    def filters(self) -> OrderFilters:
        data = self.cleaned_data if self.is_bound else {}
        return OrderFilters(
            status=data.get("status") or "",
            source=(data.get("source") or "").strip(),
            placed_from=data.get("placed_from"),
            placed_to=data.get("placed_to"),
            customer_id=data.get("customer"),
        )


class OrderStatusForm(forms.Form):
    """Every status but the current one is offered, the pipeline's next steps first: the pipeline, not the form,
    decides what is allowed, so a manager who picks an impossible one reads the service's reason."""

    status = forms.ChoiceField(label=_("New status"), choices=OrderStatus.choices)

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        status_field = self.fields["status"]
        assert isinstance(status_field, forms.ChoiceField)
        allowed = [(value, label) for value, label in OrderStatus.choices if order.can_move_to(value)]
        refused = [
            (value, label)
            for value, label in OrderStatus.choices
            if value != order.status and not order.can_move_to(value)
        ]
        choices: list[Any] = [("", "—")]
        if allowed:
            choices.append((_("Next in the pipeline"), allowed))
        if refused:
            choices.append((_("Not allowed from here"), refused))
        status_field.choices = choices
        self.helper = FormHelper()
        self.helper.form_id = "order-status"
        self.helper.add_input(Submit("submit", _("Change status")))
