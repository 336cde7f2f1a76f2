"""The loyalty rule engine alone: one quote's evaluation with 50 active rules, no database.

    .venv/bin/python -m bench.loyalty_engine [--rules 50] [--runs 20000]

Prints the median and p95 of one ``evaluate`` call in microseconds. The database reads a quote adds (facts, rules,
balance: five small indexed queries) are not in this figure.
"""

import argparse
import random
import statistics
import time
from datetime import date
from decimal import Decimal

from loyalty.engine.evaluate import STACK, Cart, CartLine, Conditions, Facts, Rule, evaluate
from loyalty.engine.params import Kind, parse_params


def rules(count: int, rng: random.Random) -> list[Rule]:
    made = []
    for rule_id in range(1, count + 1):
        kind = (Kind.CUMULATIVE, Kind.WIN_BACK, Kind.VIP_PERK)[rule_id % 3]
        if kind == Kind.CUMULATIVE:
            raw: dict[str, object] = {"basis": "orders", "tiers": [[2, "3"], [5, "5"], [10, "10"]]}
        elif kind == Kind.WIN_BACK:
            raw = {"value_kind": "percent", "curve": "linear", "risk_from": "0.4", "risk_to": "0.9",
                   "value_from": "5", "value_to": "20", "risk_threshold": "0.4", "clv_reference": "5000", "cap": "25"}  # fmt: skip
        else:
            raw = {"perk": "free_delivery", "percent": "3"}
        segments = frozenset(rng.sample(["champions", "loyal", "at_risk", "cant_lose", "lost"], 2))
        made.append(
            Rule(
                id=rule_id,
                kind=kind,
                params=parse_params(kind, raw),
                conditions=Conditions(segments=segments),
                stacking=STACK if rule_id % 2 else "best",
                max_total_percent=Decimal("15"),
                control_share=Decimal("0.1"),
                budget_left=Decimal("100000"),
            )
        )
    return made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20000)
    args = parser.parse_args()
    rng = random.Random(2026)
    active = rules(args.rules, rng)
    cart = Cart(total=Decimal("4990.00"), lines=tuple(CartLine(f"sku{i}", Decimal("998.00")) for i in range(5)))
    timings = []
    for n in range(args.runs):
        facts = Facts(
            customer_id=n, delivered_orders=rng.randint(0, 20), churn_risk=rng.random(),
            segment=rng.choice(["champions", "loyal", "at_risk", "cant_lose", "lost"]), predicted_clv=Decimal("3000"),
        )  # fmt: skip
        start = time.perf_counter()
        evaluate(facts=facts, cart=cart, rules=active, today=date(2026, 12, 5), balance=Decimal("500"))
        timings.append((time.perf_counter() - start) * 1e6)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95)]
    print(f"{args.rules} rules, {args.runs} evaluations: median {statistics.median(timings):.0f} µs, p95 {p95:.0f} µs")


if __name__ == "__main__":
    main()
