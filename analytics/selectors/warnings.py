"""The early-warning list: customers whose churn risk rose since last month's snapshot, the most valuable first,
paged by keyset (value at stake, customer id; ``shop.paging``) so a deep page costs what the first one does."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.models import EarlyWarning
from customers.selectors import customers_by_ids
from feedback.selectors import open_follow_ups_for_customers
from scoring.selectors import last_succeeded_run, scores_for_customers
from shop.paging import keyset_page

PAGE_SIZE = 50
CURSOR_SALT = "analytics.warnings.cursor"


@dataclass
class WarningRow:
    warning: EarlyWarning
    customer: Any
    reasons: list[str]
    follow_up_id: int | None

    @property
    def rise_points(self) -> int:
        return round(self.warning.rise * 100)


@dataclass
class WarningPage:
    rows: list[WarningRow]
    next_cursor: str | None
    horizon_days: int | None


def _reasons(score: Any, horizon_days: int | None, days_silent: int) -> list[str]:
    reasons = list(score.churn_reason_lines) if score is not None else []
    if horizon_days is not None and days_silent > horizon_days:
        reasons.insert(
            0,
            _(
                "Silent well past the usual gap: %(days)s days since the last purchase, the shop's horizon is %(horizon)s."
            )
            % {"days": days_silent, "horizon": horizon_days},
        )
    return reasons


def warning_for(customer_id: int) -> EarlyWarning | None:
    return EarlyWarning.objects.filter(customer_id=customer_id).first()


def warning_rows(*, limit: int | None = None) -> list[EarlyWarning]:
    rows = EarlyWarning.objects.order_by("-value_at_stake", "-customer_id")
    return list(rows if limit is None else rows[:limit])


def warning_page(*, cursor: str | None = None, size: int = PAGE_SIZE) -> WarningPage:
    """A page of warnings with each customer, the reasons in the reader's language and an open follow-up if any."""
    page = keyset_page(
        EarlyWarning.objects.all(),
        column="value_at_stake",
        descending=True,
        cursor=cursor,
        salt=CURSOR_SALT,
        decode=Decimal,
        limit=size,
        tiebreak="customer_id",
    )
    warnings = page.rows
    ids = [warning.customer_id for warning in warnings]
    customers, scores = customers_by_ids(ids), scores_for_customers(ids)
    follow_ups = open_follow_ups_for_customers(ids)
    run = last_succeeded_run()
    horizon = run.horizon_days if run is not None else None
    today = timezone.localdate()
    rows = [
        WarningRow(
            warning=warning,
            customer=customers.get(warning.customer_id),
            reasons=_reasons(scores.get(warning.customer_id), horizon, (today - warning.last_purchase).days),
            follow_up_id=follow_ups[warning.customer_id][0].pk if follow_ups.get(warning.customer_id) else None,
        )
        for warning in warnings
    ]
    return WarningPage(rows=rows, next_cursor=page.next_cursor, horizon_days=horizon)
