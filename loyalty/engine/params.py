"""Each rule kind's parameters as a typed, validated value: the rule row keeps them as JSON (one column the change
history can copy whole), and nothing reads that JSON except through :func:`parse_params`, which refuses a wrong
shape with a sentence naming the field. ``params_to_json`` writes them back in a canonical form, so the history's
"before" and "after" compare field by field.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

HUNDRED = Decimal("100")


class ParamsError(ValueError):
    """Parameters that do not fit the rule kind; ``field`` names the parameter, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Kind:
    CUMULATIVE = "cumulative"
    WIN_BACK = "win_back"
    NEXT_ORDER_COUPON = "next_order_coupon"
    STORE_CREDIT = "store_credit"
    REVIEW_REWARD = "review_reward"
    REFERRAL = "referral"
    VIP_PERK = "vip_perk"
    PROMO_BATCH = "promo_batch"


PERCENT, FIXED = "percent", "fixed"


def _decimal(raw: dict[str, Any], name: str, *, low: Decimal = Decimal("0"), high: Decimal | None = None) -> Decimal:
    value = raw.get(name)
    if isinstance(value, float) or value is None or isinstance(value, bool):
        raise ParamsError(name, "a decimal number written as a string or an integer is required")
    try:
        number = Decimal(str(value))
    except InvalidOperation as error:
        raise ParamsError(name, f"“{value}” is not a number") from error
    if not number.is_finite() or number < low or (high is not None and number > high):
        bounds = f"from {low}" + (f" to {high}" if high is not None else "")
        raise ParamsError(name, f"must be {bounds}, not {value}")
    return number


def _optional_decimal(raw: dict[str, Any], name: str, **bounds: Any) -> Decimal | None:
    return None if raw.get(name) in (None, "") else _decimal(raw, name, **bounds)


def _int(raw: dict[str, Any], name: str, *, low: int = 0, default: int | None = None) -> int:
    value = raw.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ParamsError(name, f"a whole number from {low} is required")
    return value


def _choice(raw: dict[str, Any], name: str, choices: tuple[str, ...], default: str | None = None) -> str:
    value = raw.get(name, default)
    if value not in choices:
        raise ParamsError(name, f"must be one of {', '.join(choices)}")
    return str(value)


def _value(raw: dict[str, Any]) -> tuple[str, Decimal]:
    """A discount's kind and size: a percent of the order (0–100] or a fixed sum."""
    value_kind = _choice(raw, "value_kind", (PERCENT, FIXED))
    value = _decimal(raw, "value", high=HUNDRED if value_kind == PERCENT else None)
    if value <= 0:
        raise ParamsError("value", "must be above zero")
    return value_kind, value


@dataclass(frozen=True)
class CumulativeParams:
    """Strategy (a): the discount grows with lifetime delivered orders (``basis="orders"``) or spend. ``tiers`` are
    ``(from, percent)`` pairs, thresholds strictly rising; a customer at exactly a threshold gets that tier."""

    basis: str
    tiers: tuple[tuple[Decimal, Decimal], ...]

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> CumulativeParams:
        basis = _choice(raw, "basis", ("orders", "spend"))
        rows = raw.get("tiers")
        if not isinstance(rows, list) or not rows:
            raise ParamsError("tiers", "at least one tier [from, percent] is required")
        tiers: list[tuple[Decimal, Decimal]] = []
        for index, row in enumerate(rows):
            if not isinstance(row, list | tuple) or len(row) != 2:
                raise ParamsError("tiers", f"tier {index + 1} must be a pair [from, percent]")
            pair = {"from": row[0], "percent": row[1]}
            tiers.append((_decimal(pair, "from"), _decimal(pair, "percent", high=HUNDRED)))
        if any(b[0] <= a[0] for a, b in itertools.pairwise(tiers)):
            raise ParamsError("tiers", "thresholds must rise strictly from one tier to the next")
        return cls(basis=basis, tiers=tuple(tiers))


