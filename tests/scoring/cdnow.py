"""The CDNOW sample summarised as the literature does (Fader, Hardie & Lee 2005): weeks, one transaction per
purchase day, the first purchase not a repeat, calibration period 1997-01-01 to 1997-09-30 (39 weeks).

The data live outside the repository, in shared/data/cdnow beside the checkout (the same layout in CI). For the
Gamma-Gamma fit the published p = 6.25, q = 3.74, γ = 15.44 come from each repeat buyer's average value of the
repeat purchase *days* within the calibration period: the dollar values of same-day purchases summed into one
transaction and the first purchase left out. (Averaging every purchase, or keeping the first, does not reproduce
them.)
"""

from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "cdnow" / "CDNOW_sample.txt"
CALIBRATION_START = date(1997, 1, 1)
CALIBRATION_END = date(1997, 9, 30)

Summary = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


def calibration_summary() -> Summary:
    """(x, t_x, T in weeks, average repeat-transaction value in dollars) per customer of the sample."""
    if not DATA.exists():
        raise FileNotFoundError(
            f"The CDNOW sample is missing at {DATA.resolve()}: the shared data directory must sit beside the "
            "checkout (shared/data/cdnow/CDNOW_sample.txt); these tests do not skip without it."
        )
    days: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for line in DATA.read_text().splitlines():
        # Columns: customer id in the master file, id in the sample, date YYYYMMDD, number of CDs, dollar value.
        _master, customer, stamp, _cds, value = line.split()
        day = date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))
        if CALIBRATION_START <= day <= CALIBRATION_END:
            days[customer][day] += float(value)
    x, t_x, T, m = [], [], [], []
    for purchases in days.values():
        ordered = sorted(purchases)
        first = ordered[0]
        x.append(len(ordered) - 1)
        t_x.append((ordered[-1] - first).days / 7)
        T.append((CALIBRATION_END - first).days / 7)
        repeats = [purchases[d] for d in ordered[1:]]
        m.append(sum(repeats) / len(repeats) if repeats else 0.0)
    return np.array(x, dtype=np.float64), np.array(t_x), np.array(T), np.array(m)
