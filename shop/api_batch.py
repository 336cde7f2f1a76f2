"""What every upsert endpoint shares: one object or a batch of up to 1,000, validated whole, keyed under a source."""

from typing import Any

from django.utils.text import slugify
from rest_framework import serializers
from rest_framework.request import Request

from shop.models import IntegrationToken

MAX_BATCH = 1000


def default_source(request: Request) -> str:
    """Rows from a token are keyed under the token's name unless the payload names its system."""
    if isinstance(request.auth, IntegrationToken):
        return slugify(request.auth.name)[:60] or "api"
    return "api"


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

    One list serializer validates all rows with the same field instances: building a nested serializer per row
    cost more than storing the orders."""
    serializer = serializer_class(data=rows, many=True, allow_empty=False, max_length=MAX_BATCH)  # type: ignore[call-arg]
    if serializer.is_valid():
        return list(serializer.validated_data)
    details = serializer.errors
    if isinstance(details, dict):  # the list itself was wrong (not a list, too long)
        raise serializers.ValidationError({key: details.get("non_field_errors", details)})
    raise serializers.ValidationError({key: {str(index): error for index, error in enumerate(details) if error}})
