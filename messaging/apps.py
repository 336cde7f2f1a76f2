from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Messaging")

    def ready(self) -> None:
        from customers.contrib import Contribution, MergeMover, contribution_register
        from messaging import privacy
        from shop.schedules import Schedule, schedule_register

        contribution_register(
            Contribution(
                app="messaging",
                export_parts=privacy.EXPORT_PARTS,
                erasers=privacy.ERASERS,
                merge_movers=(
                    MergeMover(
                        "messages",
                        180,
                        lambda survivor, duplicate: privacy.messages_move(
                            from_customer_id=duplicate.pk, to_customer_id=survivor.pk
                        ),
                    ),
                ),
            )
        )
        schedule_register(Schedule(name=_("Send due messages"), task="messaging.send_batch", every=1))
        schedule_register(Schedule(name=_("Settle messages of stopped workers"), task="messaging.sweep", every=10))
