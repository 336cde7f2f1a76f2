"""A follow-up opened from the early-warning list stored its reason as a sentence in the language of whoever
clicked ("Early warning: churn risk rose from 30% to 55% since last month." or its Russian): it becomes the code
with its two figures, read in the reader's language. Any other text (typed by a person) stays as it is."""

from typing import Any

from django.db import migrations

# The sentence in both languages the view wrote, with its two whole percentages.
_SENTENCES = (
    r"^Early warning: churn risk rose from (\d+)% to (\d+)% since last month\.$",
    r"^Раннее предупреждение: риск ухода вырос с (\d+)% до (\d+)% за месяц\.$",
)


def forward(apps: Any, schema_editor: Any) -> None:
    table = schema_editor.quote_name(apps.get_model("feedback", "FollowUp")._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        for pattern in _SENTENCES:
            cursor.execute(
                f"""UPDATE {table}
                    SET reason = 'early_warning ' || json_build_object(
                        'before', (regexp_match(reason, %s))[1]::int,
                        'now', (regexp_match(reason, %s))[2]::int)::text
                    WHERE response_id IS NULL AND reason ~ %s""",
                [pattern, pattern, pattern],
            )


def backward(apps: Any, schema_editor: Any) -> None:
    table = schema_editor.quote_name(apps.get_model("feedback", "FollowUp")._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table}
                SET reason = format('Early warning: churn risk rose from %s%% to %s%% since last month.',
                                    (substr(reason, 15)::json ->> 'before'), (substr(reason, 15)::json ->> 'now'))
                WHERE response_id IS NULL AND reason LIKE 'early\\_warning {{%'"""
        )


class Migration(migrations.Migration):
    dependencies = [("feedback", "0012_invitation_reason_codes")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
