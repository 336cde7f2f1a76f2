import hashlib
import secrets
from decimal import Decimal
from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from shop.roles import ROLE_CAPABILITIES, Capability, Role, permission_codename


class User(AbstractUser):  # type: ignore[django-manager-missing]  # django-otp's devices name no related manager
    """A member of the shop's staff. The role is the membership of one of the role groups."""

    language = models.CharField(
        _("interface language"),
        max_length=8,
        blank=True,
        choices=[("ru", "Русский"), ("en", "English")],
        help_text=_("Empty: the shop's default language."),
    )
    extension = models.CharField(
        _("telephony extension"),
        max_length=32,
        blank=True,
        help_text=_("The operator's extension or login in the telephony system, so incoming calls reach them."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        permissions: ClassVar = [(permission_codename(c.value), c.label) for c in Capability]

    @cached_property
    def role(self) -> str | None:
        """The user's role name, the strongest if several groups were given by hand.

        Cached on the instance: every page asks it once per capability (navigation, panels, guards), and a request
        holds its own user instance, so a role change is seen from the next request on."""
        if self.is_superuser:
            return Role.OWNER
        names = {group.name for group in self.groups.all()}
        for role in (Role.OWNER, Role.MANAGER, Role.OPERATOR):
            if role in names:
                return role
        return None

    @property
    def role_label(self) -> str:
        role = self.role
        return str(Role(role).label) if role else ""

    def can(self, capability: str) -> bool:
        """Whether the user's role grants ``capability`` (a line of the role matrix)."""
        if not self.is_active:
            return False
        role = self.role
        return role is not None and capability in ROLE_CAPABILITIES[role]


class Currency(models.TextChoices):
    RUB = "RUB", _("Russian rouble (₽)")
    KZT = "KZT", _("Kazakhstani tenge (₸)")
    USD = "USD", _("US dollar ($)")
    EUR = "EUR", _("Euro (€)")


TIME_ZONE_CHOICES = [
    (name, name)
    for name in (
        "Europe/Kaliningrad",
        "Europe/Moscow",
        "Europe/Samara",
        "Asia/Yekaterinburg",
        "Asia/Omsk",
        "Asia/Novosibirsk",
        "Asia/Krasnoyarsk",
        "Asia/Irkutsk",
        "Asia/Yakutsk",
        "Asia/Vladivostok",
        "Asia/Magadan",
        "Asia/Kamchatka",
        "Asia/Almaty",
        "Asia/Aqtobe",
        "Asia/Qyzylorda",
        "Europe/Minsk",
        "Europe/Berlin",
        "Europe/London",
        "UTC",
    )
]


# Stored in English until the owner names the shop; shown in the reader's language (``display_name``).
DEFAULT_SHOP_NAME = "My shop"


class ShopSettings(models.Model):
    """The one record of the shop's own settings. Read it with :meth:`load`."""

    CACHE_KEY = "shop-settings"

    name = models.CharField(_("shop name"), max_length=200, default=DEFAULT_SHOP_NAME)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.RUB)
    time_zone = models.CharField(_("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="Europe/Moscow")
    phone_region = models.CharField(
        _("default phone region"),
        max_length=2,
        default="RU",
        choices=[("RU", _("Russia (+7)")), ("KZ", _("Kazakhstan (+7)")), ("BY", _("Belarus (+375)"))],
        help_text=_("How numbers written without a country code are read."),
    )
    gross_margin_percent = models.DecimalField(
        _("gross margin, %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("30.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("The share of revenue left after the cost of goods; lifetime value is counted in margin."),
    )
    monthly_discount_rate_percent = models.DecimalField(
        _("monthly discount rate, %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("50"))],
        help_text=_("How much less a rouble next month is worth than one today, for predicted lifetime value."),
    )
    language = models.CharField(
        _("default language"), max_length=8, choices=[("ru", "Русский"), ("en", "English")], default="ru"
    )
    operator_cards_per_hour = models.PositiveIntegerField(
        _("cards an operator may open an hour"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(10000)],
        help_text=_(
            "Openings of customers' cards and console searches by one operator within any hour; the next one is "
            "refused and you are alerted."
        ),
    )
    audit_retention_days = models.PositiveIntegerField(
        _("keep the audit log, days"),
        default=365,
        validators=[MinValueValidator(30), MaxValueValidator(3650)],
        help_text=_("Older entries are deleted every night."),
    )
    managers_require_two_factor = models.BooleanField(
        _("managers sign in with a second factor"),
        default=False,
        help_text=_(
            "Owners always confirm sign-in with a code from an authenticator app; with this on, managers must too."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("shop settings")
        verbose_name_plural = _("shop settings")
        constraints: ClassVar = [models.CheckConstraint(condition=models.Q(pk=1), name="shop_settings_singleton")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = 1
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        cache.delete(self.CACHE_KEY)

    @classmethod
    def load(cls) -> "ShopSettings":
        """The shop's settings, created with defaults on first use and cached per process."""
        settings = cache.get(cls.CACHE_KEY)
        if settings is None:
            settings, _created = cls.objects.get_or_create(pk=1)
            cache.set(cls.CACHE_KEY, settings, 60)
        return settings

    @property
    def display_name(self) -> str:
        """The shop's name as pages show it: the unnamed shop's default in the reader's language."""
        return str(_("My shop")) if self.name == DEFAULT_SHOP_NAME else self.name

    @property
    def gross_margin(self) -> Decimal:
        return self.gross_margin_percent / Decimal(100)

    @property
    def monthly_discount_rate(self) -> Decimal:
        return self.monthly_discount_rate_percent / Decimal(100)


class IntegrationTokenQuerySet(models.QuerySet["IntegrationToken"]):
    def active(self) -> "IntegrationTokenQuerySet":
        return self.filter(revoked_at__isnull=True)


class IntegrationToken(models.Model):
    """A secret that lets the shop's platform call the API within its scopes.

    The secret is shown once when the token is created and only its SHA-256 is stored: it is 32 random bytes, so a
    slow password hash buys nothing and would cost every API call. The prefix finds the row without a scan.
    """

    PREFIX = "rt"

    name = models.CharField(_("name"), max_length=100)
    key_prefix = models.CharField(_("key prefix"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    # The sources (``Order.source``) the token may write: a token cannot overwrite another source's orders. Empty:
    # only the source named after the token itself.
    sources = models.JSONField(_("sources"), default=list, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    lookup_rate_per_second = models.PositiveIntegerField(
        _("lookups a second"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(10000)],
        help_text=_("More caller lookups within one second are answered 429 with Retry-After."),
    )

    objects = IntegrationTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("integration token")
        verbose_name_plural = _("integration tokens")
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, capability: str) -> bool:
        return self.is_active and capability in self.scopes

    @property
    def bound_sources(self) -> list[str]:
        """The sources this token may write under, its default first."""
        return list(self.sources) or [slugify(self.name)[:60] or "api"]

    @property
    def scope_labels(self) -> list[str]:
        """The scopes in the reader's language, as the token form offers them (a scope no longer known as itself)."""
        return [str(Capability(scope).label) if scope in Capability.values else scope for scope in self.scopes]

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def new_key(cls) -> tuple[str, str, str]:
        """A fresh ``(full key, prefix, secret)``; the full key is ``rt_<prefix>_<secret>``."""
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        return f"{cls.PREFIX}_{prefix}_{secret}", prefix, secret


class IdempotencyKey(models.Model):
    """A request that carried an ``Idempotency-Key``: claimed by inserting this row (the unique constraint, not a
    check in Python, stops a duplicate), then completed with the answer that a repeat of the request replays."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", _("In flight")
        DONE = "done", _("Done")

    owner = models.CharField(max_length=40, help_text=_("token:<id> or user:<id>: keys are private to their sender"))
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text=_("SHA-256 of method, path and body"))
    state = models.CharField(max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints: ClassVar = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"


class AuditKind(models.TextChoices):
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Failed sign-in")
    LOOKUP = "lookup", _("Caller looked up")
    CARD_VIEW = "card_view", _("Card opened")
    CARD_REFUSED = "card_refused", _("Card refused")
    CARD_LIMIT = "card_limit", _("Card limit reached")
    EXPORT = "export", _("Export")
    ERASURE = "erasure", _("Personal data erased")
    SETTINGS = "settings", _("Settings changed")
    USER = "user", _("User changed")
    TOKEN = "token", _("Token changed")
    RULE = "rule", _("Loyalty rule changed")
    MONEY = "money", _("Credit adjusted")


class AuditReason(models.TextChoices):
    """Why a customer was looked at: what brought the card to the screen."""

    CALL = "call", _("call")
    MISSED_CALL = "missed_call", _("missed call")
    SEARCH = "search", _("search")
    BROWSE = "browse", _("customer list")
    API = "api", _("API")
    NO_LINK = "no_link", _("not from a call or a search")
    LIMIT = "limit", _("over the hourly limit")


class AuditEntry(models.Model):
    """One thing a person or a token did that the owner may need to account for: who, what, to whom, when, why.

    Append-only and written with one INSERT (``shop.audit.audit_record``) on the paths it watches, lookups included,
    so it must stay narrow. ``customer_id`` is a plain number: the shop layer knows no customer table, and an entry
    must outlive an erasure without holding any personal data itself. The actor's name is copied into ``actor`` and
    the foreign keys carry no constraint, so deleting an account or a token neither blocks on nor rewrites its
    history."""

    at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(_("what"), max_length=20, choices=AuditKind.choices)
    reason = models.CharField(_("why"), max_length=16, choices=AuditReason.choices, blank=True)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    token = models.ForeignKey(
        IntegrationToken, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor = models.CharField(_("who"), max_length=150, blank=True)
    customer_id = models.BigIntegerField(_("customer"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    detail = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes: ClassVar = [
            # Each filter of the owner's page is a range of one index read newest first (keyset on (at, id)), and
            # the nightly pruning deletes a range of the first.
            models.Index(fields=["at", "id"], name="audit_at"),
            models.Index(fields=["kind", "at", "id"], name="audit_kind_at"),
            models.Index(fields=["user", "at", "id"], name="audit_user_at", condition=models.Q(user__isnull=False)),
            models.Index(fields=["token", "at", "id"], name="audit_token_at", condition=models.Q(token__isnull=False)),
            models.Index(
                fields=["customer_id", "at"], name="audit_customer_at", condition=models.Q(customer_id__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.kind}"


# The second factor's backup codes live beside it; imported here so Django registers them with the shop app.
from shop.models_twofactor import BackupCode, BackupCodeDevice  # noqa: E402, F401
