"""The money reports (owners and managers: ``reports``) and the spend entry (owner: ``configure``). Each page reads
the monthly aggregates; every table exports to a spreadsheet-safe CSV with ``?export=<table>``."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analytics.effect.aggregate import WINDOWS
from analytics.forms import SpendForm, SpendUploadForm
from analytics.selectors import last_refresh
from analytics.selectors.channels import acquired_by_month, campaign_rows, channel_labels, channel_rows, spend_rows
from analytics.selectors.cohorts import cohort_rows, repeat_revenue_share
from analytics.selectors.effect import programme_results, verdict_words, window_choice
from analytics.selectors.segments import segment_flows, segment_labels, segments_over_time
from analytics.selectors.warnings import warning_for, warning_page, warning_rows
from analytics.services import SpendFileError, spend_file_parse, spend_import, spend_save
from analytics.tables import Table, effect_cells, effect_header, month_label, repeat_share_table
from customers.selectors import customer_for_user
from feedback.services import follow_up_open_for_warning
from loyalty.campaigns.selectors import win_back_campaigns
from loyalty.campaigns.services import NotAdded, win_back_add
from shop.audit import audit_record
from shop.csv_safety import csv_lines
from shop.models import AuditKind, ShopSettings
from shop.permissions import capability_required, user_can
from shop.queueing import task_queue_on_commit
from shop.roles import Capability

REPORT_PAGES = frozenset({"channels", "cohorts", "segments", "warnings", "effect"})


def _csv(request: HttpRequest, name: str, table: Table) -> StreamingHttpResponse:
    """A report's table as CSV; the download is recorded in the audit log."""
    audit_record(kind=AuditKind.EXPORT, user=request.user, request=request, detail={"what": name})
    header, rows = table
    response = StreamingHttpResponse(csv_lines([header, *rows]), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


@capability_required(Capability.REPORTS)
def channels(request: HttpRequest) -> HttpResponseBase:
    shop = ShopSettings.load()
    rows = channel_rows(margin=shop.gross_margin)
    campaigns = campaign_rows(margin=shop.gross_margin)
    months, acquired = acquired_by_month()
    labels = channel_labels()
    tables: dict[str, Table] = {
        "channels": (
            [_("Channel"), _("Customers"), _("Realised LTV per customer"), _("Predicted 12-month margin per customer"),
             _("Repeat-purchase rate, %"), _("Still active, %"), _("Spend"), _("CAC"), _("Payback, months")],
            [[row.label, row.customers, row.realised_ltv, row.predicted_per_customer, row.repeat_rate,
              row.active_share, row.spend, row.cac, row.payback_months] for row in rows],
        ),
        "campaigns": (
            [_("Channel"), _("UTM campaign"), _("Customers"), _("Realised LTV per customer"),
             _("Predicted 12-month margin per customer"), _("Repeat-purchase rate, %"), _("Still active, %")],
            [[row.label, row.campaign, row.customers, row.realised_ltv,
              row.predicted_per_customer, row.repeat_rate, row.active_share] for row in campaigns],
        ),
        "acquired": (
            [_("Month"), *[str(labels.get(channel, channel)) for channel in acquired]],
            [[month_label(month), *[acquired[channel][index] for channel in acquired]]
             for index, month in enumerate(months)],
        ),
    }  # fmt: skip
    if request.GET.get("export") in tables:
        return _csv(request, f"analytics-{request.GET['export']}", tables[request.GET["export"]])
    longest = max((len(row.curve) for row in rows), default=0)
    chart = {
        "offsets": list(range(longest)),
        "channels": [
            {"label": row.label, "curve": [float(value) for value in row.curve], "cac": float(row.cac)}
            for row in rows
            if row.cac is not None
        ],
        "months": [month_label(month) for month in months],
        "acquired": [{"label": str(labels.get(channel, channel)), "data": data} for channel, data in acquired.items()],
    }
    context = {"rows": rows, "campaigns": campaigns, "chart": chart, "shop": shop, "refresh": last_refresh()}
    return render(request, "analytics/channels.html", context)


@capability_required(Capability.REPORTS)
def cohorts(request: HttpRequest) -> HttpResponseBase:
    shop = ShopSettings.load()
    rows = cohort_rows(margin=shop.gross_margin, today=timezone.localdate())
    shares = repeat_revenue_share()
    longest = max((len(row.retention) for row in rows), default=0)
    offsets = list(range(longest))
    tables: dict[str, Table] = {
        "retention": (
            [_("Cohort"), _("Customers"), *[str(offset) for offset in offsets]],
            [[month_label(row.month), row.customers, *row.retention] for row in rows],
        ),
        "margin": (
            [_("Cohort"), _("Customers"), *[str(offset) for offset in offsets]],
            [[month_label(row.month), row.customers, *row.cumulative_margin] for row in rows],
        ),
        "repeat": repeat_share_table(shares),
    }
    if request.GET.get("export") in tables:
        return _csv(request, f"analytics-cohorts-{request.GET['export']}", tables[request.GET["export"]])
    chart = {"months": [month_label(row.month) for row in shares], "share": [row.share for row in shares]}
    context = {"rows": rows, "offsets": offsets, "shares": shares, "chart": chart, "refresh": last_refresh()}
    return render(request, "analytics/cohorts.html", context)


def _parse_month(text: str | None) -> date | None:
    try:
        return date.fromisoformat(f"{text}-01") if text else None
    except ValueError:
        return None


@capability_required(Capability.REPORTS)
def segments(request: HttpRequest) -> HttpResponseBase:
    over_time = segments_over_time()
    flows = segment_flows(month=_parse_month(request.GET.get("month")))
    segments_by_value = segment_labels()
    labels = {"": _("Not scored"), **segments_by_value}
    segment_order = ["", *segments_by_value]
    month_labels = [month_label(month) for month in over_time.months]
    tables: dict[str, Table] = {
        "segments": ([_("Segment"), *month_labels], [[label, *counts] for _v, label, counts in over_time.by_segment]),
        "tiers": ([_("Tier"), *month_labels], [[label, *counts] for _v, label, counts in over_time.by_tier]),
        "flows": (
            [_("From"), _("To"), _("Customers")],
            [
                [labels[source], labels[target], count]
                for source in segment_order
                for target, count in sorted(flows.matrix.get(source, {}).items())
            ],
        ),
    }
    if request.GET.get("export") in tables:
        return _csv(request, f"analytics-segments-{request.GET['export']}", tables[request.GET["export"]])
    matrix = [
        (labels[source], [flows.matrix.get(source, {}).get(target, 0) for target in segments_by_value])
        for source in segment_order
        if source in flows.matrix
    ]
    chart = {
        "months": month_labels,
        "segments": [{"label": label, "data": counts} for _v, label, counts in over_time.by_segment],
    }
    context = {
        "over_time": over_time,
        "month_labels": month_labels,
        "flows": flows,
        "matrix": matrix,
        "targets": list(segments_by_value.values()),
        "chart": chart,
        "refresh": last_refresh(),
    }
    return render(request, "analytics/segments.html", context)


@capability_required(Capability.REPORTS)
def warnings(request: HttpRequest) -> HttpResponseBase:
    if request.GET.get("export") == "warnings":
        table: Table = (
            [_("Customer"), _("Churn risk, %"), _("Last month, %"), _("Rise, points"), _("Value at stake"),
             _("Last purchase")],
            [[row.customer_id, round(row.churn_risk * 100), round(row.previous_churn_risk * 100),
              round(row.rise * 100), row.value_at_stake, row.last_purchase.isoformat()] for row in warning_rows()],
        )  # fmt: skip
        return _csv(request, "analytics-early-warnings", table)
    page = warning_page(cursor=request.GET.get("cursor"))
    context = {
        "page": page, "refresh": last_refresh(), "shop": ShopSettings.load(), "win_back": win_back_campaigns()
    }  # fmt: skip
    return render(request, "analytics/warnings.html", context)


@capability_required(Capability.REPORTS)
def effect(request: HttpRequest) -> HttpResponseBase:
    window = window_choice(request.GET.get("window"))
    results = programme_results(window_days=window)
    if request.GET.get("export") == "effect":
        header = [
            _("Programme"),
            _("Group"),
            _("Customers"),
            _("Bought in the window, %"),
            _("Orders per customer"),
            _("Margin per customer"),
            _("Cost per customer"),
            _("Net per customer"),
            *effect_header(),
        ]
        rows = [
            [result.name, label, group.customers, group.repeat_rate, group.orders_per_customer,
             group.margin_per_customer, group.cost_per_customer, group.net_per_customer, *effect_cells(result)]
            for result in results
            for label, group in ((_("Treated"), result.treated), (_("Control"), result.control))
        ]  # fmt: skip
        return _csv(request, f"analytics-effect-{window}d", (header, rows))
    chart = {
        "labels": [result.name for result in results],
        "incremental": [float(result.incremental) for result in results],
        "low": [float(result.low) if result.low is not None else None for result in results],
        "high": [float(result.high) if result.high is not None else None for result in results],
    }
    context = {
        "results": [(result, verdict_words(result)) for result in results],
        "window": window,
        "windows": WINDOWS,
        "chart": chart,
        "refresh": last_refresh(),
        "shop": ShopSettings.load(),
    }
    return render(request, "analytics/effect.html", context)


@require_POST
@capability_required(Capability.REPORTS)
def warning_follow_up(request: HttpRequest, customer_id: int) -> HttpResponse:
    """One click on the early-warning list: a follow-up for the customer, with the warning as its reason (the same
    one again while it is unresolved). Handling follow-ups is a browsing capability as well."""
    if not user_can(request.user, Capability.BROWSE):
        raise PermissionDenied
    customer = customer_for_user(request.user, customer_id)
    warning = warning_for(customer.pk)
    if warning is None:
        messages.error(request, _("This customer is no longer on the early-warning list."))
        return redirect("analytics:warnings")
    follow_up, created = follow_up_open_for_warning(
        customer_id=customer.pk,
        churn_risk_before=warning.previous_churn_risk,
        churn_risk_now=warning.churn_risk,
        opened_by=request.user,  # type: ignore[arg-type]
    )
    messages.success(request, _("Follow-up opened.") if created else _("This customer already has an open follow-up."))
    return redirect("feedback:follow_up", pk=follow_up.pk)


@require_POST
@capability_required(Capability.REPORTS)
def warning_win_back(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The second click on the early-warning list: the customer into the chosen active win-back campaign, processed
    at once as its run would (control group, consent, message cap, budget); the page says what happened."""
    if not user_can(request.user, Capability.BROWSE):
        raise PermissionDenied
    customer = customer_for_user(request.user, customer_id)
    try:
        campaign_id = int(request.POST.get("campaign", ""))
    except ValueError:
        campaign_id = 0
    try:
        recipient = win_back_add(user=request.user, campaign_id=campaign_id, customer_id=customer.pk)
    except NotAdded as refusal:
        messages.error(request, str(refusal))
        return redirect("analytics:warnings")
    # The recipient's status says what happened: queued, an operator's call, control (nothing sent), capped…
    outcome = {"campaign": recipient.campaign.title, "status": recipient.get_status_display()}
    messages.success(request, _("Added to the campaign “%(campaign)s”: %(status)s.") % outcome)
    return redirect("analytics:warnings")


@capability_required(Capability.CONFIGURE)
def spend(request: HttpRequest) -> HttpResponse:
    form = SpendForm(request.POST if request.POST.get("action") == "save" else None)
    upload = SpendUploadForm(
        request.POST if request.POST.get("action") == "upload" else None,
        request.FILES if request.POST.get("action") == "upload" else None,
    )
    errors: list[str] = []
    if request.method == "POST" and form.is_bound and form.is_valid():
        spend_save(user=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        messages.success(request, _("Spend saved."))
        return redirect("analytics:spend")
    if request.method == "POST" and upload.is_bound and upload.is_valid():
        try:
            lines = spend_file_parse(upload.cleaned_data["file"].read())
        except SpendFileError as error:
            errors = error.errors
        else:
            count = spend_import(lines=lines, user=request.user)  # type: ignore[arg-type]
            messages.success(request, _("%(count)s spend lines saved.") % {"count": count})
            return redirect("analytics:spend")
    context = {"form": form, "upload": upload, "errors": errors, "rows": spend_rows(), "shop": ShopSettings.load()}
    return render(request, "analytics/spend.html", context, status=400 if errors else 200)


@require_POST
@capability_required(Capability.REPORTS)
def refresh(request: HttpRequest) -> HttpResponse:
    task_queue_on_commit("analytics.refresh")
    messages.success(request, _("The reports are being refreshed; reload the page in a minute."))
    page = request.POST.get("page", "")
    return redirect(f"analytics:{page}" if page in REPORT_PAGES else "analytics:channels")
