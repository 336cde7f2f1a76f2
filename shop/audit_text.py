"""An audit entry's details in the reader's language.

Entries store codes (``{"action": "created", "changes": {"role": [...]}}``), never sentences, so that the page reads
the same entry in English or Russian. Keys and known values are labelled here; a changed field is named by its
``verbose_name`` on whichever model has a field of that name (the settings, users, tokens and loyalty rules that
``audit_changes`` and the rule service record); anything unknown is shown as stored."""

from functools import cache
from typing import Any

from django.apps import apps
from django.utils.translation import gettext_lazy as _

DETAIL_KEYS = {
    "action": _("action"),
    "amount": _("amount"),
    "balance": _("balance"),
    "batch": _("batch"),
    "by": _("by"),
    "changes": _("changes"),
    "filters": _("filters"),
    "found": _("found"),
    "import": _("import"),
    "limit": _("limit"),
    "lookup_rate_per_second": _("lookups a second"),
    "reason": _("reason"),
    "role": _("role"),
    "rule": _("rule"),
    "scopes": _("scopes"),
    "target": _("page"),
    "token": _("token"),
    "username": _("user"),
    "what": _("what"),
}

DETAIL_VALUES = {
    "audit log": _("audit log"),
    "changed": _("changed"),
    "created": _("created"),
    "customers": _("customers"),
    "issued": _("issued"),
    "name": _("name"),
    "personal data": _("personal data"),
    "promo codes": _("promo codes"),
    "rate": _("rate limit"),
    "revoked": _("revoked"),
    "scoring": _("scoring"),
    "second_factor_reset": _("second factor reset"),
    "shop": _("shop"),
    "skipped import rows": _("skipped import rows"),
    "surveys": _("surveys"),
    "unlocked": _("unlocked"),
    True: _("yes"),
    False: _("no"),
}


@cache
def _field_labels() -> dict[str, Any]:
    labels: dict[str, Any] = {}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            verbose = getattr(field, "verbose_name", None)
            if verbose is not None and field.name not in labels:
                labels[field.name] = verbose
    return labels


def _value(value: Any) -> str:
    if isinstance(value, bool | str) and value in DETAIL_VALUES:
        return str(DETAIL_VALUES[value])
    if value is None:
        return "—"
    return str(value)


def audit_detail_text(detail: dict[str, Any] | None) -> str:
    """The details in one line: each change as "field: before → after", anything else as "key: value"."""
    parts = []
    for key, value in (detail or {}).items():
        if key == "changes" and isinstance(value, dict):
            for name, change in value.items():
                label = _field_labels().get(name, name)
                if isinstance(change, list) and len(change) == 2:
                    parts.append(f"{label}: {_value(change[0])} → {_value(change[1])}")
                else:
                    parts.append(f"{label}: {_value(change)}")
        else:
            parts.append(f"{DETAIL_KEYS.get(key, key)}: {_value(value)}")
    return "; ".join(parts)
