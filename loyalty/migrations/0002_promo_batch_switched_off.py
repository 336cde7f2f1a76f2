"""Who switched a promo batch off, and when: the owner's page shows it, and a refused code names the date."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0001_rules_ledger_codes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="promobatch",
            name="deactivated_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="switched off"),
        ),
        migrations.AddField(
            model_name="promobatch",
            name="deactivated_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
