"""A backtest's figures as the model page shows them: rows for its tables, data for its charts, its verdict in
words, each in the reader's language. Built when shown from the stored figures (``scoring.engine.backtest``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scoring.engine.backtest import CONDITIONAL_GROUPS, WEEK_DAYS
from scoring.explain import verdict_sentences
from scoring.models import Backtest


def _number(value: Any) -> float | None:
    """A stored figure, or None where there is none (a ranking with nobody, or everybody, buying again is NaN)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _percent(share: Any) -> float | None:
    number = _number(share)
    return None if number is None else round(100 * number, 1)


@dataclass(frozen=True)
class CaptureRow:
    share: int
    importance: float | None
    spent: float | None
    random: float | None


@dataclass(frozen=True)
class ConditionalRow:
    label: str
    customers: int
    actual: float | None
    predicted: float | None


@dataclass
class BacktestReport:
    """What the owner reads of one succeeded backtest."""

    backtest: Backtest
    customers: int
    holdout_days: int
    reliable: bool
    verdict_lines: list[str]
    actual_total: float
    predicted_total: float
    difference_percent: float | None
    conditional: list[ConditionalRow]
    capture: list[CaptureRow]
    auc: float | None
    recency_auc: float | None
    predicted_share: float | None
    actual_share: float | None
    chart: dict[str, Any] = field(default_factory=dict)

    @property
    def period_sentence(self) -> str:
        return ngettext(
            "Fitted on the orders before %(cutoff)s (%(customers)s customers had bought by then) and judged on the "
            "%(days)s day after it.",
            "Fitted on the orders before %(cutoff)s (%(customers)s customers had bought by then) and judged on the "
            "%(days)s days after it.",
            self.holdout_days,
        ) % {
            "cutoff": date_format(self.backtest.cutoff, "DATE_FORMAT"),
            "customers": number_format(self.customers, force_grouping=True),
            "days": self.holdout_days,
        }

    @property
    def totals_sentence(self) -> str:
        figures = {
            "actual": number_format(round(self.actual_total), force_grouping=True),
            "predicted": number_format(round(self.predicted_total), force_grouping=True),
        }
        if self.difference_percent is None:
            return _("Repeat purchases after the cut-off: none happened, %(predicted)s predicted.") % figures
        sign = "+" if self.difference_percent > 0 else ""
        figures["difference"] = sign + number_format(self.difference_percent, 1)
        return (
            _("Repeat purchases after the cut-off: %(actual)s happened, %(predicted)s predicted (%(difference)s%%).")
            % figures
        )


def _conditional(figures: dict[str, Any]) -> list[ConditionalRow]:
    rows = []
    for row in figures.get("conditional", []):
        group = int(row["repeat_purchases"])
        rows.append(
            ConditionalRow(
                label=f"{group}+" if group == CONDITIONAL_GROUPS - 1 else str(group),
                customers=int(row["customers"]),
                actual=_number(row.get("actual")),
                predicted=_number(row.get("predicted")),
            )
        )
    return rows


def _capture(figures: dict[str, Any]) -> list[CaptureRow]:
    return [
        CaptureRow(
            share=int(row["share"]),
            importance=_percent(row.get("importance")),
            spent=_percent(row.get("spent")),
            random=_percent(row.get("random")),
        )
        for row in figures.get("capture", [])
    ]


def _week_labels(cutoff: date, weeks: int) -> list[str]:
    """Each holdout week by the day it starts."""
    return [date_format(cutoff + timedelta(days=WEEK_DAYS * week), "SHORT_DATE_FORMAT") for week in range(weeks)]


def _chart(backtest: Backtest, capture: list[CaptureRow]) -> dict[str, Any]:
    figures = backtest.figures
    weekly = figures.get("weekly", {})
    actual, predicted = weekly.get("actual", []), weekly.get("predicted", [])
    roc = figures.get("churn", {}).get("roc", [])
    return {
        "tracking": {
            "labels": _week_labels(backtest.cutoff, len(actual)),
            "actual": actual,
            "predicted": predicted,
            "names": {
                "actual": _("Actual repeat purchases"),
                "predicted": _("Predicted (BG/NBD)"),
                "x": _("Week starting"),
                "y": _("Repeat purchases"),
            },
        },
        "capture": {
            "labels": [_("Top %(share)s%%") % {"share": row.share} for row in capture],
            "importance": [row.importance for row in capture],
            "spent": [row.spent for row in capture],
            "random": [row.random for row in capture],
            "names": {
                "importance": _("By importance"),
                "spent": _("By total spent"),
                "random": _("At random"),
                "y": _("Share of the later revenue, %"),
            },
        },
        "roc": {
            "points": [{"x": point[0], "y": point[1]} for point in roc],
            "names": {
                "curve": _("Churn risk"),
                "diagonal": _("A coin toss"),
                "x": _("Of those who bought again: share ranked at risk"),
                "y": _("Of those who did not: share ranked at risk"),
            },
        },
    }


def backtest_report(backtest: Backtest) -> BacktestReport | None:
    """The report of a succeeded backtest; None for one refused, failed or not finished."""
    figures = backtest.figures
    if backtest.state != Backtest.State.SUCCEEDED or not figures:
        return None
    totals = figures.get("repeat_purchases", {})
    actual_total, predicted_total = float(totals.get("actual", 0)), float(totals.get("predicted", 0))
    churn = figures.get("churn", {})
    verdict = figures.get("verdict", {})
    capture = _capture(figures)
    return BacktestReport(
        backtest=backtest,
        customers=int(figures.get("customers", 0)),
        holdout_days=int(figures.get("holdout_days", 0)),
        reliable=bool(verdict.get("reliable")),
        verdict_lines=verdict_sentences(verdict),
        actual_total=actual_total,
        predicted_total=predicted_total,
        difference_percent=round(100 * (predicted_total - actual_total) / actual_total, 1) if actual_total else None,
        conditional=_conditional(figures),
        capture=capture,
        auc=_number(churn.get("auc")),
        recency_auc=_number(churn.get("recency_auc")),
        predicted_share=_percent(churn.get("predicted_share")),
        actual_share=_percent(churn.get("actual_share")),
        chart=_chart(backtest, capture),
    )
