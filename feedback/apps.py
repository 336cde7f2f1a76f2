from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self) -> None:
        from customers.contrib import Contribution, MergeMover, contribution_register
        from feedback import card, privacy
        from feedback.receivers import on_orders_delivered
        from feedback.services import survey_records_move
        from feedback.services.sending import KINDS
        from messaging.kinds import message_kind_register
        from orders.signals import orders_delivered
        from shop.schedules import Schedule, schedule_register

        orders_delivered.connect(on_orders_delivered, dispatch_uid="feedback.orders_delivered")
        contribution_register(
            Contribution(
                app="feedback",
                card_panels=card.CARD_PANELS,
                timeline=card.TIMELINE,
                export_parts=privacy.EXPORT_PARTS,
                erasers=privacy.ERASERS,
                # Before scoring's mover: handling a complaint locks the follow-up, then its churn signal.
                merge_movers=(
                    MergeMover(
                        "surveys",
                        200,
                        lambda survivor, duplicate: survey_records_move(
                            from_customer_id=duplicate.pk, to_customer_id=survivor.pk
                        ),
                    ),
                ),
            )
        )
        for kind in KINDS:
            message_kind_register(kind)
        schedule_register(Schedule(name=_("Sweep deliveries without a survey"), task="feedback.sweep", every=10))
