from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = _("Scoring")

    def ready(self) -> None:
        from customers.contrib import Contribution, MergeMover, contribution_register
        from customers.signals import customer_merged
        from orders.signals import orders_changed
        from scoring import card, privacy
        from scoring.listing import SCORE_LIST
        from scoring.receivers import on_customer_merged, on_orders_changed
        from scoring.services import score_records_move
        from shop.schedules import Schedule, schedule_register

        orders_changed.connect(on_orders_changed, dispatch_uid="scoring.orders_changed")
        customer_merged.connect(on_customer_merged, dispatch_uid="scoring.customer_merged")
        contribution_register(
            Contribution(
                app="scoring",
                list=SCORE_LIST,
                card_panels=card.CARD_PANELS,
                export_parts=privacy.EXPORT_PARTS,
                # After feedback's mover: handling a complaint locks the follow-up, then its churn signal.
                merge_movers=(
                    MergeMover(
                        "scores",
                        300,
                        lambda survivor, duplicate: score_records_move(
                            from_customer_id=duplicate.pk, to_customer_id=survivor.pk
                        ),
                    ),
                ),
            )
        )
        schedule_register(Schedule(name=_("Refit the scores every night"), task="scoring.nightly", crontab=("30", "3")))
        schedule_register(
            Schedule(
                name=_("Re-queue lost scoring runs, fail dead ones"), task="scoring.sweep", every=10, period="minutes"
            )
        )
