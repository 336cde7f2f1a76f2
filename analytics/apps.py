from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from shop.schedules import Schedule, schedule_register

        # After scoring's nightly refit (03:30), so the channels and the early warnings read the night's scores.
        schedule_register(
            Schedule(name=_("Refresh the analytics reports every night"), task="analytics.refresh", crontab=("30", "4"))
        )
