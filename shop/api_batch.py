"""What every upsert endpoint shares: one object or a batch of up to 1,000, validated whole, keyed under a source."""

from typing import Any

from rest_framework import exceptions, serializers
from rest_framework.request import Request

from shop.batch_validation import Unsure, row_plan
from shop.models import IntegrationToken, ShopSettings

MAX_BATCH = 1000


class SourceForbidden(exceptions.PermissionDenied):
    """A row names a source its sender may not write: another integration's orders are not its to change."""

    default_code = "source_forbidden"


def default_source(request: Request) -> str:
    """Rows from a token are keyed under its first bound source (its name, unless the owner bound it to others)
    when the payload does not name one."""
    if isinstance(request.auth, IntegrationToken):
        return request.auth.bound_sources[0]
    return "api"


def allowed_sources(request: Request) -> list[str] | None:
    """The sources the sender may write; ``None``: any (staff with the capability, who import every source)."""
    if isinstance(request.auth, IntegrationToken):
        return request.auth.bound_sources
    return None


def source_refusal(source: str, allowed: list[str], *path: str) -> SourceForbidden:
    """The 403 for ``source`` at ``path`` (e.g. ``orders``, ``3``) + ``source`` in the body."""
    names = ", ".join(f"“{name}”" for name in allowed)
    detail: Any = {"source": [f"“{source}” is not a source this sender may write: it may write {names} only."]}
    for key in reversed(path):
        detail = {key: detail}
    return SourceForbidden(detail)


def check_sources(request: Request, rows: list[dict[str, Any]], key: str) -> None:
    """Refuse (403) a batch in which a row names a source outside the token's bound sources, naming the row."""
    allowed = allowed_sources(request)
    if allowed is None:
        return
    for index, row in enumerate(rows):
        source = row.get("source")
        if source and source not in allowed:
            raise source_refusal(source, allowed, key, str(index))


def batch_rows(request: Request, key: str) -> tuple[list[Any], bool]:
    """The payload as a list of rows: ``{key: [...]}`` for a batch, or one object."""
    data = request.data
    if isinstance(data, dict) and key in data:
        rows = data[key]
        if not isinstance(rows, list):
            raise serializers.ValidationError({key: [f"“{key}” must be a list."]})
        if not 1 <= len(rows) <= MAX_BATCH:
            raise serializers.ValidationError({key: [f"A batch holds from 1 to {MAX_BATCH} rows, not {len(rows)}."]})
        return rows, True
    return [data], False


def validate_rows(serializer_class: type[serializers.Serializer], rows: list[Any], key: str) -> list[dict[str, Any]]:
    """Every row validated; a batch with any bad row is refused whole, with the bad rows' errors by index.

    The serializer's compiled plan (``shop.batch_validation``) reads the rows; the rows it cannot vouch for, and
    every row of a serializer it cannot read, go through one list serializer, which words the errors: building a
    nested serializer per row cost more than storing the orders, and DRF's generic field machinery about as much.
    The serializers share one load of the shop's settings (:func:`shop_settings_of`)."""
    context = {"shop_settings": ShopSettings.load()}
    serializer = serializer_class(data=rows, many=True, allow_empty=False, max_length=MAX_BATCH, context=context)  # type: ignore[call-arg]
    plan = row_plan(serializer.child)  # type: ignore[attr-defined]
    valid: list[Any] = [None] * len(rows)
    unsure: list[int] = []
    if plan is None:
        unsure = list(range(len(rows)))
    else:
        for index, row in enumerate(rows):
            try:
                valid[index] = plan(row)
            except Unsure:
                unsure.append(index)
    if not unsure:
        return valid
    if len(unsure) < len(rows):
        serializer = serializer_class(data=[rows[i] for i in unsure], many=True, context=context)  # type: ignore[call-arg]
    if serializer.is_valid():
        for index, attrs in zip(unsure, serializer.validated_data, strict=True):
            valid[index] = attrs
        return valid
    details = serializer.errors
    if isinstance(details, dict) and "non_field_errors" in details:  # the list itself was wrong (not a list…)
        raise serializers.ValidationError({key: details["non_field_errors"]})
    # The bad rows' errors by their place in the batch (DRF keys them by their place among the rows it judged).
    judged = details.items() if isinstance(details, dict) else enumerate(details)
    by_row = {str(unsure[int(i)]): error for i, error in judged if error}
    raise serializers.ValidationError({key: by_row})


def shop_settings_of(serializer: serializers.Field) -> ShopSettings:
    """The shop's settings for a serializer's hooks: the batch's one load when :func:`validate_rows` runs it, else a
    load of their own."""
    settings = serializer.context.get("shop_settings")
    return settings if isinstance(settings, ShopSettings) else ShopSettings.load()
