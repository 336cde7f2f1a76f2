"""A campaign's stop reason becomes a code: it held the sentence "The budget is spent." in whatever language the
worker that stopped it spoke. Both languages' sentences become ``budget_spent``; any other text stays as it is."""

from typing import Any

from django.db import migrations, models

SENTENCES = {"budget_spent": ("The budget is spent.", "Бюджет израсходован.")}


def forward(apps: Any, schema_editor: Any) -> None:
    campaigns = apps.get_model("loyalty", "Campaign").objects
    for code, sentences in SENTENCES.items():
        campaigns.filter(stopped_reason__in=sentences).update(stopped_reason=code)


def backward(apps: Any, schema_editor: Any) -> None:
    campaigns = apps.get_model("loyalty", "Campaign").objects
    for code, sentences in SENTENCES.items():
        campaigns.filter(stopped_reason=code).update(stopped_reason=sentences[0])


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0007_account_updates_in_place")]

    operations = [
        migrations.AlterField(
            model_name="campaign",
            name="stopped_reason",
            field=models.CharField(
                blank=True, choices=[("budget_spent", "The budget is spent.")], max_length=200, verbose_name="stopped"
            ),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
