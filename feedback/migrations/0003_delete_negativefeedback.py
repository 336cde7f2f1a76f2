from django.db import migrations


class Migration(migrations.Migration):
    """Unhappy answers now raise churn signals in the scoring engine (scoring.ChurnSignal); the table that stood in
    for them while feedback could not reach scoring is dropped."""

    dependencies = [("feedback", "0002_invitation_claim")]

    operations = [
        migrations.RemoveField(model_name="negativefeedback", name="customer"),
        migrations.RemoveField(model_name="negativefeedback", name="response"),
        migrations.DeleteModel(name="NegativeFeedback"),
    ]
