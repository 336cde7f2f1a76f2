from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Installed only so that Django finds the demo's management commands; it has no models and registers nothing."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
    verbose_name = "Demo data"
