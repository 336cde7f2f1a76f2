from django.conf import settings
from django.core.management.base import BaseCommand
from django_otp.plugins.otp_totp.models import TOTPDevice

from shop.models import User
from shop.roles import Role
from shop.services import user_create, user_set_role
from shop.twofactor import DEMO_TOTP_KEY, secret_for_manual_entry

DEMO_USERS = [
    ("owner", "Ольга", "Владимирова", Role.OWNER, ""),
    ("manager", "Максим", "Петров", Role.MANAGER, ""),
    ("operator", "Анна", "Смирнова", Role.OPERATOR, "101"),
]


class Command(BaseCommand):
    help = "Create (or reset) one demo account per role and print the passwords."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--password-suffix", default="-demo-2026", help="Password = username + this suffix.")

    def handle(self, *args: object, **options: object) -> None:
        suffix = str(options["password_suffix"])
        self.stdout.write(f"Demo accounts (sign in at {settings.PUBLIC_BASE_URL.rstrip('/')}/):")
        for username, first, last, role, extension in DEMO_USERS:
            password = f"{username}{suffix}"
            user = User.objects.filter(username=username).first()
            if user is None:
                user_create(
                    username=username,
                    password=password,
                    role=role,
                    first_name=first,
                    last_name=last,
                    extension=extension,
                )
            else:
                user.set_password(password)
                user.is_active = True
                user.save()
                user_set_role(user=user, role=role)
            self.stdout.write(f"  {role.label:<9} {username:<9} password: {password}")
        self._owner_authenticator()

    def _owner_authenticator(self) -> None:
        """Owners confirm sign-in with a code: the demo owner gets an authenticator with a known secret, which an
        app can take from the printed key; under RETAIN_DEMO the code page also shows the current code."""
        owner = User.objects.get(username="owner")
        TOTPDevice.objects.filter(user=owner).exclude(key=DEMO_TOTP_KEY).delete()
        device, _created = TOTPDevice.objects.update_or_create(
            user=owner, key=DEMO_TOTP_KEY, defaults={"name": "Demo authenticator", "confirmed": True}
        )
        self.stdout.write(
            f"  The owner's second factor: a code from an authenticator app with the key {secret_for_manual_entry(device)}"
            " (the demo's code page shows the current code too)."
        )
