"""Each role's home page, composed from the apps' selectors and analytics' nightly figures: the owner's morning view
(value at stake, NPS trend, repeat revenue share, best and worst channel by payback, programmes' verdicts), the
manager's (open follow-ups, early warnings) and the operator's (missed calls to return, most valuable first, and
today's calls). Every figure links to its report and every table exports to a spreadsheet-safe CSV
(``?export=<table>``). Nothing here scans customers or orders: the dashboard loads on every sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.selectors.channels import ChannelRow, channel_rows
from analytics.selectors.cohorts import repeat_revenue_share
from analytics.selectors.dashboard import at_risk_value
from analytics.selectors.effect import programme_results, verdict_words
from analytics.selectors.warnings import warning_page
from analytics.tables import Table, month_label, programmes_table, repeat_share_table
from customers import calls as call_services
from feedback.selectors import UNRESOLVED, follow_up_counts, follow_ups, nps_by_month
from shop.models import ShopSettings

TREND_MONTHS = 12
LIST_ROWS = 10


@dataclass
class Dashboard:
    role: str
    context: dict[str, Any]
    tables: dict[str, Table]


def _payback_extremes(rows: list[ChannelRow]) -> tuple[ChannelRow | None, ChannelRow | None]:
    """The channel that paid back its CAC soonest, and the one that took longest or has not yet (channels with
    spend entered only)."""
    with_cac = [row for row in rows if row.cac is not None]
    if not with_cac:
        return None, None

    def months(row: ChannelRow) -> float:
        return float("inf") if row.payback_months is None else row.payback_months

    ranked = sorted(with_cac, key=lambda row: (months(row), row.channel))
    return ranked[0], ranked[-1] if len(ranked) > 1 else None


def owner_dashboard() -> Dashboard:
    shop = ShopSettings.load()
    since = (timezone.localdate().replace(day=1) - timedelta(days=31 * (TREND_MONTHS - 1))).replace(day=1)
    nps = nps_by_month(since=timezone.make_aware(datetime.combine(since, time.min)))
    shares = repeat_revenue_share(limit=TREND_MONTHS)
    best, worst = _payback_extremes(channel_rows(margin=shop.gross_margin))
    programmes = [(result, verdict_words(result)) for result in programme_results()]
    chart = {
        "nps_months": [month_label(row["bucket"]) for row in nps],
        "nps": [row["nps"] for row in nps],
        "share_months": [month_label(row.month) for row in shares],
        "share": [row.share for row in shares],
    }
    tables: dict[str, Table] = {
        "programmes": programmes_table(result for result, _words in programmes),
        "nps": ([_("Month"), _("Answers"), "NPS"], [[month_label(row["bucket"]), row["answers"], row["nps"]] for row in nps]),
        "repeat": repeat_share_table(shares),
    }  # fmt: skip
    context = {
        "at_risk": at_risk_value(),
        "nps": nps[-1] if nps else None,
        "share": shares[-1] if shares else None,
        "best": best,
        "worst": worst,
        "programmes": programmes,
        "chart": chart,
        "shop": shop,
    }
    return Dashboard(role="owner", context=context, tables=tables)


def manager_dashboard() -> Dashboard:
    queue = list(follow_ups(state=UNRESOLVED)[:LIST_ROWS])
    warnings = warning_page(size=LIST_ROWS)
    tables: dict[str, Table] = {
        "follow_ups": (
            [_("Customer"), _("State"), _("Due"), _("Reason")],
            [[row.customer.display_name, row.get_state_display(), row.due_at.isoformat(), _follow_up_cause(row)]
             for row in queue],
        ),
        "warnings": (
            [_("Customer"), _("Churn risk, %"), _("Rise, points"), _("Value at stake")],
            [[row.customer.display_name if row.customer else row.warning.customer_id,
              round(row.warning.churn_risk * 100), row.rise_points, row.warning.value_at_stake]
             for row in warnings.rows],
        ),
    }  # fmt: skip
    context = {"counts": follow_up_counts(), "queue": queue, "warnings": warnings, "shop": ShopSettings.load()}
    return Dashboard(role="manager", context=context, tables=tables)


def _follow_up_cause(row: Any) -> str:
    if row.response is None:
        return row.reason_text
    return _("Would recommend %(score)s/10") % {"score": row.response.recommend_score}


def missed_callers_by_value(limit: int) -> list[dict[str, Any]]:
    """Callers waiting for a call-back, the most valuable customers first, unknown numbers last (the missed-calls
    page and the operator's dashboard)."""
    rows = list(
        call_services.missed_callers()
        .annotate(importance=Max("customer__score__importance"), spent=Max("customer__total_spent"))
        .order_by(F("importance").desc(nulls_last=True), F("spent").desc(nulls_last=True), "-last_at")[:limit]
    )
    call_services.missed_callers_attach_customers(rows)
    return rows


def operator_dashboard(user: Any) -> Dashboard:
    callers = missed_callers_by_value(LIST_ROWS * 2)
    today = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    calls = call_services.calls_of_operator_since(user.pk, today)
    tables: dict[str, Table] = {
        "missed": (
            [_("Last call"), _("Customer"), _("Number"), _("Missed calls"), _("Importance")],
            [[row["last_at"].isoformat(), row["customer"].display_name if row["customer"] else "", row["number"],
              row["missed"], row["importance"]] for row in callers],
        ),
        "calls": (
            [_("Started"), _("Customer"), _("Number"), _("Direction"), _("Outcome")],
            [[call.started_at.isoformat(), call.customer.display_name if call.customer else "", call.phone,
              call.get_direction_display(), call.get_outcome_display()] for call in calls],
        ),
    }  # fmt: skip
    return Dashboard(role="operator", context={"callers": callers, "calls": calls}, tables=tables)
