"""The second factor: who must confirm a sign-in with a code, enrolment of an authenticator app (TOTP, django-otp),
single-use backup codes, and the owner's reset of a staff member's devices.

A session is "verified" when django-otp's middleware finds in it the device that accepted a code
(``request.user.is_verified()``); ``shop.middleware.SecondFactorMiddleware`` keeps a signed-in user who must be
verified on the verification or enrolment page until they are.
"""

import logging
from base64 import b32encode

import segno
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from shop.models import BackupCode, BackupCodeDevice, ShopSettings, User
from shop.roles import Role

log = logging.getLogger("retain.security")

BACKUP_CODE_COUNT = 10
# The demo owner's authenticator secret (hex), seeded by ``create_demo_users`` and printed with the passwords; under
# RETAIN_DEMO, which production refuses, the verification page shows its current code so the demo needs no phone.
DEMO_TOTP_KEY = "52657461696e2d64656d6f2d6f776e65722d3230"
# Set at sign-in: whether the user had a confirmed device then. A role that does not require the second factor still
# verifies when its owner chose to enrol one; remembering it in the session spares every page a device query.
ENROLLED_SESSION_KEY = "retain_second_factor_enrolled"


def second_factor_required_by_role(user: User) -> bool:
    """Owners always; managers when the owner switched it on for them (shop settings)."""
    role = user.role
    if role == Role.OWNER:
        return True
    return role == Role.MANAGER and ShopSettings.load().managers_require_two_factor


def totp_device_of(user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if enrolled."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_confirmed_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def session_verified(user: object) -> bool:
    """Whether django-otp's middleware found in the session a device of this user that accepted a code."""
    return getattr(user, "otp_device", None) is not None


def second_factor_pending(request: HttpRequest) -> bool:
    """Whether the signed-in user still owes a code (or an enrolment) before using anything else."""
    user = request.user
    if not user.is_authenticated or session_verified(user):
        return False
    assert isinstance(user, User)
    return second_factor_required_by_role(user) or bool(request.session.get(ENROLLED_SESSION_KEY))


@receiver(user_logged_in, dispatch_uid="shop.twofactor.remember_enrolment")
def _remember_enrolment(sender: type[User], request: HttpRequest, user: User, **kwargs: object) -> None:
    request.session[ENROLLED_SESSION_KEY] = has_confirmed_device(user)


def enrolment_start(*, user: User) -> TOTPDevice:
    """The unconfirmed device whose secret the enrolment page shows; the same one until it is confirmed, so reloading
    the page does not invalidate a code already scanned. Refuses a user who has a confirmed device (a reset first)."""
    if has_confirmed_device(user):
        raise ValueError("The user already has a confirmed authenticator")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)
    return device


def enrolment_confirm(*, request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the app with a code it shows, verify the session with it and issue backup codes (returned in clear,
    the only time they exist so). None when the code is wrong; nothing changes then but django-otp's throttle."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if device.confirmed or not device.verify_token(code):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # Another unconfirmed secret left from an abandoned attempt must not become a second way in.
        TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
        codes = backup_codes_issue(user=device.user)
    session_verify(request=request, device=device)
    log.info("user %s enrolled an authenticator app", device.user.username)
    return codes


def backup_codes_issue(*, user: User) -> list[str]:
    """A fresh sheet of backup codes; the previous sheet stops working. Returns the codes in clear."""
    codes = [BackupCode.new_code() for _ in range(BACKUP_CODE_COUNT)]
    with transaction.atomic():
        BackupCodeDevice.objects.filter(user=user).delete()
        device = BackupCodeDevice.objects.create(user=user, name="Backup codes", confirmed=True)
        BackupCode.objects.bulk_create(BackupCode(device=device, digest=BackupCode.digests(code)[0]) for code in codes)
    return codes


def backup_codes_left(user: User) -> int:
    return BackupCode.objects.filter(device__user=user, used_at__isnull=True).count()


def second_factor_verify(*, request: HttpRequest, user: User, code: str) -> Device | None:
    """Check a code from the app or a backup code and, when it is right, mark the session verified.

    The TOTP device refuses a code already used (its last time step) and slows down after failures (django-otp's
    throttle, doubling each time), and is locked as django-otp's own ``verify_token`` locks it, so two requests cannot
    both spend one code; a backup code is spent by the conditional UPDATE that accepts it.
    """
    digits = "".join(code.split())  # apps show "123 456"; people type it so
    device: Device | None = None
    with transaction.atomic():
        totp = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
        if totp is not None and digits.isdigit() and len(digits) == totp.digits:
            device = totp if totp.verify_token(digits) else None
        else:
            backup = BackupCodeDevice.objects.filter(user=user, confirmed=True).first()
            if backup is not None and backup.verify_token(code):
                device = backup
    if device is None:
        log.warning("wrong second-factor code for user %s", user.username)
        return None
    session_verify(request=request, device=device)
    return device


def session_verify(*, request: HttpRequest, device: Device) -> None:
    """Record the device in the session; a new session key, since the session now carries more trust."""
    request.session.cycle_key()
    otp_login(request, device)
    request.session[ENROLLED_SESSION_KEY] = True


def second_factor_reset(*, user: User, acting_user: User | None) -> int:
    """Remove a staff member's authenticator and backup codes (a lost phone). Their next page asks them to enrol
    again if their role requires it; a session verified with a removed device is no longer verified."""
    with transaction.atomic():
        removed, _by_model = TOTPDevice.objects.filter(user=user).delete()
        backup_removed, _by_model = BackupCodeDevice.objects.filter(user=user).delete()
    by = acting_user.username if acting_user is not None else "the command line"
    log.warning("second factor of user %s reset by %s", user.username, by)
    return removed + backup_removed


def qr_svg(text: str) -> str:
    """A QR code of ``text`` as inline SVG markup, drawn on the server (the secret never leaves for a QR service)."""
    return str(segno.make(text, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff"))


def secret_for_manual_entry(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, as authenticator apps ask for it when the QR code cannot be scanned."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))
