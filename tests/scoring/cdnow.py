"""The CDNOW sample (shared/data/cdnow beside the checkout) summarised as the literature does: weeks, one
transaction per purchase day, the first purchase not a repeat, calibration to 1997-09-30."""

from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "cdnow" / "CDNOW_sample.txt"
CALIBRATION_END = date(1997, 9, 30)


def calibration_summary() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T, average repeat-transaction value) per customer."""
    if not DATA.exists():
        raise FileNotFoundError(f"The CDNOW sample is missing at {DATA}: shared/ must sit beside the checkout")
    days: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for line in DATA.read_text().splitlines():
        _master, customer, stamp, _cds, value = line.split()
        day = date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))
        if day <= CALIBRATION_END:
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
    return np.array(x, float), np.array(t_x), np.array(T), np.array(m)
