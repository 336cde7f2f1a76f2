"""Reasons stored as codes and read in the reader's language.

A reason a worker or a request records (why a message did not leave, why a follow-up was opened) is stored as a
code, never a sentence: whoever records it speaks whatever language they had active, and whoever reads it may speak
the other one. Where a reason needs figures or someone's own words, they follow the code as JSON
(``capped {"days": 7, "n": 3}``): such text is data, shown verbatim under a label in the reader's language. Each app
keeps its codes as a ``TextChoices`` whose labels may hold ``%(name)s`` placeholders, with one code for text that is
not a known code (written before the codes, or typed by a person), labelled with a ``%(detail)s`` placeholder."""

import json
from typing import Any

from django.db import models

# Words kept with a reason (a provider's error, a person's text): as much as the old free-text columns kept.
DETAIL_LIMIT = 2000


class StoredReasons:
    """The stored form and the reading of one app's reason codes (``codes``), ``other`` for text that is not one."""

    def __init__(self, codes: type[models.TextChoices], other: models.TextChoices) -> None:
        self.codes = codes
        self.other = other
        self._values = {choice.value for choice in codes}

    def store(self, code: str, **params: Any) -> str:
        """The stored form of a reason: its code, followed by its parameters as JSON when it has any."""
        code = str(code)
        if "detail" in params:
            params["detail"] = str(params["detail"])[:DETAIL_LIMIT]
        if not params:
            return code
        return f"{code} {json.dumps(params, ensure_ascii=False, sort_keys=True)}"

    def parse(self, stored: str) -> tuple[str, dict[str, Any]]:
        """The code and parameters of a stored reason; ``("", {})`` for none; text that is not a stored reason is
        ``other`` with the text as its detail."""
        if not stored:
            return "", {}
        code, _space, rest = stored.partition(" ")
        if code in self._values:
            if not rest:
                return code, {}
            try:
                params = json.loads(rest)
            except ValueError:
                params = None
            if isinstance(params, dict):
                return code, params
        return self.other.value, {"detail": stored}

    def text(self, stored: str) -> str:
        """The reason in the active language (the reader's): its label, with its figures or the stored words."""
        code, params = self.parse(stored)
        if not code:
            return ""
        label = str(self.codes(code).label)
        if "%(" not in label:
            return label
        try:
            return label % params
        except (KeyError, TypeError, ValueError):
            # Parameters that do not fit the label (written by hand): the label's own words and what was stored.
            return str(self.other.label) % {"detail": stored}
