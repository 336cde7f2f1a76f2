"""``manage.py scoring_run``: recalculate every customer's score now, in this process, and print the run's record.

The same run as the nightly task and the owner's Run now button (``scoring_full_run``), for a first score after a
bulk load (``make demo`` runs it with ``--if-never`` after seeding) or from a shell on a server.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scoring.models import ScoringRun
from scoring.services import scoring_full_run


class Command(BaseCommand):
    help = "Recalculate every customer's score now and print the run's steps."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-never", action="store_true", help="do nothing when a run has already succeeded (for make demo)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_never"] and ScoringRun.objects.filter(state=ScoringRun.State.SUCCEEDED).exists():
            self.stdout.write("Scores exist already; nothing to do.")
            return
        active = ScoringRun.objects.filter(state__in=[ScoringRun.State.PENDING, ScoringRun.State.RUNNING]).first()
        if active is not None:
            raise CommandError(f"Run {active.pk} is {active.state}; wait for it to finish.")
        run = ScoringRun.objects.create()
        try:
            finished = scoring_full_run(run_id=run.pk)
        except Exception as error:
            raise CommandError(f"Run {run.pk} failed: {type(error).__name__}: {error}") from error
        if finished is None:
            raise CommandError(f"Run {run.pk} was claimed by a worker first; see the model page.")
        steps = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in finished.timings.items())
        self.stdout.write(f"Run {finished.pk}: {finished.customers:,} customers scored ({finished.method}); {steps}.")
        if finished.fallback_reason:
            self.stdout.write(f"The model fell back to RF scores: {finished.fallback_sentence}")
