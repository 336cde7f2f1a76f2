"""Pages of the customers app: the list, its CSV export, and the card's edit actions (the card itself is composed
in ``crm.card`` from the panels every app registers in ``customers.contrib``)."""

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from customers import selectors, services
from customers.contrib import extension_filters, list_extensions
from customers.forms import (
    ConsentForm,
    CustomerFilterForm,
    CustomerProfileForm,
    EmailAddForm,
    NoteForm,
    PhoneAddForm,
    TagAddForm,
)
from customers.models import Channel, Customer
from customers.selectors import CustomerFilters, parse_sort
from shop.csv_safety import SEPARATORS, csv_lines
from shop.permissions import capability_required
from shop.phones import format_phone
from shop.roles import Capability

PAGE_SIZE = 50
PAGE_SIZES = (25, 50, 100, 200)
EXPORT_BATCH = 2000

# Column headers of the list's own columns, in order: (sort key or "", label, numeric). Columns other apps add
# (customers.contrib) come after them.
COLUMNS: list[tuple[str, Any, bool]] = [
    ("name", gettext_lazy("Name"), False),
    ("", gettext_lazy("Phone"), False),
    ("", gettext_lazy("Tags"), False),
    ("orders", gettext_lazy("Orders"), True),
    ("total_spent", gettext_lazy("Total spent"), True),
    ("last_order", gettext_lazy("Last order"), False),
    ("created", gettext_lazy("Created"), False),
]


def _query(request: HttpRequest, **changes: str | None) -> str:
    """The current query string with some parameters replaced (``None`` removes one)."""
    query: QueryDict = request.GET.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    encoded = query.urlencode()
    return "?" + encoded if encoded else ""


def _filters_and_sort(request: HttpRequest) -> tuple[CustomerFilterForm, CustomerFilters, str]:
    form = CustomerFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    filters = form.filters()
    sort = (form.cleaned_data.get("sort") if form.is_bound else "") or _default_sort(filters)
    return form, filters, sort


def _default_sort(filters: CustomerFilters) -> str:
    """With no sort chosen: the order an active filter of another app asks for (the VIP tier by importance, the
    customers at risk by churn risk: what a person filtering so wants first, and the order that reads the filter's
    own index), else the newest last order."""
    registered = extension_filters()
    for name, _value in filters.extra:
        if name in registered and registered[name].default_sort:
            return registered[name].default_sort
    return selectors.DEFAULT_SORT


def _page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("size", PAGE_SIZE))
    except ValueError:
        return PAGE_SIZE
    return size if size in PAGE_SIZES else PAGE_SIZE


@capability_required(Capability.BROWSE)
def customer_list(request: HttpRequest) -> HttpResponse:
    form, filters, sort = _filters_and_sort(request)
    page = selectors.customer_list(filters, sort, request.GET.get("cursor"), _page_size(request))
    current_key, descending = parse_sort(sort)
    extra_columns = [column for extension in list_extensions() for column in extension.columns]
    headers = []
    for key, label, numeric in [*COLUMNS, *((column.sort, column.label, column.numeric) for column in extra_columns)]:
        header: dict[str, Any] = {"label": label, "numeric": numeric, "key": key, "active": key == current_key}
        if key:
            # A click on the active column turns it round; a new column starts with the biggest/newest first,
            # except the name, which people read from A.
            if key == current_key:
                next_sort = key if descending else "-" + key
            else:
                next_sort = key if key == "name" else "-" + key
            header["url"] = _query(request, sort=next_sort, cursor=None)
            header["descending"] = descending
        headers.append(header)
    context = {
        "form": form,
        "page": page,
        "headers": headers,
        "extra_cells": [extension.cells_template for extension in list_extensions() if extension.columns],
        "next_url": _query(request, cursor=page.next_cursor) if page.next_cursor else None,
        "previous_url": _query(request, cursor=page.previous_cursor) if page.previous_cursor else None,
        "export_url": reverse("customers:export") + _query(request, cursor=None, size=None, sep=None),
        "export_comma_url": reverse("customers:export") + _query(request, cursor=None, size=None, sep="comma"),
        "is_filtered": not filters.is_empty,
    }
    return render(request, "customers/customer_list.html", context)


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _amount(value: Decimal, decimal_comma: bool) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if decimal_comma else text


