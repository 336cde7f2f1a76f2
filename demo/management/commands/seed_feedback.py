"""``manage.py seed_feedback``: survey invitations, answers, follow-ups and churn signals for the demo shop
(``demo.surveys``)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.surveys import surveys_seed
from feedback.models import Response


class Command(BaseCommand):
    help = "Create believable survey invitations, answers, follow-ups and churn signals for the demo's orders."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--months", type=int, default=6, help="delivered orders of the last N months (0: every delivered order)"
        )
        parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable answers")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any survey answer exists")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["months"] < 0:
            raise CommandError("--months must be ≥ 0")
        if options["if_empty"] and Response.objects.exists():
            self.stdout.write("Survey answers exist already: the feedback demo data is left as it is.")
            return
        started = time.monotonic()
        totals = surveys_seed(months=options["months"], seed=options["seed"])
        self.stdout.write(self.style.SUCCESS(totals.summary(time.monotonic() - started)))
