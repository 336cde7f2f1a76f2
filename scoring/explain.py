"""Scores in words, in the reader's language (built when shown, never stored): the one-line explanation, the churn
reasons, why the model fell back or a backtest was not possible, and the backtest's verdict.

Every sentence says exactly what its number is: "predicted margin", not "predicted", where the figure is the
discounted gross margin; "purchase days", where several orders on one day count once; "Top N %" only for the upper
half of the ranking.
"""

import re
from decimal import Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scoring.engine import survival
from scoring.engine.importance import standing
from shop.money import format_money

# Churn risk "rising": at least five percentage points above last month's snapshot. Daily refits move a steady
# customer's risk by a point or two over a month; five points is a change a person should notice.
RISING = 0.05


def churn_rising(churn: float | None, previous: float | None) -> bool:
    return churn is not None and previous is not None and churn - previous >= RISING


def standing_words(importance: int) -> str:
    """ "Top 3%" or "Bottom 10%": where the customer stands among all scored customers."""
    side, share = standing(importance)
    if side == "top":
        return _("Top %(share)s%%") % {"share": share}
    return _("Bottom %(share)s%%") % {"share": share}


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
    """One line a person reads in a second: “Top 3% · 14 purchase days · predicted margin 48 200 ₽ over 12 months
    · churn risk 62%, rising”. Without the model (``fitted`` false) the line says what the rank rests on instead;
    a churn risk may still be shown then (from the shop's own history, or raised by a complaint or returns)."""
    fitted = clv is not None if fitted is None else fitted
    parts = [
        standing_words(importance),
        ngettext("%(count)s purchase day", "%(count)s purchase days", transactions) % {"count": transactions},
    ]
    if clv is not None:
        parts.append(_("predicted margin %(value)s over 12 months") % {"value": format_money(Decimal(clv), currency)})
    if churn is not None:
        risk = _("churn risk %(percent)s%%") % {"percent": round(churn * 100)}
        parts.append(_("%(risk)s, rising") % {"risk": risk} if rising else risk)
    if not fitted:
        parts.append(_("no model yet: ranked by order value and the chance of a return"))
    return " · ".join(parts)


# How feedback stores a survey answer's figures in a churn signal's detail (feedback.services.answers): figures, not
# words, so the words are the reader's.
ANSWER_DETAIL = re.compile(r"^recommend (?P<score>\d+)/10, purchase (?P<product>\d+)/5, service (?P<service>\d+)/5$")


def _detail_in_words(detail: str) -> str:
    found = ANSWER_DETAIL.match(detail)
    if found is None:
        return detail
    return _("would recommend %(score)s/10, purchase %(product)s/5, service %(service)s/5") % found.groupdict()


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
            detail = _detail_in_words(reason.get("detail", ""))
            lines.append(_("%(signal)s: %(detail)s") % {"signal": label, "detail": detail} if detail else label)
    return lines


def reason_sentence(code: str, detail: dict[str, Any]) -> str:
    """Why the model fell back, or why a backtest was not possible, as a sentence. A reason stored as free text
    (runs recorded before reasons were codes) is shown as it is."""
    if not code:
        return ""
    sentences = {
        "few_customers": lambda d: (
            ngettext(
                "Only %(customers)s customer has a delivered order; the model needs at least %(minimum)s.",
                "Only %(customers)s customers have a delivered order; the model needs at least %(minimum)s.",
                d["customers"],
            )
            % d
        ),
        "few_repeaters": lambda d: (
            ngettext(
                "Only %(repeaters)s customer has bought on more than one day; the model needs at least %(minimum)s.",
                "Only %(repeaters)s customers have bought on more than one day; the model needs at least %(minimum)s.",
                d["repeaters"],
            )
            % d
        ),
        "bgnbd_no_maximum": lambda d: _(
            "The purchase model found no best fit for this shop's history: the search stopped before the "
            "likelihood reached its maximum."
        ),
        "gamma_gamma_no_maximum": lambda d: _(
            "The order-value model found no best fit for this shop's order values: the search stopped before the "
            "likelihood reached its maximum."
        ),
        "gamma_gamma_no_mean": lambda d: _(
            "The order-value model found that a few very large orders dominate, so average order value has no "
            "finite mean to predict from."
        ),
        "gamma_gamma_implausible": lambda d: _(
            "The order-value model could not tell customers' spending apart: its parameters ran to an extreme."
        ),
        "predictions_not_finite": lambda d: _("The fitted model could not compute a prediction for every customer."),
        "holdout_too_short": lambda d: (
            ngettext(
                "The cut-off leaves %(days)s day to compare with; a backtest needs at least %(minimum)s.",
                "The cut-off leaves %(days)s days to compare with; a backtest needs at least %(minimum)s.",
                d["days"],
            )
            % d
        ),
    }
    sentence = sentences.get(code)
    return sentence(detail) if sentence is not None else code


