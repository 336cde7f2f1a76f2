"""Pages of the customers app: the list and its CSV export (the card's edit actions are in ``views_card``)."""

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers import selectors
from customers.contrib import extension_filters, list_extensions
from customers.forms import (
    CustomerFilterForm,
)
from customers.models import Channel
from customers.selectors import CustomerFilters, parse_sort
from shop.audit import audit_record
from shop.csv_safety import SEPARATORS, csv_lines
from shop.models import AuditKind
from shop.paging import page_links, page_size, query_with
from shop.permissions import capability_required
from shop.roles import Capability

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


@capability_required(Capability.BROWSE)
def customer_list(request: HttpRequest) -> HttpResponse:
    form, filters, sort = _filters_and_sort(request)
    page = selectors.customer_list(filters, sort, request.GET.get("cursor"), page_size(request))
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
            header["url"] = query_with(request, sort=next_sort, cursor=None)
            header["descending"] = descending
        headers.append(header)
    context = {
        "form": form,
        "page": page,
        "headers": headers,
        "extra_cells": [extension.cells_template for extension in list_extensions() if extension.columns],
        **page_links(request, next_cursor=page.next_cursor, previous_cursor=page.previous_cursor),
        "export_url": reverse("customers:export") + query_with(request, cursor=None, size=None, sep=None),
        "export_comma_url": reverse("customers:export") + query_with(request, cursor=None, size=None, sep="comma"),
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
    audit_record(
        kind=AuditKind.EXPORT,
        user=request.user,
        request=request,
        detail={"what": "customers", "filters": request.GET.urlencode()[:500]},
    )
    delimiter = SEPARATORS["comma"] if request.GET.get("sep") == "comma" else SEPARATORS["semicolon"]
    lines = csv_lines(_export_rows(filters, sort, decimal_comma=delimiter == ";"), delimiter=delimiter)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = f"customers-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
