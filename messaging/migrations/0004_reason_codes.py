"""Reasons stored as sentences become reason codes (``messaging.reasons``).

Before, a message's ``error`` held a sentence in whatever language the worker had active (English or Russian), or
a provider's own text. Each known sentence, in either language, becomes its code; a cap's sentence keeps its two
figures; the SMS gateway's refusals keep the gateway's words as the provider's detail. Any other text is kept as
it was, as the raw detail of the code "other". The feedback app's survey invitations (which copied their message's
sentence) are converted by feedback's migration with :func:`stored_reason`, so the mapping is written once.

The rows are updated with one statement per table: the distinct texts are read, mapped here, and written back by
joining the table to the (old, new) pairs."""

import json
import re
from typing import Any

from django.db import migrations

# The sentences the code wrote, in English and in the Russian of the catalogue at the time, by code.
SENTENCES = {
    "cancelled": ("Cancelled.", "Отменено."),
    "unsubscribed": ("Unsubscribed from offers before sending.", "Клиент отписался от предложений до отправки."),
    "surveys_unsubscribed": ("Unsubscribed before sending.", "Клиент отписался до отправки."),
    "erased": ("Personal data erased before sending.", "Персональные данные удалены до отправки."),
    "no_consent": ("No consent to marketing on this channel.", "Нет согласия на рекламу по этому каналу."),
    "interrupted_resent": (
        "Interrupted; sent again with the same id.",
        "Отправка прервана; отправлено повторно с тем же идентификатором.",
    ),
    "interrupted": ("The send was interrupted; it may have left.", "Отправка прервана; сообщение могло уйти."),
    "worker_stopped_resent": (
        "The worker stopped while sending; sent again with the same id, which the provider deduplicates.",
        "Обработчик остановился во время отправки; отправлено повторно с тем же идентификатором, по которому "
        "провайдер отбрасывает дубли.",
    ),
    "worker_stopped": (
        "The worker stopped while sending; the message may have left.",
        "Обработчик остановился во время отправки; сообщение могло уйти.",
    ),
    "database_restarted": (
        "The database restarted while this was being sent; the message may have left.",
        "База данных перезапустилась во время отправки; сообщение могло уйти.",
    ),
    "not_accepted": ("The email backend did not accept the message.",),
}
_BY_SENTENCE = {sentence: code for code, sentences in SENTENCES.items() for sentence in sentences}
_CAPPED = (
    re.compile(r"Not sent: the customer already had (?P<n>\d+) messages in (?P<days>\d+) days\."),
    re.compile(r"Не отправлено: покупатель уже получил (?P<n>\d+) сообщ\. за (?P<days>\d+) дн\."),
)
_GATEWAY_REFUSED = re.compile(r"SMS gateway refused: (?P<detail>.*)", re.DOTALL)
_GATEWAY_HTTP = re.compile(r"SMS gateway answered HTTP (?P<status>\d+)")
# The demo's failed survey emails.
_DEMO_MAILBOX = re.compile(r"(?P<detail>550 5\.1\.1 Mailbox unavailable) \(after \d+ attempts\)")
_CODES = {*SENTENCES, "capped", "gateway_http", "provider", "other"}


def _store(code: str, **params: Any) -> str:
    return f"{code} {json.dumps(params, ensure_ascii=False, sort_keys=True)}" if params else code


def stored_reason(text: str) -> str:
    """The reason code (with its parameters) for a text stored before the codes."""
    if text in _BY_SENTENCE:
        return _BY_SENTENCE[text]
    for pattern in _CAPPED:
        if found := pattern.fullmatch(text):
            return _store("capped", n=int(found["n"]), days=int(found["days"]))
    if found := _GATEWAY_HTTP.fullmatch(text):
        return _store("gateway_http", status=int(found["status"]))
    for pattern in (_GATEWAY_REFUSED, _DEMO_MAILBOX):
        if found := pattern.fullmatch(text):
            return _store("provider", detail=found["detail"])
    if text.partition(" ")[0] in _CODES:  # already a code (the migration run again)
        return text
    return _store("other", detail=text)


def convert_table(schema_editor: Any, table: str) -> None:
    """Every distinct non-empty ``error`` of ``table`` rewritten as its code, in one UPDATE."""
    quoted = schema_editor.quote_name(table)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT error FROM {quoted} WHERE error <> ''")  # noqa: S608 -- our table
        pairs = [(old, new) for (old,) in cursor.fetchall() if (new := stored_reason(old)) != old]
        if not pairs:
            return
        cursor.execute(
            f"UPDATE {quoted} AS t SET error = v.new FROM unnest(%s::text[], %s::text[]) AS v(old, new) "  # noqa: S608
            "WHERE t.error = v.old",
            [[old for old, _new in pairs], [new for _old, new in pairs]],
        )


def codes_back_to_english(schema_editor: Any, table: str) -> None:
    """Back: each plain code as its English sentence (what the code before wrote with English active)."""
    quoted = schema_editor.quote_name(table)
    codes = list(SENTENCES)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quoted} AS t SET error = v.sentence "  # noqa: S608 -- our table
            "FROM unnest(%s::text[], %s::text[]) AS v(code, sentence) WHERE t.error = v.code",
            [codes, [SENTENCES[code][0] for code in codes]],
        )


def forward(apps: Any, schema_editor: Any) -> None:
    convert_table(schema_editor, apps.get_model("messaging", "Message")._meta.db_table)


def backward(apps: Any, schema_editor: Any) -> None:
    codes_back_to_english(schema_editor, apps.get_model("messaging", "Message")._meta.db_table)


class Migration(migrations.Migration):
    dependencies = [("messaging", "0003_claimed_on")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
