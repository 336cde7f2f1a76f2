"""The one line that explains a score to a person, in the reader's language (built when shown, not stored)."""

from decimal import Decimal

from django.utils.translation import gettext as _

from scoring.engine.importance import top_share
from shop.money import format_money


def explanation(
    importance: int, transactions: int, clv: Decimal | float | None, churn: float | None, currency: str
) -> str:
    """One line a person reads in a second: “Top 3% · 14 orders · predicted 48 200 ₽ next 12 months · churn
    risk 62%”."""
    parts = [
        _("Top %(share)s%%") % {"share": top_share(importance)},
        _("%(count)s purchase days") % {"count": transactions},
    ]
    if clv is not None:
        parts.append(_("predicted %(value)s next 12 months") % {"value": format_money(Decimal(clv), currency)})
    if churn is not None:
        parts.append(_("churn risk %(percent)s%%") % {"percent": round(churn * 100)})
    else:
        parts.append(_("model not fitted: RF scores only"))
    return " · ".join(parts)
