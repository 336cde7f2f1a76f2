"""The one optimiser call both model fits share: L-BFGS-B on log-parameters, and when to trust its end point.

Searching over log-parameters keeps every parameter positive without constraints that the optimiser would
have to respect, and puts r ≈ 0.2 and α ≈ 400 days on comparable scales.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

Array = NDArray[np.float64]

# The search stays within e^±14 (about 1.2e6); a parameter that ends on that edge has run away (a → 0 when nobody
# seems to leave, q → ∞ when every customer spends the same) and the fit is reported as not converged.
LOG_BOUND = 14.0
# L-BFGS-B sometimes stops with "ABNORMAL_TERMINATION_IN_LNSRCH" at the optimum itself, when no step can lower a
# mean log-likelihood that is already flat to machine precision; a gradient this small there is convergence.
FLAT_GRADIENT = 1e-5


@dataclass(frozen=True)
class Optimum:
    params: Array
    mean_negative_log_likelihood: float
    iterations: int
    converged: bool
    message: str


def minimise_on_log_scale(
    objective: Callable[[Array], tuple[float, Array]],
    start: Array,
    names: tuple[str, ...],
    max_iterations: int,
    *,
    caps: dict[str, float] | None = None,
) -> Optimum:
    """Minimise ``objective`` (value and gradient in log-parameters) from ``start`` (natural scale). ``caps`` puts
    a deliberate upper limit on some parameters (natural scale): a parameter resting on its cap is a chosen limit
    of the model, not a run-away one."""
    caps = caps or {}
    upper = [min(LOG_BOUND, float(np.log(caps[name]))) if name in caps else LOG_BOUND for name in names]
    result = minimize(
        objective,
        np.minimum(np.log(start), upper),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, high) for high in upper],
        # A relative change of 1e-12 in the mean log-likelihood leaves the parameters right to about six figures,
        # far more than any score needs, at two thirds of the evaluations that 1e-14 takes.
        options={"maxiter": max_iterations, "maxfun": 2 * max_iterations, "gtol": 1e-8, "ftol": 1e-12},
    )
    converged, message = _judge(bool(result.success), str(result.message), result.x, result.jac, names)
    return Optimum(
        params=np.exp(result.x),
        mean_negative_log_likelihood=float(result.fun),
        iterations=int(result.nit),
        converged=converged,
        message=message,
    )


def _judge(success: bool, message: str, log_params: Array, gradient: Array, names: tuple[str, ...]) -> tuple[bool, str]:
    at_bound = np.abs(log_params) >= LOG_BOUND - 1e-6
    if np.any(at_bound):
        hit = ", ".join(name for name, edge in zip(names, at_bound, strict=True) if edge)
        return False, f"{hit} ran to the edge of the search (e^±{LOG_BOUND:g}): the data do not pin it down"
    if success:
        return True, message
    if np.all(np.isfinite(gradient)) and float(np.max(np.abs(gradient))) < FLAT_GRADIENT:
        return True, f"{message} (accepted: the gradient is below {FLAT_GRADIENT:g} there)"
    return False, message


def dot(u: Array, v: Array) -> float:
    """Σ u·v for long vectors, by numpy's own loop rather than BLAS: on a busy two-core server OpenBLAS's
    threads wait on each other and a million-element dot product took 15 ms instead of 1."""
    return float(np.einsum("i,i->", u, v))
