from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self) -> None:
        from customers.signals import customer_merged
        from feedback.receivers import on_customer_merged, on_orders_delivered
        from orders.signals import orders_delivered
        from shop.schedules import Schedule, schedule_register

        orders_delivered.connect(on_orders_delivered, dispatch_uid="feedback.orders_delivered")
        customer_merged.connect(on_customer_merged, dispatch_uid="feedback.customer_merged")
        schedule_register(Schedule(name=_("Send due survey invitations"), task="feedback.send_batch", every=1))
        schedule_register(Schedule(name=_("Sweep deliveries without a survey"), task="feedback.sweep", every=10))
