"""The statistics of a programme's effect: treated against control, difference of means with Welch's standard
error, a 95 % confidence interval from Student's t at the Welch–Satterthwaite degrees of freedom, a verdict in plain
words, and how many more customers a verdict needs.

Why Welch and not a bootstrap: the groups have different sizes (a 10–20 % control share) and different spreads (the
treated group's net value carries the programme's cost), which is what Welch's interval is for; it is exact for
normal data and, by the central limit theorem, close for the skewed, zero-heavy net values of customers once each
group has a few dozen customers (the A/A simulation in tests/analytics pins that). A bootstrap would cost thousands
of passes over the customers every night and give nothing better at these sizes.

Pure Python on pre-aggregated sums (count, sum and sum of squares per group), so the page never reads customers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from scipy.stats import norm
from scipy.stats import t as student_t

CONFIDENCE = 0.95
# The power a verdict should have once "about N more customers" have joined: the usual 80 %.
POWER = 0.80
# Below this many customers in a group, the normal approximation behind the interval is not trusted for the skewed
# net values of shop customers (most buy nothing in a window, a few buy a lot): no verdict either way.
MIN_GROUP = 30


class Verdict:
    PAYS = "pays"
    DOES_NOT_PAY = "does_not_pay"
    NOT_ENOUGH_DATA = "not_enough_data"


@dataclass(frozen=True)
class Sample:
    """One group's per-customer net values, summarised: count, sum and sum of squares."""

    count: int
    total: float
    squares: float

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    @property
    def variance(self) -> float:
        """The unbiased sample variance (n − 1); 0 for fewer than two customers."""
        if self.count < 2:
            return 0.0
        return max(0.0, (self.squares - self.total * self.total / self.count) / (self.count - 1))

    @classmethod
    def of(cls, values: list[float]) -> Sample:
        return cls(count=len(values), total=sum(values), squares=sum(value * value for value in values))


@dataclass(frozen=True)
class Effect:
    difference: float
    low: float | None
    high: float | None
    standard_error: float | None
    degrees_of_freedom: float | None
    verdict: str
    # More customers (treated and control together, at the present split) for the verdict; None when it is given,
    # or when the groups do not differ at all so far (no size would tell a zero difference from zero).
    more_needed: int | None

    @property
    def is_significant(self) -> bool:
        return self.verdict != Verdict.NOT_ENOUGH_DATA


def welch_interval(treated: Sample, control: Sample, *, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(standard error, degrees of freedom, half-width): SE = √(s²_T/n_T + s²_C/n_C), Welch–Satterthwaite
    ν = SE⁴ / ((s²_T/n_T)²/(n_T − 1) + (s²_C/n_C)²/(n_C − 1)), half-width t_{(1+confidence)/2, ν} × SE.
    Both groups need two customers or more."""
    part_treated = treated.variance / treated.count
    part_control = control.variance / control.count
    error = math.sqrt(part_treated + part_control)
    if error == 0:
        return 0.0, math.inf, 0.0
    denominator = part_treated**2 / (treated.count - 1) + part_control**2 / (control.count - 1)
    freedom = error**4 / denominator if denominator else math.inf
    quantile = float(student_t.ppf((1 + confidence) / 2, freedom)) if math.isfinite(freedom) else _z(confidence)
    return error, freedom, quantile * error


def _z(confidence: float) -> float:
    return float(norm.ppf((1 + confidence) / 2))


def customers_needed(treated: Sample, control: Sample, effect: float) -> int | None:
    """Customers (both groups, at the present control share) for a two-sided test at 95 % to find ``effect`` with
    80 % power: n_T = (z₀.₉₇₅ + z₀.₈)² (s²_T + s²_C / k) / effect², with k = n_C / n_T, and n_C = k n_T. ``None``
    when the effect is zero (nothing to find) or the variances are both zero."""
    if effect == 0 or treated.count == 0 or control.count == 0:
        return None
    ratio = control.count / treated.count
    spread = treated.variance + control.variance / ratio
    if spread == 0:
        return None
    treated_needed = (_z(CONFIDENCE) + float(norm.ppf(POWER))) ** 2 * spread / effect**2
    return math.ceil(treated_needed * (1 + ratio))


def programme_effect(treated: Sample, control: Sample) -> Effect:
    """Treated minus control with its 95 % interval and the verdict: "pays" when the whole interval is above zero,
    "does not pay" when it is below, otherwise "not enough data yet" with the customers still needed (a power
    calculation at the observed variances for the observed difference, and at least ``MIN_GROUP`` in each group)."""
    difference = treated.mean - control.mean
    if treated.count < 2 or control.count < 2:
        shortfall = max(0, MIN_GROUP - treated.count) + max(0, MIN_GROUP - control.count)
        return Effect(difference, None, None, None, None, Verdict.NOT_ENOUGH_DATA, shortfall)
    error, freedom, half = welch_interval(treated, control)
    low, high = difference - half, difference + half
    small = treated.count < MIN_GROUP or control.count < MIN_GROUP
    if not small and low > 0:
        return Effect(difference, low, high, error, freedom, Verdict.PAYS, None)
    if not small and high < 0:
        return Effect(difference, low, high, error, freedom, Verdict.DOES_NOT_PAY, None)
    present = treated.count + control.count
    needed = customers_needed(treated, control, difference)
    minimum = present + max(0, MIN_GROUP - treated.count) + max(0, MIN_GROUP - control.count)
    more = None if needed is None and not small else max(needed or 0, minimum) - present
    if more is not None:
        more = max(more, 1)
    return Effect(difference, low, high, error, freedom, Verdict.NOT_ENOUGH_DATA, more)


def to_money(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 2))).quantize(Decimal("0.01"))
