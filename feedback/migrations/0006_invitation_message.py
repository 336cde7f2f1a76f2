import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0005_invitation_sent_index"),
        ("messaging", "0001_outbox"),
    ]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="message",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="survey_invitation",
                to="messaging.message",
            ),
        ),
    ]
