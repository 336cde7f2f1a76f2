"""Tables that more than one page shows or exports (the reports and the owner's dashboard): one header, one row
shape, so the same figure carries the same label everywhere."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from analytics.selectors.cohorts import RepeatShareRow
from analytics.selectors.effect import ProgrammeResult, verdict_words

Table = tuple[Sequence[str], Iterable[Sequence[Any]]]


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"


def effect_header() -> list[str]:
    """The columns that close every programme-effect table: the uplift, its interval and the verdict."""
    return [
        _("Incremental margin after cost per treated customer"),
        # xgettext:no-python-format
        _("95% interval, from"),
        # xgettext:no-python-format
        _("95% interval, to"),
        _("Verdict"),
    ]


def effect_cells(result: ProgrammeResult) -> list[Any]:
    return [result.incremental, result.low, result.high, verdict_words(result)]


def programmes_table(results: Iterable[ProgrammeResult]) -> Table:
    """One row per programme: its groups' sizes, then the effect."""
    header = [_("Programme"), _("Treated"), _("Control"), *effect_header()]
    rows = [
        [result.name, result.treated.customers, result.control.customers, *effect_cells(result)] for result in results
    ]
    return header, rows


def repeat_share_table(shares: Iterable[RepeatShareRow]) -> Table:
    header = [_("Month"), _("Revenue"), _("From returning customers"), _("Share, %")]
    return header, [[month_label(row.month), row.revenue, row.repeat_revenue, row.share] for row in shares]
