"""A full scoring run through a real Celery worker, and single-customer rescores, on seed_demo data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retain_bench REDIS_URL=redis://127.0.0.1:6379/1 \\
        .venv/bin/python bench/scoring.py [--incremental 1000] [--runs 1]

Run it once per database: ``retain_bench`` (1,000,000 customers) and a second one seeded with
``seed_demo --customers 100000`` for the 100,000-customer case. It starts a worker on its own queue, queues
``--runs`` full runs one after another through ``scoring.full_run``, and for each prints the steps' times as the
run recorded them, queued → finished, the worker's peak resident memory and CPU seconds, and the machine's load
average (other work on the machine shows there first). Then it times rescoring single customers the way a changed
order does (the task's body, excluding queueing): median and 95th percentile over ``--incremental`` random scored
customers. If the ``lifetimes`` package is installed (the ``bench`` dependency group: ``.tools/bin/uv sync --frozen
--group bench``), it fits the same statistics with it as a peer;
it is never a dependency of Retain.

The first run of a month inserts every customer's snapshot; a later one rewrites only the snapshots that moved, so
``--runs 2`` shows both. The database is left scored.
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
TICKS = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(grandchild for child in children for grandchild in _tree(int(child)))]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the worker's pool), from /proc."""
    total = 0
    for candidate in _tree(pid):
        try:
            for line in Path(f"/proc/{candidate}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children so far."""
    total = 0
    for candidate in _tree(pid):
        try:
            fields = Path(f"/proc/{candidate}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def full_run(queue: str, worker_pid: int) -> None:
    from scoring.models import ScoringRun
    from scoring.tasks import scoring_full_run_task

    load = os.getloadavg()[0]
    run = ScoringRun.objects.create()
    cpu = cpu_seconds(worker_pid)
    started = time.monotonic()
    scoring_full_run_task.apply_async(args=(run.pk,), queue=queue)
    peak = 0.0
    while time.monotonic() - started < 1800:
        peak = max(peak, rss_mb(worker_pid))
        run.refresh_from_db()
        if run.state in {ScoringRun.State.SUCCEEDED, ScoringRun.State.FAILED}:
            break
        time.sleep(0.1)
    wall = time.monotonic() - started
    used = cpu_seconds(worker_pid) - cpu
    print(
        f"run {run.pk}: {run.customers:,} customers ({run.state}, method {run.method}) {run.fallback_sentence}{run.error}"
    )
    print("  steps, s: " + ", ".join(f"{name} {seconds:.2f}" for name, seconds in run.timings.items()))
    print(
        f"  queued → finished {wall:.1f} s; worker peak memory {peak:,.0f} MB, worker CPU {used:.1f} s; "
        f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    print(f"  BG/NBD {run.params.get('bgnbd')}, Gamma-Gamma {run.params.get('gamma_gamma')}")
    print(f"  churn horizon {run.params.get('horizon_days')} days ({run.params.get('horizon_source')})")
    from scoring.models import Backtest

    backtest = Backtest.objects.filter(run=run).first()
    if backtest is not None and backtest.state == Backtest.State.SUCCEEDED:
        figures = backtest.figures
        print(
            f"  backtest at {backtest.cutoff} ({backtest.seconds:.2f} s): {figures['customers']:,} customers, repeat "
            f"purchases actual {figures['repeat_purchases']['actual']:,.0f} / predicted "
            f"{figures['repeat_purchases']['predicted']:,.0f}; churn AUC {figures['churn']['auc']} (recency alone "
            f"{figures['churn']['recency_auc']}); top 20% captured {figures['capture'][-1]['importance']:.3f} "
            f"(by spend {figures['capture'][-1]['spent']:.3f}); reliable {figures['verdict']['reliable']}"
        )
    elif backtest is not None:
        print(f"  backtest {backtest.state}: {backtest.refusal_sentence}{backtest.error}")


def rescores(count: int) -> None:
    from scoring.models import CustomerScore
    from scoring.services import score_customers

    ids = list(CustomerScore.objects.order_by().values_list("customer_id", flat=True)[:200000])
    sample = random.Random(1).sample(ids, min(count, len(ids)))
    score_customers(customer_ids=sample[:1])  # parse the run's model once, as a warm worker has
    times = []
    for customer_id in sample:
        begun = time.perf_counter()
        score_customers(customer_ids=[customer_id])
        times.append((time.perf_counter() - begun) * 1000)
    times.sort()
    print(
        f"single-customer rescore, ms (n={len(times)}): median {statistics.median(times):.2f}, "
        f"p95 {times[max(0, int(0.95 * len(times)) - 1)]:.2f}; load average {os.getloadavg()[0]:.1f}"
    )


def lifetimes_peer() -> None:
    try:
        from lifetimes import BetaGeoFitter, GammaGammaFitter  # type: ignore[import-not-found]
    except ImportError:
        print("lifetimes: not installed (.tools/bin/uv sync --frozen --group bench), no peer figure")
        return
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from scoring.statistics import local_day, stats_from_postgres
    from shop.models import ShopSettings

    zone = ZoneInfo(ShopSettings.load().time_zone)
    today = local_day(timezone.now(), zone)
    stats = stats_from_postgres(zone, today)
    x, t_x, T = stats.x, stats.last_day - stats.first_day, today - stats.first_day
    begun = time.perf_counter()
    bgf = BetaGeoFitter().fit(x, t_x, T)
    repeat = x > 0
    ggf = GammaGammaFitter().fit(x[repeat], stats.repeat_average[repeat])
    fitted = time.perf_counter() - begun
    bgf.conditional_probability_alive(x, t_x, T)
    ggf.conditional_expected_average_profit(x, stats.repeat_average)
    print(
        f"lifetimes on the same statistics: fits {fitted:.1f} s, fits + P(alive) + value {time.perf_counter() - begun:.1f} s"
    )
    print(f"  lifetimes BG/NBD {dict(bgf.params_)}, Gamma-Gamma {dict(ggf.params_)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incremental", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL: the run goes through a real worker.")

    import django

    django.setup()
    from django.db import connection

    print(f"database {connection.settings_dict['NAME']}, {os.cpu_count()} CPUs")
    from crm.celery import app

    queue = f"bench-scoring-{os.getpid()}"
    name = f"{queue}@bench"
    worker = subprocess.Popen(
        [
            *(str(ROOT / ".venv/bin/celery"), "-A", "crm", "worker", "--pool=solo", "-Q", queue, "-n", name),
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
    )
    try:
        # Time the runs, not the worker's start (imports take seconds on a busy machine).
        deadline = time.monotonic() + 120
        while not app.control.ping(destination=[name], timeout=1) and time.monotonic() < deadline:
            time.sleep(0.5)
        for _ in range(args.runs):
            full_run(queue, worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    rescores(args.incremental)
    lifetimes_peer()


if __name__ == "__main__":
    main()
