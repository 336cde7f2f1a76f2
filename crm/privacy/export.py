"""The export of one customer's personal data: every part an app registered in ``customers.contrib``, as one JSON
file. crm holds no app's part: each app that stores something about a person (customers, orders, scores, feedback
answers, and the loyalty ledger next) registers its own ``ExportPart``."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from customers.contrib import export_parts

# Bumped when a key of the download changes meaning, so whoever reads an old file knows which layout it has.
EXPORT_FORMAT_VERSION = 1


def customer_personal_data(customer: Any) -> dict[str, Any]:
    """Everything the registered parts hold about ``customer``, keyed by part. Values are plain Python (Decimal,
    datetime); :func:`personal_data_json` turns them into the file."""
    data: dict[str, Any] = {
        "format_version": EXPORT_FORMAT_VERSION,
        "customer_id": customer.pk,
        "exported_at": timezone.now(),
    }
    for part in export_parts():
        if part.key in data:
            # Two apps claiming one key would silently hide one app's data from the person asking for it.
            raise ValueError(f"Two personal data contributors use the key {part.key!r}")
        data[part.key] = part.read(customer)
    return data


def personal_data_json(data: dict[str, Any]) -> str:
    """The download: Decimal as strings (money must not pass through a float), times in ISO 8601 with their
    offset, Cyrillic as is so the person can read the file in any editor."""
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
