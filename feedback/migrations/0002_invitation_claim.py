from django.db import migrations, models


class Migration(migrations.Migration):
    """Invitations claimed as a batch carry the batch's token, so a dead worker's batch can be settled as a whole;
    a partial index serves the sweep over the few rows being sent."""

    dependencies = [("feedback", "0001_invitations_answers_follow_ups")]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="claim",
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="invitation",
            index=models.Index(
                condition=models.Q(("state", "sending")), fields=["claimed_at"], name="feedback_invitation_sending"
            ),
        ),
    ]
