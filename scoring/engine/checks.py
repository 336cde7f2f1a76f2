"""When the models may be trusted, and why not when they may not: the caller then falls back to RF quintiles.

BG/NBD (Fader, Hardie & Lee 2005) learns dropout only from customers who bought again; with a handful of customers
or of repeat buyers the maximum-likelihood estimate is dominated by noise, and an estimate on the edge of the
parameter space (a → 0, α → ∞) gives P(alive) and CLV that look precise and mean nothing. RF quintiles need no
fit and stay honest, so the score says which of the two it used and why.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from scoring.engine.bgnbd import BgNbdFit
from scoring.engine.gamma_gamma import GammaGammaFit

MIN_CUSTOMERS = 100
MIN_REPEATERS = 20
# Parameters outside this range mean the fit ran towards a degenerate model (see the module docstring); the
# CDNOW values (r = 0.24, α = 4.4 weeks or 31 days, a = 0.79, b = 2.4) sit well inside it in days or weeks.
SANE = (1e-4, 1e5)


def data_too_thin(x: NDArray[np.float64], weights: NDArray[np.float64] | None = None) -> str | None:
    """A reason the base is too small to fit, or ``None``. ``x`` is repeat transactions per customer (or per
    collapsed row, with ``weights`` counting its customers)."""
    weights = np.ones_like(x) if weights is None else weights
    customers = float(weights.sum())
    repeaters = float(weights[x > 0].sum())
    if customers < MIN_CUSTOMERS:
        return f"only {int(customers)} customers with orders; the model needs at least {MIN_CUSTOMERS}"
    if repeaters < MIN_REPEATERS:
        return f"only {int(repeaters)} customers bought twice; the model needs at least {MIN_REPEATERS}"
    return None


def _insane(params: dict[str, float]) -> bool:
    return not all(math.isfinite(v) and SANE[0] < v < SANE[1] for v in params.values())


def fit_problem(bgnbd: BgNbdFit, gamma_gamma: GammaGammaFit | None) -> str | None:
    """A reason not to use the fits, or ``None``."""
    if not bgnbd.converged:
        return f"the BG/NBD fit did not converge: {bgnbd.message}"
    if _insane(bgnbd.params.as_dict()) or not math.isfinite(bgnbd.log_likelihood):
        shown = {name: float(f"{value:.4g}") for name, value in bgnbd.params.as_dict().items()}
        return f"the BG/NBD parameters are implausible: {shown}"
    if gamma_gamma is not None:
        if not gamma_gamma.converged:
            return f"the Gamma-Gamma fit did not converge: {gamma_gamma.message}"
        if gamma_gamma.params.q <= 1:
            return "the Gamma-Gamma fit has q ≤ 1, so the average order value has no finite mean"
        # γ is in money units (it scales with the currency), so only the shape parameters are range-checked.
        shape = {"p": gamma_gamma.params.p, "q": gamma_gamma.params.q}
        if _insane(shape) or not (math.isfinite(gamma_gamma.params.gamma) and gamma_gamma.params.gamma > 0):
            shown = {name: float(f"{value:.4g}") for name, value in gamma_gamma.params.as_dict().items()}
            return f"the Gamma-Gamma parameters are implausible: {shown}"
    return None


def fallback_reason(
    x: NDArray[np.float64],
    weights: NDArray[np.float64] | None = None,
    bgnbd: BgNbdFit | None = None,
    gamma_gamma: GammaGammaFit | None = None,
) -> str | None:
    """Whether to fall back to RF quintiles: the reason, or ``None`` to use the models.

    Call it once before fitting (``bgnbd=None``: is there enough data to try?) and once after (are the fits
    usable?); the first reason found wins, in that order."""
    reason = data_too_thin(x, weights)
    if reason is not None or bgnbd is None:
        return reason
    return fit_problem(bgnbd, gamma_gamma)
