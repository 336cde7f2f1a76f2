"""The statistics of a programme's effect: treated against control, the difference of means with Welch's standard
error, a 95 % confidence interval that stays honest on skewed net values, a verdict in plain words, and how many more
customers a verdict needs.

The interval. A shop customer's net value over a window is zero for most customers and large for a few, and the two
groups differ in size (a 10–30 % control share). On such values Welch's interval (Student's t at the
Welch–Satterthwaite degrees of freedom) is lopsided and slightly narrow: the small group's mean and variance rise
together, so its t statistic is skewed, and a 95 % interval excluded zero in 5.5–6.8 % of A/A runs (3,000 runs each
at 400 : 100, 240 : 60 and 90 : 30 customers on the generator of tests/analytics/test_effect_stats.py), nearly all
of them false "pays". The interval here is, per side, the wider of two:

- Welch's, with the Satterthwaite degrees of freedom taken from the variance of the variances as it is for the
  data at hand, ν = 2 SE⁴ / Σ (s²/n)² (2/(n − 1) + g₂⁺/n) (g₂⁺: a group's excess kurtosis, 0 if negative), which
  is Welch's ν for normal data and fewer degrees of freedom for heavy-tailed data;
- Hall's (1992) skewness-removing transformation of the studentised difference, g(T) = T + A T²/3 + A² T³/27 + A/6
  with A the estimated skewness of the difference of means, A = (k₃T/n_T² − k₃C/n_C²) / SE³ (k₃: a group's unbiased
  third cumulant), which moves the interval towards the long tail; g is monotone and inverted in closed form.

Hall's interval alone balances the two tails but keeps 4.5–7.7 % false positives depending on the split, and at
equal group sizes, where the true skewness of the difference is nil, its noisy estimate makes it worse (6.4–7.0 % at
100 : 100). The wider of the two per side holds: 3.6–3.9 % false positives at 400 : 100, 240 : 60, 800 : 200,
4,000 : 1,000 and 100 : 100, 4.9 % at 90 : 30 (3,000 runs each; the binomial standard error is 0.35 points). On a million
customers A → 0 and ν → ∞: it is Welch's interval. A bootstrap would need every customer's value each night; this
needs per group only the count and the sums of the first four powers of the net values, which the nightly run keeps
(``ProgrammeEffect``).

Pure Python on pre-aggregated sums, so the page never reads customers.
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
# Below this many customers in a group, the approximations behind the interval are not trusted for the skewed net
# values of shop customers (most buy nothing in a window, a few buy a lot): no verdict either way.
MIN_GROUP = 30


class Verdict:
    PAYS = "pays"
    DOES_NOT_PAY = "does_not_pay"
    NOT_ENOUGH_DATA = "not_enough_data"


@dataclass(frozen=True)
class Sample:
    """One group's per-customer net values, summarised: count and the sums of the first four powers (the third and
    fourth are 0 where unknown: the interval is then Welch's)."""

    count: int
    total: float
    squares: float
    cubes: float = 0.0
    fourths: float = 0.0

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def _central(self) -> tuple[float, float, float]:
        """Σ(x − x̄)², Σ(x − x̄)³, Σ(x − x̄)⁴ from the power sums."""
        n, m = self.count, self.mean
        second = max(0.0, self.squares - n * m * m)
        third = self.cubes - 3 * m * self.squares + 2 * n * m**3
        fourth = self.fourths - 4 * m * self.cubes + 6 * m * m * self.squares - 3 * n * m**4
        return second, third, max(0.0, fourth)

    @property
    def variance(self) -> float:
        """The unbiased sample variance (n − 1); 0 for fewer than two customers."""
        if self.count < 2:
            return 0.0
        return self._central()[0] / (self.count - 1)

    @property
    def third_cumulant(self) -> float:
        """k₃ = n Σ(x − x̄)³ / ((n − 1)(n − 2)), unbiased; 0 for fewer than three customers or without the cubes."""
        if self.count < 3 or not self.cubes:
            return 0.0
        return self.count * self._central()[1] / ((self.count - 1) * (self.count - 2))

    @property
    def excess_kurtosis(self) -> float:
        """g₂ = m₄ / m₂² − 3 (moments about the mean, divided by n); 0 without the fourth powers or any spread."""
        second, _third, fourth = self._central()
        if not self.fourths or second == 0:
            return 0.0
        return self.count * fourth / (second * second) - 3

    @classmethod
    def of(cls, values: list[float]) -> Sample:
        return cls(
            count=len(values),
            total=sum(values),
            squares=sum(value**2 for value in values),
            cubes=sum(value**3 for value in values),
            fourths=sum(value**4 for value in values),
        )


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


@dataclass(frozen=True)
class Interval:
    """The standard error, the degrees of freedom, and how many standard errors the interval reaches below and
    above the difference (each at least Student's t quantile)."""

    error: float
    freedom: float
    below: float
    above: float


def _parts(sample: Sample) -> float:
    return sample.variance / sample.count


