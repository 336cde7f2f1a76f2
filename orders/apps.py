from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from customers.contrib import Contribution, ListExtension, contribution_register
        from orders import card, merge, privacy, search
        from shop.schedules import Schedule, schedule_register

        contribution_register(
            Contribution(
                app="orders",
                list=ListExtension(name="orders", number_search=search.customers_with_order_number),
                timeline=card.TIMELINE,
                export_parts=privacy.EXPORT_PARTS,
                erasers=privacy.ERASERS,
                merge_movers=merge.MERGE_MOVERS,
            )
        )

        schedule_register(
            Schedule(
                name=_("Forget webhook event ids older than a month"),
                task="orders.webhook_events_expire",
                every=1,
                period="days",
            )
        )
        schedule_register(
            Schedule(
                name=_("Delete uploaded import files older than their retention"),
                task="orders.import_files_purge",
                crontab=("40", "3"),
            )
        )
        # A broker outage leaves the follow-up work of stored orders pending in PostgreSQL: sent once it is back.
        schedule_register(
            Schedule(
                name=_("Send the follow-up work of stored orders that a broker outage held back"),
                task="orders.order_events_sweep",
                every=1,
            )
        )
        # Every few minutes, well inside ImportJob.STALE_AFTER: a dead worker's import resumes soon after it is
        # judged dead, and the sweep is one small query when nothing is stale.
        schedule_register(
            Schedule(
                name=_("Resume imports that stopped making progress, fail those that keep stopping"),
                task="orders.csv_imports_sweep",
                every=5,
            )
        )
