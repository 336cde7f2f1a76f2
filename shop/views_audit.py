"""The owner's audit page: who signed in, looked up, opened, exported, erased and changed what; filterable, paged by
keyset, downloadable as a spreadsheet-safe CSV (which is itself recorded)."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from shop.audit import audit_record, limit_alerts
from shop.audit_text import audit_detail_text
from shop.csv_safety import csv_lines
from shop.models import AuditKind, IntegrationToken, User
from shop.paging import day_start, query_with
from shop.permissions import capability_required
from shop.roles import Capability
from shop.selectors import AuditFilters, audit_entries_after, audit_page, audit_queryset

PAGE_SIZE = 100
EXPORT_BATCH = 2000


class AuditFilterForm(forms.Form):
    user = forms.ModelChoiceField(
        label=gettext_lazy("User"), queryset=User.objects.order_by("username"), required=False
    )
    token = forms.ModelChoiceField(
        label=gettext_lazy("Token"), queryset=IntegrationToken.objects.order_by("name"), required=False
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("What"), choices=[("", gettext_lazy("Everything")), *AuditKind.choices], required=False
    )
    customer = forms.IntegerField(label=gettext_lazy("Customer #"), min_value=1, required=False)
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = f"{css} form-control-sm" if css == "form-control" else f"{css} form-select-sm"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The first day comes after the last one."))
        return data

    def filters(self) -> AuditFilters:
        """The chosen filters; days are whole days in the shop's time zone, both ends included."""
        if not self.is_bound or not self.is_valid():
            return AuditFilters()
        data = self.cleaned_data
        return AuditFilters(
            user_id=data["user"].pk if data.get("user") else None,
            token_id=data["token"].pk if data.get("token") else None,
            kind=data.get("kind") or "",
            customer_id=data.get("customer"),
            since=day_start(data["since"]) if data.get("since") else None,
            until=day_start(data["until"] + timedelta(days=1)) if data.get("until") else None,
        )


@never_cache
@capability_required(Capability.CONFIGURE)
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    page = audit_page(form.filters(), request.GET.get("cursor"), PAGE_SIZE)
    rows = [{"entry": entry, "detail": audit_detail_text(entry.detail)} for entry in page.rows]
    context = {
        "form": form,
        "rows": rows,
        "alerts": limit_alerts(),
        "next_url": query_with(request, cursor=page.next_cursor) if page.next_cursor else None,
        "previous_url": query_with(request, cursor=page.previous_cursor) if page.previous_cursor else None,
        "first_url": query_with(request, cursor=None) if request.GET.get("cursor") else None,
        "export_url": reverse("shop:audit_export") + query_with(request, cursor=None),
    }
    return render(request, "shop/audit.html", context)


def _export_rows(filters: AuditFilters) -> Iterator[list[Any]]:
    yield [_("When"), _("Who"), _("What"), _("Why"), _("Customer"), _("Address"), _("Details")]
    queryset = audit_queryset(filters)
    position = None
    while True:
        batch = list(audit_entries_after(queryset, position)[:EXPORT_BATCH])
        for entry in batch:
            yield [
                timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"),
                entry.actor,
                entry.get_kind_display(),
                entry.get_reason_display() if entry.reason else "",
                entry.customer_id,
                entry.ip or "",
                audit_detail_text(entry.detail),
            ]
        if len(batch) < EXPORT_BATCH:
            return
        position = (batch[-1].at, batch[-1].pk)


@never_cache
@capability_required(Capability.CONFIGURE)
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered log as CSV, newest first, read in keyset batches (never the whole log in memory); every cell a
    spreadsheet could run as a formula is neutralised (``shop.csv_safety``). The download is recorded first."""
    form = AuditFilterForm(request.GET or None)
    filters = form.filters()
    audit_record(
        kind=AuditKind.EXPORT,
        user=request.user,
        request=request,
        detail={"what": "audit log", **{k: v for k, v in request.GET.items() if k in form.fields and v}},
    )
    response = StreamingHttpResponse(csv_lines(_export_rows(filters)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.localdate():%Y-%m-%d}.csv"'
    return response
