from celery import shared_task

from scoring.backtests import backtest_run, backtests_sweep
from scoring.services import score_customers, scoring_full_run, scoring_run_start_unless_active, scoring_runs_sweep


@shared_task(name="scoring.full_run", acks_late=True, time_limit=3600, soft_time_limit=3500)
def scoring_full_run_task(run_id: int) -> int:
    run = scoring_full_run(run_id=run_id)
    return run.customers if run else 0


@shared_task(name="scoring.nightly")
def scoring_nightly_task() -> int:
    """The nightly refit: skipped while another run is waiting or running."""
    run, started = scoring_run_start_unless_active()
    return run.pk if started else 0


@shared_task(name="scoring.sweep")
def scoring_runs_sweep_task() -> dict[str, int]:
    backtests = backtests_sweep()
    return {
        **scoring_runs_sweep(),
        "backtests_requeued": backtests["requeued"],
        "backtests_failed": backtests["failed"],
    }


@shared_task(name="scoring.score_customers", acks_late=True, time_limit=300, soft_time_limit=280)
def score_customers_task(customer_ids: list[int]) -> int:
    return score_customers(customer_ids=customer_ids)


@shared_task(name="scoring.backtest", acks_late=True, time_limit=1800, soft_time_limit=1700)
def backtest_run_task(backtest_id: int) -> str:
    backtest = backtest_run(backtest_id=backtest_id)
    return backtest.state if backtest else ""
