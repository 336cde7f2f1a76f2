"""A full scoring run through a real Celery worker, and single-customer rescores.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_bench REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/scoring.py [--incremental 1000]

Starts a worker on its own queue, queues one full run, waits for it, and prints each step's time as the run
recorded it, the end-to-end time and the worker's peak memory; then times rescoring single customers the way a
changed order does (the task's body, excluding queueing): median and 95th percentile.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the worker's pool), from /proc."""
    total = 0
    for candidate in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{candidate}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incremental", type=int, default=1000)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL: the run goes through a real worker.")

    import django

    django.setup()
    from customers.models import Customer
    from scoring.models import ScoringRun
    from scoring.services import score_customers
    from scoring.tasks import scoring_full_run_task

    queue = f"bench-scoring-{os.getpid()}"
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "crm", "worker", "--pool=solo", "-Q", queue, "--loglevel=WARNING"],
        cwd=ROOT,
    )
    try:
        time.sleep(5)
        run = ScoringRun.objects.create()
        started = time.monotonic()
        scoring_full_run_task.apply_async(args=(run.pk,), queue=queue)
        peak = 0.0
        while time.monotonic() - started < 1800:
            peak = max(peak, rss_mb(worker.pid))
            run.refresh_from_db()
            if run.state in {ScoringRun.State.SUCCEEDED, ScoringRun.State.FAILED}:
                break
            time.sleep(0.2)
        wall = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    print(f"customers scored: {run.customers:,} ({run.state}, method {run.method}) {run.fallback_reason}")
    print("steps, s: " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in run.timings.items()))
    print(f"queued → finished: {wall:.1f} s; worker peak memory {peak:,.0f} MB")
    print(f"BG/NBD {run.params.get('bgnbd')}, Gamma-Gamma {run.params.get('gamma_gamma')}")

    ids = list(Customer.objects.filter(orders_count__gt=0).values_list("pk", flat=True)[:200000])
    sample = random.Random(1).sample(ids, min(args.incremental, len(ids)))
    times = []
    for customer_id in sample:
        begun = time.perf_counter()
        score_customers(customer_ids=[customer_id])
        times.append((time.perf_counter() - begun) * 1000)
    times.sort()
    print(
        f"single-customer rescore, ms (n={len(times)}): median {statistics.median(times):.2f}, "
        f"p95 {times[int(0.95 * len(times)) - 1]:.2f}"
    )


if __name__ == "__main__":
    main()
