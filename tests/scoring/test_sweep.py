"""Runs lost in the broker are re-queued and runs whose worker died are failed, so neither blocks new runs."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.translation import override

from scoring.models import ScoringRun
from scoring.services import scoring_run_start_unless_active, scoring_runs_sweep
from scoring.tasks import scoring_nightly_task

pytestmark = pytest.mark.django_db


def test_a_run_nobody_claimed_for_ten_minutes_is_queued_again_and_runs():
    run = ScoringRun.objects.create(created_at=timezone.now() - timedelta(minutes=11))
    assert scoring_runs_sweep() == {"requeued": 1, "failed": 0}
    run.refresh_from_db()
    assert run.state == ScoringRun.State.SUCCEEDED


def test_a_run_waiting_a_few_minutes_is_left_alone():
    run = ScoringRun.objects.create(created_at=timezone.now() - timedelta(minutes=3))
    assert scoring_runs_sweep() == {"requeued": 0, "failed": 0}
    run.refresh_from_db()
    assert run.state == ScoringRun.State.PENDING


def test_a_run_past_the_time_limit_is_failed_with_the_reason():
    run = ScoringRun.objects.create(state=ScoringRun.State.RUNNING, started_at=timezone.now() - timedelta(hours=2))
    with override("en"):
        assert scoring_runs_sweep() == {"requeued": 0, "failed": 1}
    run.refresh_from_db()
    assert run.state == ScoringRun.State.FAILED and run.finished_at is not None
    assert "worker stopped during the run" in run.error


def test_a_run_still_within_its_time_limit_keeps_running():
    run = ScoringRun.objects.create(state=ScoringRun.State.RUNNING, started_at=timezone.now() - timedelta(minutes=30))
    scoring_runs_sweep()
    run.refresh_from_db()
    assert run.state == ScoringRun.State.RUNNING


def test_starting_while_a_run_is_active_returns_that_run():
    active = ScoringRun.objects.create(state=ScoringRun.State.RUNNING, started_at=timezone.now())
    assert scoring_run_start_unless_active() == (active, False)
    assert ScoringRun.objects.count() == 1


def test_the_nightly_task_skips_while_a_run_is_active():
    ScoringRun.objects.create(state=ScoringRun.State.PENDING)
    assert scoring_nightly_task() == 0
    assert ScoringRun.objects.count() == 1


def test_the_nightly_task_starts_a_run_when_none_is_active(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run_id = scoring_nightly_task()
    assert ScoringRun.objects.get(pk=run_id).state == ScoringRun.State.SUCCEEDED
