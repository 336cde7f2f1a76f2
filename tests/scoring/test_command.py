"""``manage.py scoring_run``: a first score after a bulk load, as make demo does."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from scoring.models import CustomerScore, ScoringRun
from tests.scoring.runs import buy

pytestmark = pytest.mark.django_db


def test_the_command_scores_everybody_and_prints_the_steps():
    buy("+79990000001", "A-1", datetime(2026, 3, 1, tzinfo=UTC))
    out = StringIO()
    call_command("scoring_run", stdout=out)
    assert ScoringRun.objects.get().state == ScoringRun.State.SUCCEEDED
    assert CustomerScore.objects.count() == 1
    assert "1 customers scored" in out.getvalue() and "statistics" in out.getvalue()


def test_if_never_does_nothing_after_a_successful_run():
    call_command("scoring_run", stdout=StringIO())
    out = StringIO()
    call_command("scoring_run", "--if-never", stdout=out)
    assert ScoringRun.objects.count() == 1
    assert "nothing to do" in out.getvalue()


def test_the_command_refuses_while_a_run_is_active():
    ScoringRun.objects.create(state=ScoringRun.State.RUNNING)
    with pytest.raises(CommandError, match="wait for it to finish"):
        call_command("scoring_run", stdout=StringIO())
