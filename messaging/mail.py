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
from collections.abc import Callable
from email._policybase import Compat32
from email.message import EmailMessage, Message
from typing import Any

from django.core.mail import EmailMultiAlternatives

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
        if full not in _FOLDED:
            if len(_FOLDED) >= _REMEMBERED:
                _FOLDED.clear()
            _FOLDED[full] = fold(key[1], key[2])
        return _FOLDED[full]


_FOLDED: dict[tuple[Any, ...], Any] = {}
FOLDING_ONCE = _FoldingOnce()


def batch_boundary() -> str:
    """A MIME boundary for a batch's messages, drawn as Python's generator draws its own."""
    return "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="


class BatchEmail(EmailMultiAlternatives):
    """An email of a sending batch: Django's message with the batch's boundary (unless a part contains it, then
    the generator draws its own as usual) and headers folded by :data:`FOLDING_ONCE`."""

    def __init__(self, *args: Any, boundary: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.boundary = boundary

    def message(self, **kwargs: Any) -> EmailMessage:  # as django-stubs type it; Django's own MIME classes in fact
        msg = super().message(**kwargs)
        msg.policy = FOLDING_ONCE
        parts = [part for part in msg.get_payload() if isinstance(part, Message)] if msg.is_multipart() else []
        if parts and not any(self.boundary in str(part.get_payload()) for part in parts):
            msg.set_boundary(self.boundary)
        return msg
