from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_role_groups(sender: AppConfig, **kwargs: Any) -> None:
    """Keep the role groups and their permissions in step with the role matrix after every migrate.

    A flush (``TransactionTestCase``, ``live_server`` tests) empties the groups that the data migration created,
    and Django rebuilds contenttypes and permissions on post_migrate only; without this the next test or a reset
    database would have staff with no role at all.
    """
    from shop.services import role_groups_sync

    role_groups_sync(using=kwargs.get("using", "default"))


def _sync_schedules(sender: AppConfig, **kwargs: Any) -> None:
    from shop.schedules import schedules_sync

    schedules_sync(using=kwargs.get("using", "default"))


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = _("Shop")

    def ready(self) -> None:
        # Registers the OpenAPI description of token authentication (drf-spectacular finds extensions on import).
        from shop import (  # noqa: F401  (connect their sign-in receivers)
            log_masking,
            schema,
            session_lifetime,
            twofactor,
        )

        log_masking.install()

        post_migrate.connect(_sync_role_groups, sender=self, dispatch_uid="shop.sync_role_groups")
        post_migrate.connect(_sync_schedules, sender=self, dispatch_uid="shop.sync_schedules")

        from shop.audit import audit_signals_connect
        from shop.schedules import Schedule, schedule_register

        audit_signals_connect()
        schedule_register(
            Schedule(
                name=_("Delete audit log entries older than the shop keeps them"),
                task="shop.audit_prune",
                crontab=("20", "3"),
            )
        )

        schedule_register(
            Schedule(
                name=_("Forget idempotency keys older than a day"),
                task="shop.idempotency_keys_expire",
                every=1,
                period="hours",
            )
        )