def degrees_of_freedom(treated: Sample, control: Sample) -> float:
    """ν = 2 SE⁴ / Σ (s²/n)² (2/(n − 1) + g₂⁺/n): Satterthwaite's, with each variance's own variance; Welch's ν
    when no group has excess kurtosis."""
    error_squared = _parts(treated) + _parts(control)
    denominator = sum(
        _parts(group) ** 2 * (2 / (group.count - 1) + max(0.0, group.excess_kurtosis) / group.count)
        for group in (treated, control)
    )
    return 2 * error_squared**2 / denominator if denominator else math.inf


def skewness_of_difference(treated: Sample, control: Sample) -> float:
    """A = (k₃T / n_T² − k₃C / n_C²) / SE³: the skewness of the difference of the two means."""
    error = math.sqrt(_parts(treated) + _parts(control))
    return (treated.third_cumulant / treated.count**2 - control.third_cumulant / control.count**2) / error**3


def hall_inverse(skewness: float, quantile: float) -> float:
    """The T with g(T) = quantile for Hall's g(T) = T + A T²/3 + A² T³/27 + A/6 = ((1 + A T/3)³ − 1)/A + A/6."""
    if abs(skewness) < 1e-12:
        return quantile
    return 3 * (math.cbrt(1 + skewness * (quantile - skewness / 6)) - 1) / skewness


def interval(treated: Sample, control: Sample, *, confidence: float = CONFIDENCE) -> Interval:
    """Per side, the wider of Welch's interval (at :func:`degrees_of_freedom`) and Hall's skewness-corrected one;
    see the module's docstring. Both groups need two customers or more."""
    error = math.sqrt(_parts(treated) + _parts(control))
    if error == 0:
        return Interval(0.0, math.inf, 0.0, 0.0)
    freedom = degrees_of_freedom(treated, control)
    quantile = float(student_t.ppf((1 + confidence) / 2, freedom)) if math.isfinite(freedom) else _z(confidence)
    skewness = skewness_of_difference(treated, control)
    below = max(quantile, hall_inverse(skewness, quantile))
    above = max(quantile, -hall_inverse(skewness, -quantile))
    return Interval(error, freedom, below, above)


def _z(confidence: float) -> float:
    return float(norm.ppf((1 + confidence) / 2))


def customers_needed(treated: Sample, control: Sample, effect: float, *, reach: float | None = None) -> int | None:
    """Customers (both groups, at the present control share) for a two-sided test at 95 % to find ``effect`` with
    80 % power: n_T = (q + z₀.₈)² (s²_T + s²_C / k) / effect², with k = n_C / n_T, n_C = k n_T, and q the interval's
    reach towards zero in standard errors (``reach``; z₀.₉₇₅ = 1.96 when not given, which the interval tends to
    on large groups). ``None`` when the effect is zero (nothing to find) or the variances are both zero."""
    if effect == 0 or treated.count == 0 or control.count == 0:
        return None
    ratio = control.count / treated.count
    spread = treated.variance + control.variance / ratio
    if spread == 0:
        return None
    quantile = _z(CONFIDENCE) if reach is None else reach
    treated_needed = (quantile + float(norm.ppf(POWER))) ** 2 * spread / effect**2
    return math.ceil(treated_needed * (1 + ratio))


def programme_effect(treated: Sample, control: Sample) -> Effect:
    """Treated minus control with its 95 % interval and the verdict: "pays" when the whole interval is above zero,
    "does not pay" when it is below, otherwise "not enough data yet" with the customers still needed (a power
    calculation at the observed variances for the observed difference, with the interval's own reach towards zero,
    and at least ``MIN_GROUP`` in each group)."""
    difference = treated.mean - control.mean
    if treated.count < 2 or control.count < 2:
        shortfall = max(0, MIN_GROUP - treated.count) + max(0, MIN_GROUP - control.count)
        return Effect(difference, None, None, None, None, Verdict.NOT_ENOUGH_DATA, shortfall)
    bounds = interval(treated, control)
    low, high = difference - bounds.below * bounds.error, difference + bounds.above * bounds.error
    small = treated.count < MIN_GROUP or control.count < MIN_GROUP
    if not small and low > 0:
        return Effect(difference, low, high, bounds.error, bounds.freedom, Verdict.PAYS, None)
    if not small and high < 0:
        return Effect(difference, low, high, bounds.error, bounds.freedom, Verdict.DOES_NOT_PAY, None)
    present = treated.count + control.count
    reach = bounds.below if difference > 0 else bounds.above
    needed = customers_needed(treated, control, difference, reach=reach)
    minimum = present + max(0, MIN_GROUP - treated.count) + max(0, MIN_GROUP - control.count)
    more = None if needed is None and not small else max(needed or 0, minimum) - present
    if more is not None:
        more = max(more, 1)
    return Effect(difference, low, high, bounds.error, bounds.freedom, Verdict.NOT_ENOUGH_DATA, more)


def to_money(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 2))).quantize(Decimal("0.01"))
