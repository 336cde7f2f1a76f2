"""An audit entry's details in the reader's language.

Entries store codes (``{"action": "created", "changes": {"role": [...]}}``), never sentences, so that the page reads
the same entry in English or Russian. Keys and known values are labelled here; a changed field is named by its
``verbose_name`` on the model the entry names (``"model": "app_label.modelname"``, written by ``audit_changes`` and
the rule service), else on whichever model has a field of that name (entries written before the model was kept);
anything unknown is shown as stored."""

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
    "kind": _("kind"),
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


def _labels_of(model: Any, labels: dict[str, Any]) -> dict[str, Any]:
    for field in model._meta.get_fields():
        verbose = getattr(field, "verbose_name", None)
        if verbose is not None and field.name not in labels:
            labels[field.name] = verbose
    return labels


@cache
def _field_labels(model_label: str | None = None) -> dict[str, Any]:
    """Field name → label on the named model; for an unknown or missing model, on the first model with the field."""
    if model_label:
        try:
            return _labels_of(apps.get_model(model_label), {})
        except (LookupError, ValueError):
            pass
    labels: dict[str, Any] = {}
    for model in apps.get_models():
        _labels_of(model, labels)
    return labels


@cache
def _choice_labels(model_label: str) -> dict[str, dict[Any, Any]]:
    """Field name → {stored value: label} for the named model's fields with choices (a rule's kind, a role)."""
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        return {}
    return {
        field.name: dict(field.flatchoices) for field in model._meta.get_fields() if getattr(field, "choices", None)
    }


def _value(value: Any, choices: dict[Any, Any] | None = None) -> str:
    if choices and isinstance(value, str | int) and value in choices:
        return str(choices[value])
    if isinstance(value, bool | str) and value in DETAIL_VALUES:
        return str(DETAIL_VALUES[value])
    if value is None or value == "":
        return "—"
    return str(value)


def audit_detail_text(detail: dict[str, Any] | None) -> str:
    """The details in one line: each change as "field: before → after", anything else as "key: value"."""
    parts = []
    detail = dict(detail or {})
    model_label = detail.pop("model", None)
    model_label = model_label if isinstance(model_label, str) else None
    choices = _choice_labels(model_label) if model_label else {}
    for key, value in detail.items():
        if key == "changes" and isinstance(value, dict):
            for name, change in value.items():
                label = _field_labels(model_label).get(name, name)
                if isinstance(change, list) and len(change) == 2:
                    before, after = (_value(side, choices.get(name)) for side in change)
                    parts.append(f"{label}: {before} → {after}")
                else:
                    parts.append(f"{label}: {_value(change, choices.get(name))}")
        else:
            parts.append(f"{DETAIL_KEYS.get(key, key)}: {_value(value, choices.get(key))}")
    return "; ".join(parts)
