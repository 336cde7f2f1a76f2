from django.core.management.base import BaseCommand, CommandError

from shop.models import User
from shop.twofactor import second_factor_reset


class Command(BaseCommand):
    help = (
        "Remove a staff member's authenticator and backup codes, for an owner who lost both and has no other owner "
        "to reset them; they set up a new authenticator at the next sign-in."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("username")

    def handle(self, *args: object, **options: object) -> None:
        user = User.objects.filter(username=str(options["username"])).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}")
        removed = second_factor_reset(user=user, acting_user=None)
        self.stdout.write(f"Removed {removed} device(s) of {user.username}; they set up a new one at the next sign-in.")
