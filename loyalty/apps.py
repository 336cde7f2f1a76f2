from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self) -> None:
        from customers.contrib import Contribution, contribution_register
        from loyalty import card, listing, privacy
        from loyalty.receivers import on_orders_changed, on_orders_delivered
        from orders.signals import orders_changed, orders_delivered
        from shop.schedules import Schedule, schedule_register

        orders_delivered.connect(on_orders_delivered, dispatch_uid="loyalty.orders_delivered")
        orders_changed.connect(on_orders_changed, dispatch_uid="loyalty.orders_changed")
        schedule_register(
            Schedule(name=_("Expire store credit past its date"), task="loyalty.expire", crontab=("15", "2"))
        )
        contribution_register(
            Contribution(
                app="loyalty",
                list=listing.LOYALTY_LIST,
                card_panels=card.CARD_PANELS,
                timeline=card.TIMELINE,
                export_parts=privacy.EXPORT_PARTS,
                erasers=privacy.ERASERS,
                merge_movers=privacy.MERGE_MOVERS,
            )
        )
