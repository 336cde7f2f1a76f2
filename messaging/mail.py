"""Emails built for a sending batch: Django's own message, serialized without folding the same headers again for
every message.

Writing a survey email out (``as_bytes``, for SMTP and the file backend alike) folded each of its fifteen headers
through ``email.header.Header`` — the Subject, From, MIME-Version and the parts' Content-Type and
Content-Transfer-Encoding the same for every message of a batch — and drew a random MIME boundary, compiling a
regular expression to look for it in the text: together most of the worker's CPU for an email. Here the folding is
remembered for the headers that repeat, done not at all for a header too short and plain to fold, and the batch
draws one boundary, used on each message whose parts do not contain it. The bytes are the same as Django's but for
the boundary's random digits (pinned by ``tests/messaging/test_mail.py``).
"""

import random
import re
import sys
from email._policybase import Compat32
from email.message import Message as MimeMessage
from typing import Any

from django.core.mail import EmailMultiAlternatives

# A value the header algorithm leaves as it is: printable ASCII words separated by single spaces.
_PLAIN = re.compile(r"[!-~]+(?: [!-~]+)*")
# Folded headers remembered at most (per process): the few that repeat from message to message are what it is for.
_REMEMBERED = 256


class _FoldingOnce(Compat32):
    """Python's ``compat32`` policy (the one Django's messages carry), folding each repeated header once."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if not isinstance(value, str):
            return super()._fold(name, value, sanitize)
        limit = self.max_line_length or sys.maxsize
        if len(name) + 2 + len(value) < limit and _PLAIN.fullmatch(value):
            # Fits on its line and has nothing to encode: Header would give it back as it is.
            return f"{name}: {value}{self.linesep}"
        key = (name, value, sanitize, self.linesep, self.max_line_length)
        folded = _FOLDED.get(key)
        if folded is None:
            folded = super()._fold(name, value, sanitize)
            if len(_FOLDED) >= _REMEMBERED:
                _FOLDED.clear()
            _FOLDED[key] = folded
        return folded


_FOLDED: dict[tuple[Any, ...], str] = {}
FOLDING_ONCE = _FoldingOnce()


def batch_boundary() -> str:
    """A MIME boundary for a batch's messages, drawn as Python's generator draws its own."""
    return "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="  # noqa: S311 -- a separator, not a secret


class BatchEmail(EmailMultiAlternatives):
    """An email of a sending batch: Django's message with the batch's boundary (unless a part contains it, then
    the generator draws its own as usual) and headers folded by :data:`FOLDING_ONCE`."""

    def __init__(self, *args: Any, boundary: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.boundary = boundary

    def message(self) -> MimeMessage:
        msg = super().message()
        msg.policy = FOLDING_ONCE
        if msg.is_multipart() and not any(self.boundary in str(part.get_payload()) for part in msg.get_payload()):
            msg.set_boundary(self.boundary)
        return msg
