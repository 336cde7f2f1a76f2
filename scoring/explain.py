"""The one line that explains a score to a person, in the reader's language (built when shown, not stored)."""

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scoring.engine.importance import top_share
from shop.money import format_money

# Churn risk "rising": at least five percentage points above last month's snapshot. Daily refits move a steady
# customer's risk by a point or two over a month; five points is a change a person should notice.
RISING = 0.05


def churn_rising(churn: float | None, previous: float | None) -> bool:
    return churn is not None and previous is not None and churn - previous >= RISING


def explanation(
    importance: int,
    transactions: int,
    clv: Decimal | float | None,
    churn: float | None,
    currency: str,
    *,
    fitted: bool | None = None,
    rising: bool = False,
) -> str:
    """One line a person reads in a second: “Top 3% · 14 purchase days · predicted 48 200 ₽ next 12 months ·
    churn risk 62%, rising”. Without the model (``fitted`` false) the line says so; a churn risk may still be
    shown then, raised by signals (a complaint, returns) that do not need the model."""
    fitted = churn is not None if fitted is None else fitted
    parts = [
        _("Top %(share)s%%") % {"share": top_share(importance)},
        _("%(count)s purchase days") % {"count": transactions},
    ]
    if clv is not None:
        parts.append(_("predicted %(value)s next 12 months") % {"value": format_money(Decimal(clv), currency)})
    if churn is not None:
        risk = _("churn risk %(percent)s%%") % {"percent": round(churn * 100)}
        parts.append(_("%(risk)s, rising") % {"risk": risk} if rising else risk)
    if not fitted:
        parts.append(_("model not fitted: RF scores only"))
    return " · ".join(parts)


def reason_lines(reasons: list[Any], signal_labels: dict[str, str]) -> list[str]:
    """The stored churn reasons in words, in the reader's language: "Open complaint: late delivery", "2 returns in
    the last 90 days". ``signal_labels``: the signal kinds' names. A reason stored as text (a score written before
    reasons were stored as data) is shown as it is."""
    lines = []
    for reason in reasons:
        if isinstance(reason, str):
            lines.append(reason)
        elif "returns" in reason:
            count = int(reason["returns"])
            lines.append(
                ngettext("%(count)s return in the last 90 days", "%(count)s returns in the last 90 days", count)
                % {"count": count}
            )
        else:
            label = signal_labels.get(reason["signal"], reason["signal"])
            detail = reason.get("detail", "")
            lines.append(_("%(signal)s: %(detail)s") % {"signal": label, "detail": detail} if detail else label)
    return lines
