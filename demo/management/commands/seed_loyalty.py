"""``manage.py seed_loyalty``: a believable loyalty programme with a history on the demo shop (``demo.loyalty``)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.loyalty import loyalty_seed
from loyalty.models import LoyaltyRule


class Command(BaseCommand):
    help = "Create a believable loyalty programme with a history (rules, credit, coupons, codes) on the demo shop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=45, help="replay the deliveries of the last N days")
        parser.add_argument(
            "--customers", type=int, default=200, help="members whose deliveries are replayed (a random sample)"
        )
        parser.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable history")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any loyalty rule exists")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1 or options["customers"] < 1:
            raise CommandError("--days and --customers must be ≥ 1")
        if options["if_empty"] and LoyaltyRule.objects.exists():
            self.stdout.write("Loyalty rules exist already: the loyalty demo data is left as it is.")
            return
        summary = loyalty_seed(days=options["days"], members=options["customers"], seed=options["seed"])
        self.stdout.write(self.style.SUCCESS(summary))