def _win_back_steps(raw: dict[str, Any], high: Decimal | None) -> tuple[tuple[Decimal, Decimal], ...]:
    """The step curve: pairs [risk_from, value], risk rising strictly from one to the next."""
    rows = raw.get("steps")
    if not isinstance(rows, list) or not rows:
        raise ParamsError("steps", "at least one step [risk_from, value] is required")
    steps: list[tuple[Decimal, Decimal]] = []
    for index, row in enumerate(rows):
        if not isinstance(row, list | tuple) or len(row) != 2:
            raise ParamsError("steps", f"step {index + 1} must be a pair [risk_from, value]")
        pair = {"risk_from": row[0], "value": row[1]}
        steps.append((_decimal(pair, "risk_from", high=Decimal(1)), _decimal(pair, "value", high=high)))
    if any(b[0] <= a[0] for a, b in itertools.pairwise(steps)):
        raise ParamsError("steps", "risk thresholds must rise strictly from one step to the next")
    return tuple(steps)


def _win_back_line(raw: dict[str, Any], high: Decimal | None) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """The linear curve: (risk_from, risk_to, value_from, value_to), the risk range not empty."""
    risk_from = _decimal(raw, "risk_from", high=Decimal(1))
    risk_to = _decimal(raw, "risk_to", high=Decimal(1))
    if risk_to <= risk_from:
        raise ParamsError("risk_to", "must be above risk_from")
    return risk_from, risk_to, _decimal(raw, "value_from", high=high), _decimal(raw, "value_to", high=high)


@dataclass(frozen=True)
class WinBackParams:
    """Strategy (b): customers slipping away get an offer that grows with churn risk.

    Qualifies when churn risk ≥ ``risk_threshold`` or days since the last order ≥ ``days_threshold`` (either may be
    unset, not both). The value follows the owner's curve over churn risk: ``steps`` — ``[(risk_from, value), …]``,
    the last step whose ``risk_from`` ≤ risk — or ``linear`` from ``(risk_from, value_from)`` to
    ``(risk_to, value_to)``, flat outside. A customer qualifying by days whose risk is unknown gets the curve's
    lowest value. With ``clv_reference`` the value is scaled by predicted CLV / reference, clamped to
    [``scale_min``, ``scale_max``]. ``cap`` bounds the result (a percent, or a sum for fixed values).
    """

    value_kind: str
    curve: str
    steps: tuple[tuple[Decimal, Decimal], ...]
    risk_from: Decimal
    risk_to: Decimal
    value_from: Decimal
    value_to: Decimal
    risk_threshold: Decimal | None
    days_threshold: int | None
    clv_reference: Decimal | None
    scale_min: Decimal
    scale_max: Decimal
    cap: Decimal | None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> WinBackParams:
        value_kind = _choice(raw, "value_kind", (PERCENT, FIXED))
        high = HUNDRED if value_kind == PERCENT else None
        curve = _choice(raw, "curve", ("steps", "linear"))
        steps: tuple[tuple[Decimal, Decimal], ...] = ()
        risk_from = risk_to = value_from = value_to = Decimal("0")
        if curve == "steps":
            steps = _win_back_steps(raw, high)
        else:
            risk_from, risk_to, value_from, value_to = _win_back_line(raw, high)
        risk_threshold = _optional_decimal(raw, "risk_threshold", high=Decimal(1))
        days = raw.get("days_threshold")
        days_threshold = None if days in (None, "") else _int(raw, "days_threshold", low=1)
        if risk_threshold is None and days_threshold is None:
            raise ParamsError(
                "risk_threshold", "set a churn-risk threshold, a days-since-last-order threshold, or both"
            )
        scale_min = _optional_decimal(raw, "scale_min") or Decimal("0")
        scale_max = _optional_decimal(raw, "scale_max") or Decimal("1")
        if scale_max < scale_min:
            raise ParamsError("scale_max", "must not be below scale_min")
        clv_reference = _optional_decimal(raw, "clv_reference")
        if clv_reference is not None and clv_reference <= 0:
            raise ParamsError("clv_reference", "must be above zero")
        return cls(
            value_kind=value_kind,
            curve=curve,
            steps=steps,
            risk_from=risk_from,
            risk_to=risk_to,
            value_from=value_from,
            value_to=value_to,
            risk_threshold=risk_threshold,
            days_threshold=days_threshold,
            clv_reference=clv_reference,
            scale_min=scale_min,
            scale_max=scale_max,
            cap=_optional_decimal(raw, "cap", high=high),
        )


