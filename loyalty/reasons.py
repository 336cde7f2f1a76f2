"""The engine's reasons as sentences in the reader's language: each says exactly what its figure is."""

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from loyalty.engine.evaluate import Reason


def _percent(value: Any) -> str:
    if value is None:
        return "—"
    number = Decimal(str(value))
    return f"{number.normalize():f}" if number == number.to_integral() else f"{number:.2f}".rstrip("0").rstrip(".")


def _risk(value: Any) -> str:
    return "—" if value is None else str(round(float(value) * 100))


def reason_text(reason: Reason) -> str:
    p = reason.params
    texts: dict[str, Any] = {
        "tier_reached": lambda: (
            (
                _("%(percent)s%% off: %(from)s or more delivered orders")
                if p.get("basis") == "orders"
                else _("%(percent)s%% off: %(from)s or more spent on delivered orders")
            )
            % {"percent": _percent(p.get("percent")), "from": _percent(p.get("from"))}
        ),
        "below_first_tier": lambda: _("Below the first tier (from %(from)s)") % {"from": _percent(p.get("from"))},
        "win_back": lambda: (
            _("Win-back offer at churn risk %(risk)s%%, %(days)s days since the last order")
            % {"risk": _risk(p.get("risk")), "days": p.get("days") if p.get("days") is not None else "—"}
        ),
        "not_slipping": lambda: (
            _("Not slipping away: churn risk %(risk)s%% is below the threshold") % {"risk": _risk(p.get("risk"))}
        ),
        "vip_perk": lambda: _("Perk of the %(tier)s tier") % {"tier": p.get("tier", "")},
        "coupon_code": lambda: _("Coupon %(code)s") % {"code": p.get("code", "")},
        "promo_code": lambda: _("Promo code %(code)s") % {"code": p.get("code", "")},
        "referral_code": lambda: _("First order with referral code %(code)s") % {"code": p.get("code", "")},
        "control_group": lambda: _("In this rule's control group: deliberately left out to measure its effect"),
        "budget_spent": lambda: _("The rule's budget is used up"),
        "not_combined": lambda: _("Not combined: a better offer or the stacking limit applies"),
        "not_started": lambda: _("Starts on %(date)s") % {"date": p.get("date")},
        "ended": lambda: _("Ended on %(date)s") % {"date": p.get("date")},
        "segment": lambda: _("Not in the rule's RF segments"),
        "tier": lambda: _("Not in the rule's importance tiers"),
        "channel": lambda: _("Not from the rule's acquisition channels"),
        "churn_range": lambda: _("Churn risk outside the rule's range"),
        "not_first_order": lambda: _("For a first order only"),
        "not_repeat_order": lambda: _("For repeat orders only"),
        "min_order": lambda: _("The order is below the minimum of %(min_order)s") % {"min_order": p.get("min_order")},
    }
    build = texts.get(reason.key)
    return str(build()) if build else reason.key
