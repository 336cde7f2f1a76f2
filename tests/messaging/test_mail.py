"""A batch's emails: the same bytes as Django's own message (but for the boundary the batch chose), with headers
folded once."""

from email import policy as email_policy
from email.generator import BytesGenerator
from email.message import Message
from io import BytesIO
from typing import Any

import pytest
from django.core.mail import EmailMultiAlternatives

from messaging.mail import FOLDING_ONCE, BatchEmail, batch_boundary

HEADERS = {
    "Date": "Sun, 06 Dec 2026 07:00:00 -0000",
    "Message-ID": "<retain-message-42@retain>",
    "List-Unsubscribe": "<https://shop.example/feedback/unsubscribe/" + "a1b2c3d4:" * 12 + "/>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


SURVEY = "Здравствуйте!\nСсылка: https://shop.example/s/abc\n"
SHAPES: dict[str, dict[str, Any]] = {
    "survey": {"text": SURVEY, "html": f"<p>{SURVEY}</p>"},
    "ascii": {"text": "Hello\nhttps://shop.example/s/abc\n", "html": "<p>Hello</p>"},
    "plain only": {"text": SURVEY, "html": None},
    "html only": {"text": "", "html": f"<p>{SURVEY}</p>"},
    "a long line (quoted-printable)": {"text": "ё" * 600, "html": "<p>" + "x" * 1200 + "</p>"},
    "copies and a To header": {
        "text": SURVEY,
        "html": "<b>!</b>",
        "cc": ["boss@example.com"],
        "reply_to": ["Отдел <care@example.com>"],
        "headers": {"To": "Анна <anna@example.com>"},
    },
}


def _pair(
    boundary: str,
    *,
    text: str = SURVEY,
    html: str | None = "<p>!</p>",
    headers: dict[str, str] | None = None,
    **more: Any,
) -> tuple[BatchEmail, EmailMultiAlternatives]:
    subject = "Как вам заказ из «Магазина»? Расскажите, пожалуйста, это займёт минуту"
    sender, to, all_headers = "Магазин <shop@example.com>", ["anna@example.com"], {**HEADERS, **(headers or {})}
    ours = BatchEmail(subject, text, sender, to, headers=all_headers, boundary=boundary, **more)
    theirs = EmailMultiAlternatives(subject, text, sender, to, headers=all_headers, **more)
    if html is not None:
        for email in (ours, theirs):
            email.attach_alternative(html, "text/html")
    return ours, theirs


@pytest.mark.parametrize("linesep", ["\n", "\r\n"])
@pytest.mark.parametrize("shape", SHAPES)
def test_a_batch_email_is_the_bytes_django_writes_with_the_batch_boundary(shape, linesep):
    boundary = batch_boundary()
    extra = {"X-Long": "word " * 30 + "end", "X-Cyrillic": "Отзыв о заказе"}
    ours, theirs = _pair(boundary, **{**SHAPES[shape], "headers": {**extra, **SHAPES[shape].get("headers", {})}})
    expected = theirs.message()
    if expected.is_multipart():
        expected.set_boundary(boundary)
    for _twice in range(2):  # the second time from what was remembered
        assert _written(ours.message(), linesep) == _written(expected, linesep)


def test_the_date_and_message_id_are_made_when_not_given():
    ours = BatchEmail("Тема", "Текст", "shop@example.com", ["anna@example.com"], boundary=batch_boundary())
    message = ours.message()
    assert message["Date"] and message["Message-ID"].endswith(">")


def test_an_attachment_leaves_the_message_to_django():
    ours, theirs = _pair(batch_boundary())
    for email in (ours, theirs):
        email.attach("note.txt", "Примечание", "text/plain")
    message = ours.message()
    assert message.get_content_subtype() == "mixed"
    assert [part.get_content_type() for part in message.walk()] == [
        part.get_content_type() for part in theirs.message().walk()
    ]


def _written(message: Message, linesep: str) -> bytes:
    """The bytes Django's backends send (``as_bytes`` of its MIME classes, SMTP with CRLF)."""
    out = BytesIO()
    BytesGenerator(out, mangle_from_=False).flatten(message, linesep=linesep)
    return out.getvalue()


def test_a_part_holding_the_boundary_gets_a_boundary_of_its_own():
    boundary = batch_boundary()
    ours, _theirs = _pair(boundary, text=f"--{boundary}\n")
    message = ours.message()
    written = message.as_bytes()
    assert message.get_boundary() != boundary
    assert written.count(f"--{message.get_boundary()}".encode()) == 3  # two parts and the close


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain",
        "x" * 60,
        "x" * 61,
        "x" * 62,
        "x" * 80,
        "two  spaces",
        "trailing ",
        " leading",
        "a, b; c " * 20,
        "tab\there",
        "Кириллица",
        "=?utf-8?b?0JrQsNC6?=",
        "<https://shop.example/" + "z" * 90 + ">",
    ],
)
@pytest.mark.parametrize("linesep", ["\n", "\r\n"])
def test_each_header_folds_as_compat32_folds_it(value, linesep):
    ours = FOLDING_ONCE.clone(linesep=linesep)
    theirs = email_policy.compat32.clone(linesep=linesep)
    for name in ("Subject", "List-Unsubscribe"):
        assert ours.fold_binary(name, value) == theirs.fold_binary(name, value)
        assert ours.fold(name, value) == theirs.fold(name, value)