def _export_rows(filters: CustomerFilters, sort: str, decimal_comma: bool) -> Iterator[list[Any]]:
    export_columns = [column for extension in list_extensions() for column in extension.export_columns]
    yield [
        _("ID"),
        _("Name"),
        _("Phone"),
        _("Email"),
        _("City"),
        _("Channel"),
        _("UTM source"),
        _("UTM campaign"),
        _("Tags"),
        _("Orders"),
        _("Total spent"),
        _("First order"),
        _("Last order"),
        _("Created"),
        _("Email consent"),
        _("SMS consent"),
        *(str(column.header) for column in export_columns),
    ]
    channels = dict(Channel.choices)
    for batch in selectors.customer_batches(filters, sort, batch_size=EXPORT_BATCH):
        for customer in batch:
            yield [
                customer.pk,
                customer.name,
                getattr(customer, "primary_phone", None) or "",
                getattr(customer, "primary_email", None) or "",
                customer.city,
                str(channels.get(customer.channel, customer.channel)),
                customer.utm_source,
                customer.utm_campaign,
                ", ".join(tag.name for tag in customer.tags.all()),
                customer.orders_count,
                _amount(customer.total_spent, decimal_comma),
                _local(customer.first_order_at),
                _local(customer.last_order_at),
                _local(customer.created_at),
                customer.email_consent,
                customer.sms_consent,
                *(column.value(customer, decimal_comma) for column in export_columns),
            ]


@capability_required(Capability.EXPORT)
def customer_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV, streamed batch by batch so a million rows never sit in memory. Semicolons by
    default (what Russian Excel expects, with decimal commas); ``?sep=comma`` for everything else."""
    _form, filters, sort = _filters_and_sort(request)
    delimiter = SEPARATORS["comma"] if request.GET.get("sep") == "comma" else SEPARATORS["semicolon"]
    lines = csv_lines(_export_rows(filters, sort, decimal_comma=delimiter == ";"), delimiter=delimiter)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = f"customers-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Card edits: each is a form and one service call, then back to the card ---------------------------------------


def _editable_customer(request: HttpRequest, pk: int) -> Customer | HttpResponse:
    """The customer to edit, or a redirect when it was merged: edits go to the survivor, never to a shell."""
    customer = selectors.customer_for_user(request.user, pk)
    if customer.merged_into_id is not None:
        survivor = selectors.survivor_of(customer)
        messages.error(request, _("This customer was merged into another one; edit the survivor instead."))
        return redirect("customer_card", pk=survivor.pk)
    return customer


def _card(customer: Customer, anchor: str = "") -> HttpResponse:
    return redirect(reverse("customer_card", kwargs={"pk": customer.pk}) + (f"#{anchor}" if anchor else ""))


def _form_errors(request: HttpRequest, form: Any, field_tag: str = "") -> None:
    """Each error as a message; ``field_tag`` (``field-phone``) has the card show it under its form's field instead
    of at the top of the page, out of sight after the redirect to the form's section."""
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error, extra_tags=field_tag)


def _card_link(customer: Customer) -> str:
    return reverse("customer_card", kwargs={"pk": customer.pk})


@capability_required(Capability.BROWSE)
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    form = CustomerProfileForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        services.customer_update(customer=customer, **{name: form.cleaned_data[name] for name in form.Meta.fields})
        messages.success(request, _("Customer saved."))
        return _card(customer)
    return render(request, "customers/customer_edit.html", {"customer": customer, "form": form})


