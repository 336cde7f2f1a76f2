"""The scoring engine alone on a synthetic base of a million customers, step by step.

    .venv/bin/python bench/scoring_engine.py [--customers 1000000] [--seed 1] [--repeat 3]

Customers are drawn from the BG/NBD process itself (Fader, Hardie & Lee 2005: Poisson purchases at a gamma-
distributed rate, dropout after each repeat purchase with a beta-distributed probability) with Gamma-Gamma
order values, over three years of daily data. The script times each step the nightly run takes (collapse, BG/NBD
fit, Gamma-Gamma fit, predictions, RFM, importance), prints the best of ``--repeat`` runs, and shows how close the
fits come to the parameters the data were drawn from. If the ``lifetimes`` package happens to be installed it
is timed on the same data as a peer; it is never a dependency of the engine.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring.engine import bgnbd, gamma_gamma
from scoring.engine.clv import predict
from scoring.engine.importance import TierThresholds, importance
from scoring.engine.rfm import rf_segments, rfm_scores

Array = NDArray[np.float64]

# A shop whose customers buy about every 100 days on average and one in six leaves after each repeat purchase;
# order values average 3,000 (p·γ/(q−1)).
TRUE_BGNBD = {"r": 0.5, "alpha": 50.0, "a": 0.8, "b": 4.0}
TRUE_GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "gamma": 1500.0}
HISTORY_DAYS = 3 * 365


def simulate(customers: int, seed: int) -> dict[str, Array]:
    """(x, t_x, T) in whole days and the average repeat order value, drawn from the two models."""
    rng = np.random.default_rng(seed)
    T = rng.integers(0, HISTORY_DAYS + 1, customers).astype(np.float64)
    rate = rng.gamma(TRUE_BGNBD["r"], 1.0 / TRUE_BGNBD["alpha"], customers)
    dropout = rng.beta(TRUE_BGNBD["a"], TRUE_BGNBD["b"], customers)
    x = np.zeros(customers)
    t_x = np.zeros(customers)
    clock = np.zeros(customers)
    active = np.arange(customers)
    # Follow only the customers still buying; the set shrinks quickly, so this is a few hundred small steps.
    while active.size:
        clock[active] += rng.exponential(1.0 / rate[active])
        bought = active[clock[active] <= T[active]]
        x[bought] += 1
        t_x[bought] = clock[bought]
        active = bought[rng.random(bought.size) >= dropout[bought]]
    t_x = np.floor(t_x)
    spend_rate = rng.gamma(TRUE_GAMMA_GAMMA["q"], 1.0 / TRUE_GAMMA_GAMMA["gamma"], customers)
    repeats = np.maximum(x, 1)
    average = rng.gamma(TRUE_GAMMA_GAMMA["p"] * repeats, 1.0 / (spend_rate * repeats))
    first_order = rng.gamma(TRUE_GAMMA_GAMMA["p"], 1.0 / spend_rate)
    return {"x": x, "t_x": t_x, "T": T, "average": np.where(x > 0, average, 0.0), "first": first_order}


def timed(steps: dict[str, float], name: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = work()
    steps[name] = min(steps.get(name, float("inf")), time.perf_counter() - started)
    return result


def run_engine(base: dict[str, Array], steps: dict[str, float]) -> tuple[bgnbd.BgNbdFit, gamma_gamma.GammaGammaFit]:
    x, t_x, T, average = base["x"], base["t_x"], base["T"], base["average"]
    rows = timed(steps, "collapse", lambda: bgnbd.collapse_summaries(x, t_x, T))
    fit = timed(steps, "BG/NBD fit", lambda: bgnbd.fit(rows[0], rows[1], rows[2], weights=rows[3]))
    repeat = x > 0
    gg = timed(steps, "Gamma-Gamma fit", lambda: gamma_gamma.fit(x[repeat], average[repeat]))
    figures = timed(
        steps,
        "predictions",
        lambda: predict(fit.params, gg.params, x, t_x, T, average, margin=0.3, monthly_discount=0.01),
    )
    orders = x + 1
    total = base["first"] + average * x
    scores = timed(steps, "RFM", lambda: rfm_scores(T - t_x, orders, total / orders))
    timed(steps, "RF segments", lambda: rf_segments(scores[0], scores[1]))
    ranked = timed(steps, "importance", lambda: importance(figures.clv))
    timed(steps, "tiers", lambda: TierThresholds().tier_codes(ranked))
    timed(steps, "churn risk", lambda: bgnbd.probability_no_purchase(fit.params, 60.0, x, t_x, T))
    steps["distinct summaries"] = float(rows[0].size)
    return fit, gg


def run_lifetimes(base: dict[str, Array]) -> None:
    """The same fit and predictions with the ``lifetimes`` package, when it is installed."""
    try:
        from lifetimes import BetaGeoFitter  # type: ignore[import-not-found]
    except ImportError:
        print("lifetimes: not installed, no peer timing")
        return
    import pandas as pd  # lifetimes depends on pandas

    rows = bgnbd.collapse_summaries(base["x"], base["t_x"], base["T"])
    started = time.perf_counter()
    model = BetaGeoFitter().fit(pd.Series(rows[0]), pd.Series(rows[1]), pd.Series(rows[2]), weights=rows[3])
    fitted = time.perf_counter() - started
    started = time.perf_counter()
    for days in (30, 90, 365):
        model.conditional_expected_number_of_purchases_up_to_time(days, base["x"], base["t_x"], base["T"])
    model.conditional_probability_alive(base["x"], base["t_x"], base["T"])
    print(f"lifetimes: BG/NBD fit {fitted:.2f} s, P(alive) + 3 horizons {time.perf_counter() - started:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    base = simulate(args.customers, args.seed)
    simulated = time.perf_counter() - started
    repeaters = int((base["x"] > 0).sum())
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}")
    print(f"{args.customers:,} customers ({repeaters:,} repeat buyers) simulated in {simulated:.1f} s")

    steps: dict[str, float] = {}
    for _ in range(args.repeat):
        fit, gg = run_engine(base, steps)
    distinct = int(steps.pop("distinct summaries"))
    print(f"best of {args.repeat} runs, seconds:")
    for name, seconds in steps.items():
        print(f"  {name:<16} {seconds:6.3f}")
    fit_and_predict = sum(steps[name] for name in ("collapse", "BG/NBD fit", "Gamma-Gamma fit", "predictions"))
    print(f"  {'fit + predict':<16} {fit_and_predict:6.3f}")
    print(f"  {'all steps':<16} {sum(steps.values()):6.3f}")
    print(f"distinct (x, t_x, T): {distinct:,}; BG/NBD {fit.iterations} iterations, Gamma-Gamma {gg.iterations}")
    shown = ", ".join(f"{k} {v:.3f} (true {TRUE_BGNBD[k]:g})" for k, v in fit.params.as_dict().items())
    print(f"BG/NBD: {shown}; converged {fit.converged}")
    shown = ", ".join(f"{k} {v:.3f} (true {TRUE_GAMMA_GAMMA[k]:g})" for k, v in gg.params.as_dict().items())
    print(f"Gamma-Gamma: {shown}; converged {gg.converged}")
    run_lifetimes(base)


if __name__ == "__main__":
    main()