def verdict_sentences(verdict: dict[str, Any]) -> list[str]:
    """The backtest's verdict in words: what failed, one sentence each (empty when the model is reliable)."""
    lines = []
    for problem in verdict.get("problems", []):
        code = problem["code"]
        if code == "total_off":
            percent = abs(round(problem["error"] * 100))
            if problem["error"] > 0:
                lines.append(
                    _("Repeat purchases were predicted %(percent)s%% above what happened.") % {"percent": percent}
                )
            else:
                lines.append(
                    _("Repeat purchases were predicted %(percent)s%% below what happened.") % {"percent": percent}
                )
        elif code == "churn_unmeasured":
            lines.append(
                _(
                    "Everybody in the cohort bought again after the cut-off, or nobody did, so churn risk cannot be judged."
                )
            )
        elif code == "no_repeat_purchases":
            lines.append(_("Nobody bought again after the cut-off, so the predictions cannot be checked yet."))
        elif code == "weak_churn_ranking":
            lines.append(
                _(
                    "Churn risk told apart who would not buy again only weakly (ROC AUC %(auc)s; a coin toss "
                    "scores 0.5, and 0.7 is the least to act on)."
                )
                % {"auc": number_format(problem["auc"], 2)}
            )
        elif code == "ranking_below_spend":
            lines.append(
                _(
                    "The top %(share)s%% by importance brought less of the later revenue than the top %(share)s%% "
                    "by total spent."
                )
                % {"share": problem["share"]}
            )
    return lines


def _owner_horizon(days: int, figures: dict[str, Any], observed: int | None) -> str:
    """The owner set the horizon; the shop's own figure beside it when there is one."""
    sentence = (
        ngettext(
            "Churn risk is the probability of no purchase within %(days)s day, a horizon set by the owner.",
            "Churn risk is the probability of no purchase within %(days)s days, a horizon set by the owner.",
            days,
        )
        % figures
    )
    if observed is None:
        return sentence
    by_history = ngettext(
        "By this shop's own history it would be %(observed)s day.",
        "By this shop's own history it would be %(observed)s days.",
        observed,
    ) % {"observed": observed}
    return f"{sentence} {by_history}"


def _learned_horizon(days: int, figures: dict[str, Any], observed: int | None) -> str:
    """The horizon learned from the shop's gaps between purchases: rounded to the nearest horizon Retain uses when
    the gaps' percentile fell between two."""
    if observed is not None and observed != days:
        return ngettext(
            "Churn risk is the probability of no purchase within %(days)s day, the nearest horizon Retain "
            "uses: %(percentile)s%% of this shop's repeat purchases came within %(observed)s days of the "
            "previous one (%(seen)s repeat purchases seen).",
            "Churn risk is the probability of no purchase within %(days)s days, the nearest horizon Retain "
            "uses: %(percentile)s%% of this shop's repeat purchases came within %(observed)s days of the "
            "previous one (%(seen)s repeat purchases seen).",
            days,
        ) % (figures | {"observed": observed})
    return (
        ngettext(
            "Churn risk is the probability of no purchase within %(days)s day: %(percentile)s%% of this shop's "
            "repeat purchases came within %(days)s day of the previous one (%(seen)s repeat purchases seen).",
            "Churn risk is the probability of no purchase within %(days)s days: %(percentile)s%% of this shop's "
            "repeat purchases came within %(days)s days of the previous one (%(seen)s repeat purchases seen).",
            days,
        )
        % figures
    )


def horizon_sentence(params: dict[str, Any]) -> str:
    """What churn risk means for this run and where its horizon came from: the owner, the shop's own gaps between
    purchases, or the default when too few repeat purchases were seen. Empty for a run recorded before horizons."""
    days = params.get("horizon_days")
    source = params.get("horizon_source")
    if days is None or source is None:
        return ""
    seen = int(params.get("gaps_observed") or 0)
    figures = {
        "days": days,
        "percentile": survival.HORIZON_PERCENTILE,
        "seen": number_format(seen, force_grouping=True),
        "minimum": survival.MIN_GAPS,
    }
    observed = params.get("gap_percentile_days")
    if source == "owner":
        return _owner_horizon(days, figures, observed)
    if source == "gaps":
        return _learned_horizon(days, figures, observed)
    return (
        ngettext(
            "Churn risk is the probability of no purchase within %(days)s day, the default: too few repeat purchases "
            "seen to learn this shop's own (%(seen)s of the %(minimum)s needed).",
            "Churn risk is the probability of no purchase within %(days)s days, the default: too few repeat purchases "
            "seen to learn this shop's own (%(seen)s of the %(minimum)s needed).",
            days,
        )
        % figures
    )
