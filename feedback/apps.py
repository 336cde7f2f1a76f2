from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self) -> None:
        from feedback.receivers import on_orders_delivered
        from orders.signals import orders_delivered
        from shop.schedules import Schedule, schedule_register

        orders_delivered.connect(on_orders_delivered, dispatch_uid="feedback.orders_delivered")
        schedule_register(Schedule(name=_("Send due survey invitations"), task="feedback.send_batch", every=1))
        schedule_register(Schedule(name=_("Sweep deliveries without a survey"), task="feedback.sweep", every=10))