@dataclass(frozen=True)
class CouponParams:
    """A next-order coupon issued when an order is delivered: percent or fixed, valid ``valid_days``, single use."""

    value_kind: str
    value: Decimal
    valid_days: int
    min_order: Decimal | None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> CouponParams:
        value_kind, value = _value(raw)
        return cls(value_kind, value, _int(raw, "valid_days", low=1), _optional_decimal(raw, "min_order"))


@dataclass(frozen=True)
class StoreCreditParams:
    """Credit accrued on delivery (a fixed sum or a percent of the order), expiring after ``expires_days`` (0:
    never); a later order may be paid with credit up to ``max_share_percent`` of what is left after discounts."""

    accrual_kind: str
    value: Decimal
    expires_days: int
    max_share_percent: Decimal

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> StoreCreditParams:
        accrual_kind = _choice(raw, "accrual_kind", (PERCENT, FIXED))
        value = _decimal(raw, "value", high=HUNDRED if accrual_kind == PERCENT else None)
        share = _optional_decimal(raw, "max_share_percent", high=HUNDRED)
        return cls(accrual_kind, value, _int(raw, "expires_days", default=0), HUNDRED if share is None else share)


@dataclass(frozen=True)
class ReviewRewardParams:
    """Credit for a review or social post a manager confirmed, once per order."""

    amount: Decimal
    expires_days: int

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> ReviewRewardParams:
        return cls(_decimal(raw, "amount"), _int(raw, "expires_days", default=0))


@dataclass(frozen=True)
class ReferralParams:
    """Both sides rewarded with credit when the new customer's first order with the code is delivered; the new
    customer may also get ``referee_percent`` off that first order."""

    referrer_amount: Decimal
    referee_amount: Decimal
    referee_percent: Decimal
    expires_days: int

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> ReferralParams:
        return cls(
            _decimal(raw, "referrer_amount"),
            _optional_decimal(raw, "referee_amount") or Decimal("0"),
            _optional_decimal(raw, "referee_percent", high=HUNDRED) or Decimal("0"),
            _int(raw, "expires_days", default=0),
        )


@dataclass(frozen=True)
class VipPerkParams:
    """A perk for an importance tier (set the tier condition): priority or free delivery or special terms, with an
    optional percent off."""

    perk: str
    percent: Decimal
    note: str

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> VipPerkParams:
        perk = _choice(raw, "perk", ("priority_delivery", "free_delivery", "special_terms"))
        note = raw.get("note", "")
        if not isinstance(note, str) or len(note) > 200:
            raise ParamsError("note", "a text of at most 200 characters")
        return cls(perk, _optional_decimal(raw, "percent", high=HUNDRED) or Decimal("0"), note)


@dataclass(frozen=True)
class PromoParams:
    """What each code of a promo batch gives: percent or fixed off."""

    value_kind: str
    value: Decimal

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> PromoParams:
        return cls(*_value(raw))


Params = (
    CumulativeParams
    | WinBackParams
    | CouponParams
    | StoreCreditParams
    | ReviewRewardParams
    | ReferralParams
    | VipPerkParams
    | PromoParams
)

PARSERS: dict[str, Any] = {
    Kind.CUMULATIVE: CumulativeParams.parse,
    Kind.WIN_BACK: WinBackParams.parse,
    Kind.NEXT_ORDER_COUPON: CouponParams.parse,
    Kind.STORE_CREDIT: StoreCreditParams.parse,
    Kind.REVIEW_REWARD: ReviewRewardParams.parse,
    Kind.REFERRAL: ReferralParams.parse,
    Kind.VIP_PERK: VipPerkParams.parse,
    Kind.PROMO_BATCH: PromoParams.parse,
}


def parse_params(kind: str, raw: object) -> Params:
    if kind not in PARSERS:
        raise ParamsError("kind", f"unknown rule kind “{kind}”")
    if not isinstance(raw, dict):
        raise ParamsError("params", "an object of parameters is required")
    result: Params = PARSERS[kind](raw)
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def params_to_json(params: Params) -> dict[str, Any]:
    """Canonical JSON: decimals as strings (never floats), pairs as lists."""
    return {f.name: _plain(getattr(params, f.name)) for f in fields(params)}
