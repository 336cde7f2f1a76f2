"""Emails built for a sending batch: the bytes Django's own message would be, for less of the worker's CPU.

Building and writing a survey email the way ``EmailMultiAlternatives`` does cost about 1 ms of CPU, most of the
worker's time for an email: each MIME part's constructor parses and rewrites its Content-Type parameters twice, the
Subject is encoded again, each of the fifteen headers is folded through ``email.header.Header`` when written (the
Subject, From, MIME-Version, Content-Type and Content-Transfer-Encoding the same for every message of a batch), and a
random boundary is drawn and looked for in the text with a regular expression compiled for it. Here the parts and the
container are copies of ones Django's classes built, the Subject's encoding and the folding of repeated headers are
remembered, a header too short and plain to fold is not folded, and the batch draws one boundary, used on each
message whose parts do not contain it: about 0.4 ms. The bytes are Django's but for the boundary's random digits,
for every shape of email the tests build (``tests/messaging/test_mail.py``); anything else (attachments, another
charset) is Django's message as it is, with the same folding.
"""

import copy
import functools
import random
import re
import sys
from collections.abc import Callable
from email._policybase import Compat32
from email.message import EmailMessage, Message
from email.utils import formatdate, make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    SafeMIMEMultipart,
    SafeMIMEText,
    forbid_multi_line_headers,
)
from django.core.mail.utils import DNS_NAME

# A value the header algorithm leaves as it is: printable ASCII words separated by single spaces.
_PLAIN = re.compile(r"[!-~]+(?: [!-~]+)*")
# Folded headers remembered at most (per process): the few that repeat from message to message are what it is for.
_REMEMBERED = 256


class _FoldingOnce(Compat32):
    """Python's ``compat32`` policy (the one Django's messages carry), folding each repeated header once."""

    def fold(self, name: str, value: str) -> str:
        plain = self._plain(name, value)
        if plain is not None:
            return plain
        return str(self._remembered(("str", name, value), super().fold))

    def fold_binary(self, name: str, value: str) -> bytes:
        plain = self._plain(name, value)
        if plain is not None:
            return plain.encode("ascii")
        return bytes(self._remembered(("bytes", name, value), super().fold_binary))

    def _plain(self, name: str, value: object) -> str | None:
        """The header as it is when it fits on its line and has nothing to encode: Header would give it back so."""
        limit = self.max_line_length or sys.maxsize
        if isinstance(value, str) and len(name) + 2 + len(value) < limit and _PLAIN.fullmatch(value):
            return f"{name}: {value}{self.linesep}"
        return None

    def _remembered(self, key: tuple[str, str, Any], fold: Callable[[str, Any], Any]) -> Any:
        if not isinstance(key[2], str):  # a Header object: folded each time, as compat32 does
            return fold(key[1], key[2])
        full = (*key, self.linesep, self.max_line_length, self.cte_type)
        folded = _FOLDED.get(full)
        if folded is None:
            folded = fold(key[1], key[2])
            _remember(_FOLDED, full, folded, limit=_REMEMBERED)
        return folded


_FOLDED: dict[tuple[Any, ...], Any] = {}
FOLDING_ONCE = _FoldingOnce()


def batch_boundary() -> str:
    """A MIME boundary for a batch's messages, drawn as Python's generator draws its own."""
    return "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="


