"""``manage.py analytics_refresh``: rewrite the analytics aggregates now, in this process, and print each step's time.

The same refresh as the nightly task and the reports' Refresh now (``aggregates_refresh``), for the first figures
after a bulk load (``make demo`` runs it with ``--if-never`` after scoring) or from a shell on a server.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from analytics.models import Refresh
from analytics.services import aggregates_refresh


class Command(BaseCommand):
    help = "Rewrite the analytics reports' monthly aggregates now and print each step's time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-never", action="store_true", help="do nothing when a refresh has already succeeded (for make demo)"
        )
        parser.add_argument(
            "--full", action="store_true", help="rewrite every cohort month, not only the last two (after an import)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_never"] and Refresh.objects.filter(state=Refresh.State.SUCCEEDED).exists():
            self.stdout.write("The analytics figures exist already; nothing to do.")
            return
        refresh = aggregates_refresh(full=True if options["full"] else None)
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in refresh.timings.items())
        self.stdout.write(f"Refresh {refresh.pk} {refresh.state}: {steps}")
