"""The "valuable and at risk" flag: a constant default, so PostgreSQL adds the column without rewriting the table."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0004_customer_name_index'),
        ('scoring', '0011_score_truth_model_churn_horizon_backtest'),
    ]

    operations = [
        migrations.AddField(
            model_name='customerscore',
            name='at_risk_valuable',
            field=models.BooleanField(default=False),
        ),
    ]