class BatchEmail(EmailMultiAlternatives):
    """An email of a sending batch: Django's message, built from copies of the parts' and the container's headers
    as Django's MIME classes write them (their constructors parse and rewrite the Content-Type parameters each
    time), with the batch's boundary (unless a part contains it: the generator then draws its own, as usual), the
    Subject's check and encoding remembered, and headers folded by :data:`FOLDING_ONCE`. A message with
    attachments or another charset than UTF-8 is Django's own, folded the same way."""

    def __init__(self, *args: Any, boundary: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.boundary = boundary

    alternative_subtype = "alternative"  # Django's, which its type stubs do not show

    def message(self, **kwargs: Any) -> EmailMessage:  # as django-stubs type it; Django's own MIME classes in fact
        if (
            kwargs
            or self.attachments
            or not _utf8(self.encoding)
            or not all(
                isinstance(content, str) and mimetype.startswith("text/") for content, mimetype in self.alternatives
            )
        ):
            django_built = super().message(**kwargs)
            django_built.policy = FOLDING_ONCE
            return django_built
        # Django's EmailMessage.message() (with EmailMultiAlternatives' alternatives), step for step.
        body: Message = _text_part(str(self.body), self.content_subtype)
        if self.alternatives:
            parts = [body] if self.body else []
            parts += [_text_part(str(content), mimetype.split("/", 1)[1]) for content, mimetype in self.alternatives]
            body = self._container(parts)
        msg: Message = body
        Message.__setitem__(msg, "Subject", _subject(str(self.subject)))  # checked and encoded as Django does
        msg["From"] = self.extra_headers.get("From", self.from_email)
        for header, values in (("To", self.to), ("Cc", self.cc), ("Reply-To", self.reply_to)):
            if header in self.extra_headers:
                msg[header] = self.extra_headers[header]
            elif values:
                msg[header] = ", ".join(str(v) for v in values)
        header_names = {key.lower() for key in self.extra_headers}
        if "date" not in header_names:
            msg["Date"] = formatdate(localtime=settings.EMAIL_USE_LOCALTIME)
        if "message-id" not in header_names:
            msg["Message-ID"] = make_msgid(domain=DNS_NAME)
        for name, value in self.extra_headers.items():
            if name.lower() not in {"from", "to", "cc", "reply-to"}:
                msg[name] = value
        msg.policy = FOLDING_ONCE
        return msg  # type: ignore[return-value]  # a Message: what Django's message() gives

    def _container(self, parts: list[Message]) -> Message:
        """The multipart/alternative around the parts, with the batch's boundary unless a part contains it."""
        if any(self.boundary in str(part.get_payload()) for part in parts):
            container: Message = SafeMIMEMultipart(_subtype=self.alternative_subtype, encoding="utf-8")
            for part in parts:
                container.attach(part)
            return container
        else:
            key = ("multipart", self.alternative_subtype, self.boundary)
            prototype = _PROTOTYPES.get(key)
            if prototype is None:
                prototype = SafeMIMEMultipart(
                    _subtype=self.alternative_subtype, boundary=self.boundary, encoding="utf-8"
                )
                _remember(_PROTOTYPES, key, prototype, limit=64)  # a container per batch: the old batches' go
            container = _copy(prototype)
        container.set_payload(list(parts))  # what attach() builds, part by part
        return container


def _utf8(encoding: str | None) -> bool:
    return str(encoding or settings.DEFAULT_CHARSET).lower() == "utf-8"


@functools.lru_cache(maxsize=64)
def _subject(subject: str) -> str:
    return str(forbid_multi_line_headers("Subject", subject, "utf-8")[1])


# Parts and containers as Django's MIME classes build them, copied for each message (a few per process).
_PROTOTYPES: dict[tuple[str, str, Any], Message] = {}


def _remember(memory: dict[Any, Any], key: Any, value: Any, *, limit: int) -> None:
    """Keep ``value``, forgetting everything first once ``limit`` are kept (what repeats comes back at once). Each
    caller keeps its own reference: a thread clearing the memory meanwhile costs only a rebuild."""
    if len(memory) >= limit:
        memory.clear()
    memory[key] = value


def _copy(prototype: Message) -> Message:
    part = copy.copy(prototype)
    part._headers = list(prototype._headers)  # type: ignore[attr-defined]
    part.defects = []
    return part


def _text_part(text: str, subtype: str) -> Message:
    """``SafeMIMEText(text, subtype, "utf-8")``: its headers copied from one built for text of the same kind (ASCII
    or not: 7bit or 8bit), its payload as ``Message.set_payload`` stores UTF-8 text. Text with a line too long for
    SMTP is quoted-printable, left to Django."""
    if any(len(line.encode(errors="surrogateescape")) > RFC5322_EMAIL_LINE_LENGTH_LIMIT for line in text.splitlines()):
        return SafeMIMEText(text, subtype, "utf-8")
    payload = text.encode("utf-8").decode("ascii", "surrogateescape")
    key = ("text", subtype, text.isascii())
    prototype = _PROTOTYPES.get(key)
    if prototype is None:
        prototype = SafeMIMEText("" if text.isascii() else "\u044f", subtype, "utf-8")
        _remember(_PROTOTYPES, key, prototype, limit=64)
    part = _copy(prototype)
    part._payload = payload  # type: ignore[attr-defined]
    return part
