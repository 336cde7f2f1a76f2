from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from shop.schedules import Schedule, schedule_register

        schedule_register(
            Schedule(
                name=_("Forget webhook event ids older than a month"),
                task="orders.webhook_events_expire",
                every=1,
                period="days",
            )
        )
