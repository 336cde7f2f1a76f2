from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = _("Scoring")

    def ready(self) -> None:
        from customers.signals import customer_merged
        from orders.signals import orders_changed
        from scoring.listing import register as register_list_columns
        from scoring.receivers import on_customer_merged, on_orders_changed
        from shop.schedules import Schedule, schedule_register

        orders_changed.connect(on_orders_changed, dispatch_uid="scoring.orders_changed")
        customer_merged.connect(on_customer_merged, dispatch_uid="scoring.customer_merged")
        register_list_columns()
        schedule_register(Schedule(name=_("Refit the scores every night"), task="scoring.nightly", crontab=("30", "3")))
        schedule_register(
            Schedule(
                name=_("Re-queue lost scoring runs, fail dead ones"), task="scoring.sweep", every=10, period="minutes"
            )
        )
