"""When the model may be trusted, and why not when it may not: the engine falls back to RF quintiles then."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scoring.engine.bgnbd import BgNbdFit
from scoring.engine.gamma_gamma import GammaGammaFit

MIN_CUSTOMERS = 100
MIN_REPEATERS = 20
SANE = (1e-4, 1e5)


def data_too_thin(x: NDArray[np.float64], weights: NDArray[np.float64] | None = None) -> str | None:
    """A reason the base is too small to fit, or ``None``."""
    weights = np.ones_like(x) if weights is None else weights
    customers = weights.sum()
    repeaters = weights[x > 0].sum()
    if customers < MIN_CUSTOMERS:
        return f"only {int(customers)} customers with orders; the model needs at least {MIN_CUSTOMERS}"
    if repeaters < MIN_REPEATERS:
        return f"only {int(repeaters)} customers bought twice; the model needs at least {MIN_REPEATERS}"
    return None


def fit_problem(bgnbd: BgNbdFit, gamma_gamma: GammaGammaFit | None) -> str | None:
    """A reason not to use the fits, or ``None``."""
    if not bgnbd.converged:
        return f"the BG/NBD fit did not converge: {bgnbd.message}"
    if not all(SANE[0] < v < SANE[1] for v in bgnbd.params.as_dict().values()):
        return f"the BG/NBD parameters are implausible: {bgnbd.params.as_dict()}"
    if gamma_gamma is not None:
        if not gamma_gamma.converged:
            return f"the Gamma-Gamma fit did not converge: {gamma_gamma.message}"
        if gamma_gamma.params.q <= 1:
            return "the Gamma-Gamma fit has q ≤ 1, so the average order value has no finite mean"
    return None
