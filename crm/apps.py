from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Crm")

    def ready(self) -> None:
        from crm.privacy import CARD_PANELS
        from customers.contrib import Contribution, contribution_register

        # The personal-data panels are the privacy pages' own entry points (crm.privacy runs the requests).
        contribution_register(Contribution(app="crm", card_panels=CARD_PANELS))
