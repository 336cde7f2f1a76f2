from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self) -> None:
        import loyalty.campaigns.tasks  # noqa: F401 -- registers the campaign tasks with Celery
        from customers.contrib import Contribution, contribution_register
        from loyalty import card, listing, privacy
        from loyalty.campaigns import card as campaigns_card
        from loyalty.campaigns.runner import MESSAGE_KIND
        from loyalty.campaigns.services import recipients_settle
        from loyalty.receivers import on_orders_changed, on_orders_delivered
        from messaging.kinds import MessageKind, message_kind_register
        from orders.signals import orders_changed, orders_delivered
        from shop.schedules import Schedule, schedule_register

        orders_delivered.connect(on_orders_delivered, dispatch_uid="loyalty.orders_delivered")
        orders_changed.connect(on_orders_changed, dispatch_uid="loyalty.orders_changed")
        schedule_register(
            Schedule(name=_("Expire store credit past its date"), task="loyalty.expire", crontab=("15", "2"))
        )
        schedule_register(Schedule(name=_("Run retention campaigns"), task="loyalty.campaigns_run", every=15))
        message_kind_register(MessageKind(MESSAGE_KIND, settle=recipients_settle))
        contribution_register(
            Contribution(
                app="loyalty",
                list=listing.LOYALTY_LIST,
                card_panels=card.CARD_PANELS + campaigns_card.CARD_PANELS,
                timeline=card.TIMELINE,
                export_parts=privacy.EXPORT_PARTS + campaigns_card.EXPORT_PARTS,
                erasers=privacy.ERASERS,
                merge_movers=privacy.MERGE_MOVERS + campaigns_card.MERGE_MOVERS,
            )
        )
