"""The second factor's backup codes: a django-otp device per staff member holding hashed single-use codes."""

import secrets
from typing import ClassVar

from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device


class BackupCodeDevice(Device):
    """A staff member's sheet of single-use backup codes: the way in when the phone with the authenticator is lost.

    A django-otp device, so a code verifies the session the same way a TOTP code does and django-otp's middleware
    knows it. Each code has 50 random bits and only its keyed hash is stored (``BackupCode.digest``).
    """

    class Meta(Device.Meta):
        verbose_name = _("backup codes")
        verbose_name_plural = _("backup codes")

    def verify_token(self, token: str) -> bool:
        """Spend one unused code; true only for the request whose UPDATE marked it used, so a code works once even
        when two requests carry it at the same moment."""
        digests = BackupCode.digests(token)
        if not digests:
            return False
        spent = BackupCode.objects.filter(device=self, digest__in=digests, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        return spent > 0


class BackupCode(models.Model):
    ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols without 0/O and 1/I, read aloud or typed from paper
    LENGTH = 10  # 10 symbols of 32 = 50 bits: no online guessing reaches one, and a stolen table holds no code

    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("backup code")
        verbose_name_plural = _("backup codes")
        constraints: ClassVar = [models.UniqueConstraint(fields=["device", "digest"], name="backup_code_unique")]

    def __str__(self) -> str:
        return f"{self.device_id}: {'used' if self.used_at else 'unused'}"

    @classmethod
    def new_code(cls) -> str:
        code = "".join(secrets.choice(cls.ALPHABET) for _ in range(cls.LENGTH))
        return f"{code[:5]}-{code[5:]}"

    @staticmethod
    def normalise(token: str) -> str:
        return "".join(character for character in token.upper() if character.isalnum())

    @classmethod
    def digests(cls, token: str) -> list[str]:
        """The code's HMAC under the secret key and its fallbacks, so a rotated key keeps the printed codes valid
        while the old key stays in ``SECRET_KEY_FALLBACKS``. Empty for anything that cannot be a code."""
        code = cls.normalise(token)
        if len(code) != cls.LENGTH or any(character not in cls.ALPHABET for character in code):
            return []
        keys = [django_settings.SECRET_KEY, *django_settings.SECRET_KEY_FALLBACKS]
        return [salted_hmac("retain.backup-code", code, secret=key, algorithm="sha256").hexdigest() for key in keys]
