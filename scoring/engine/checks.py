"""When the models may be trusted, and why not when they may not: the caller then falls back to RF quintiles.

BG/NBD (Fader, Hardie & Lee 2005) learns dropout only from customers who bought again; with a handful of customers
or of repeat buyers the maximum-likelihood estimate is dominated by noise, and an estimate on the edge of the
parameter space (a → 0, α → ∞) gives P(alive) and CLV that look precise and mean nothing. RF quintiles need no
fit and stay honest, so the score says which of the two it used and why.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scoring.engine.bgnbd import BgNbdFit
from scoring.engine.gamma_gamma import GammaGammaFit

MIN_CUSTOMERS = 100
MIN_REPEATERS = 20
# Gamma-Gamma's shape parameters outside this range mean the fit ran towards a degenerate model (every order the
# same value, or no finite mean); CDNOW's p = 6.25, q = 3.74 sit well inside it.
SANE = (1e-4, 1e5)


# A reason is a code and its figures, put into words in the reader's language where it is shown
# (``scoring.explain.fallback_sentence``); an optimiser's own message stays in the run's parameters for the curious.
Reason = tuple[str, dict[str, Any]]


def data_too_thin(x: NDArray[np.float64], weights: NDArray[np.float64] | None = None) -> Reason | None:
    """A reason the base is too small to fit, or ``None``. ``x`` is repeat transactions per customer (or per
    collapsed row, with ``weights`` counting its customers)."""
    weights = np.ones_like(x) if weights is None else weights
    customers = int(weights.sum())
    repeaters = int(weights[x > 0].sum())
    if customers < MIN_CUSTOMERS:
        return "few_customers", {"customers": customers, "minimum": MIN_CUSTOMERS}
    if repeaters < MIN_REPEATERS:
        return "few_repeaters", {"repeaters": repeaters, "minimum": MIN_REPEATERS}
    return None


def fit_problem(bgnbd: BgNbdFit, gamma_gamma: GammaGammaFit | None) -> Reason | None:
    """A reason not to use the fits, or ``None``.

    BG/NBD is judged by whether its likelihood reached a maximum, not by whether its parameters look usual: a
    shop whose customers all leave at one rate has a and b in the hundreds (see ``bgnbd.fit``), and that is a
    finding, not a failure. Whether its predictions are computable is checked where they are made."""
    if not bgnbd.converged or not math.isfinite(bgnbd.log_likelihood):
        return "bgnbd_no_maximum", {"message": bgnbd.message}
    if gamma_gamma is not None:
        if not gamma_gamma.converged:
            return "gamma_gamma_no_maximum", {"message": gamma_gamma.message}
        if gamma_gamma.params.q <= 1:
            return "gamma_gamma_no_mean", {"q": round(gamma_gamma.params.q, 4)}
        # γ is in money units (it scales with the currency), so only the shape parameters are range-checked.
        shape = {"p": gamma_gamma.params.p, "q": gamma_gamma.params.q}
        if _insane(shape) or not (math.isfinite(gamma_gamma.params.gamma) and gamma_gamma.params.gamma > 0):
            return "gamma_gamma_implausible", {k: float(f"{v:.4g}") for k, v in gamma_gamma.params.as_dict().items()}
    return None


def _insane(params: dict[str, float]) -> bool:
    return not all(math.isfinite(v) and SANE[0] < v < SANE[1] for v in params.values())