def _contact_add(
    request: HttpRequest,
    pk: int,
    form_class: type[forms.Form],
    add: Callable[[Customer, Any], object],
    taken: str,
    added: str,
) -> HttpResponse:
    """Add a phone or an email from the card: the form's one cleaned value goes to ``add``; a contact that belongs
    to another customer is refused with ``taken`` ({phone} or {email}, {url}, {name}) linking to that customer's card."""
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    form = form_class(request.POST)
    field_tag = f"field-{form_class.card_field}"  # type: ignore[attr-defined]
    if not form.is_valid():
        _form_errors(request, form, field_tag)
        return _card(customer, "contacts")
    (value,) = form.cleaned_data.values()
    try:
        add(customer, value)
    except services.ContactTakenError as error:
        messages.error(
            request,
            format_html(
                taken,
                phone=format_phone(error.value),
                email=error.value,
                url=_card_link(error.owner),
                name=error.owner.display_name,
            ),
            extra_tags=field_tag,
        )
    else:
        messages.success(request, added)
    return _card(customer, "contacts")


def _contact_remove(request: HttpRequest, pk: int, remove: Callable[[Customer], object], removed: str) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    remove(customer)
    messages.success(request, removed)
    return _card(customer, "contacts")


@require_POST
@capability_required(Capability.BROWSE)
def phone_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _contact_add(
        request,
        pk,
        PhoneAddForm,
        lambda customer, number: services.customer_phone_add(customer=customer, number=number),
        _('The phone {phone} already belongs to <a href="{url}">{name}</a>.'),
        _("Phone added."),
    )


@require_POST
@capability_required(Capability.BROWSE)
def phone_remove(request: HttpRequest, pk: int, phone_id: int) -> HttpResponse:
    return _contact_remove(
        request,
        pk,
        lambda customer: services.customer_phone_remove(customer=customer, phone_id=phone_id),
        _("Phone removed."),
    )


@require_POST
@capability_required(Capability.BROWSE)
def email_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _contact_add(
        request,
        pk,
        EmailAddForm,
        lambda customer, address: services.customer_email_add(customer=customer, address=address),
        _('The email {email} already belongs to <a href="{url}">{name}</a>.'),
        _("Email added."),
    )


@require_POST
@capability_required(Capability.BROWSE)
def email_remove(request: HttpRequest, pk: int, email_id: int) -> HttpResponse:
    return _contact_remove(
        request,
        pk,
        lambda customer: services.customer_email_remove(customer=customer, email_id=email_id),
        _("Email removed."),
    )


@require_POST
@capability_required(Capability.BROWSE)
def tag_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    form = TagAddForm(request.POST)
    if form.is_valid():
        tag = services.customer_tag_add(customer=customer, name=form.cleaned_data["name"])
        messages.success(request, _("Tag “%(name)s” added.") % {"name": tag.name})
    else:
        _form_errors(request, form)
    return _card(customer, "tags")


@require_POST
@capability_required(Capability.BROWSE)
def tag_remove(request: HttpRequest, pk: int, tag_id: int) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    services.customer_tag_remove(customer=customer, tag_id=tag_id)
    messages.success(request, _("Tag removed."))
    return _card(customer, "tags")


@require_POST
@capability_required(Capability.BROWSE)
def consent_set(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    form = ConsentForm(request.POST)
    if form.is_valid():
        services.customer_set_consent(
            customer_id=customer.pk,
            channel=form.cleaned_data["channel"],
            granted=form.cleaned_data["granted"],
            source=services.CONSENT_SOURCE_MANAGER,
        )
        messages.success(request, _("Consent updated."))
    else:
        _form_errors(request, form)
    return _card(customer, "consent")


@require_POST
@capability_required(Capability.BROWSE)
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    form = NoteForm(request.POST)
    if form.is_valid():
        services.note_add(customer=customer, author=request.user, text=form.cleaned_data["text"])
        messages.success(request, _("Note added."))
    else:
        _form_errors(request, form)
    return _card(customer, "timeline")


@capability_required(Capability.BROWSE)
def note_edit(request: HttpRequest, pk: int, note_id: int) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    note = selectors.note_for_customer(customer, note_id)
    form = NoteForm(request.POST or None, initial={"text": note.text}, show_label=True)
    if request.method == "POST" and form.is_valid():
        services.note_update(note=note, text=form.cleaned_data["text"])
        messages.success(request, _("Note saved."))
        return _card(customer, "timeline")
    return render(request, "customers/note_edit.html", {"customer": customer, "note": note, "form": form})
