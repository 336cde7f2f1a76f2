from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from customers import card, merging, privacy
        from customers.contrib import Contribution, contribution_register

        contribution_register(
            Contribution(
                app="customers",
                card_panels=card.CARD_PANELS,
                timeline=card.TIMELINE,
                export_parts=privacy.EXPORT_PARTS,
                erasers=privacy.ERASERS,
                merge_movers=merging.MERGE_MOVERS,
            )
        )
