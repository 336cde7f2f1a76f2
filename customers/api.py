"""The customers API: the shop's platform upserts its own customer records, one or a thousand at a time. The
customer input serializer is also the ``customer`` of an order in the orders API."""

from typing import Any

from django.utils.text import slugify
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.contacts import EmailError, normalize_email
from customers.models import ContactKind
from customers.services import CustomerData, customers_upsert
from shop.api_batch import (
    allowed_sources,
    batch_rows,
    default_source,
    shop_settings_of,
    source_refusal,
    validate_rows,
)
from shop.idempotency import idempotent
from shop.permissions import HasCapability
from shop.phones import PhoneError, normalize_phone
from shop.roles import Capability
from shop.schema import results_of


class CustomerInputSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    phones = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list, max_length=10
    )
    emails = serializers.ListField(
        child=serializers.CharField(max_length=254), required=False, default=list, max_length=10
    )
    city = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    address = serializers.CharField(required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=["ru", "en", ""], required=False, default="")
    utm_source = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    utm_medium = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    utm_campaign = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    email_consent = serializers.BooleanField(required=False, allow_null=True, default=None)
    sms_consent = serializers.BooleanField(required=False, allow_null=True, default=None)
    # The proof of the consent above (Russia's law on advertising asks the sender to prove it): where it was given,
    # the version of the consent text agreed to, and when. Without them: this integration's name, no version, now.
    consent_source = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    consent_wording = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    consent_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate_phones(self, value: list[str]) -> list[str]:
        region = shop_settings_of(self).phone_region
        try:
            return list(dict.fromkeys(normalize_phone(raw, region) for raw in value))
        except PhoneError as error:
            raise serializers.ValidationError(str(error)) from error

    def validate_emails(self, value: list[str]) -> list[str]:
        try:
            return list(dict.fromkeys(normalize_email(raw) for raw in value))
        except EmailError as error:
            raise serializers.ValidationError(str(error)) from error

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs["external_id"] or attrs["phones"] or attrs["emails"]):
            raise serializers.ValidationError("A customer needs an external_id, a phone or an email to be matched.")
        return attrs

    @staticmethod
    def to_data(attrs: dict[str, Any], source: str) -> CustomerData:
        return CustomerData.from_mapping(attrs, source=source, consent_source=attrs["consent_source"] or source)


class OrderCustomerInputSerializer(CustomerInputSerializer):
    """The customer of an order. A phone or email that cannot be read does not refuse the order (the platform would
    only retry it for hours, then drop it): it is set aside as unverified for a person to fix on the card, and the
    order's result carries a warning. An order still needs something to tell its customer by."""

    # Longer than any number, so that a note typed into the phone field is kept aside too rather than refused.
    phones = serializers.ListField(
        child=serializers.CharField(max_length=254), required=False, default=list, max_length=10
    )

    def validate_phones(self, value: list[str]) -> list[str]:
        return value  # read one by one in validate(), where a bad one is set aside instead of refusing the row

    def validate_emails(self, value: list[str]) -> list[str]:
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        region = shop_settings_of(self).phone_region
        unverified: list[tuple[str, str, str]] = []
        phones, emails = [], []
        for raw in attrs["phones"]:
            try:
                phones.append(normalize_phone(raw, region))
            except PhoneError as error:
                if raw.strip():
                    unverified.append((ContactKind.PHONE, raw.strip(), str(error)))
        for raw in attrs["emails"]:
            try:
                emails.append(normalize_email(raw))
            except EmailError as error:
                if raw.strip():
                    unverified.append((ContactKind.EMAIL, raw.strip(), str(error)))
        attrs["phones"], attrs["emails"] = list(dict.fromkeys(phones)), list(dict.fromkeys(emails))
        attrs["unverified"] = unverified
        if not (attrs["external_id"] or attrs["phones"] or attrs["emails"] or unverified):
            raise serializers.ValidationError("A customer needs an external_id, a phone or an email to be matched.")
        return attrs

    @staticmethod
    def to_data(attrs: dict[str, Any], source: str) -> CustomerData:
        return CustomerData.from_mapping(
            attrs,
            source=source,
            consent_source=attrs["consent_source"] or source,
            unverified=tuple(attrs.get("unverified", ())),
        )


class CustomerResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="customer_id")
    created = serializers.BooleanField()


class CustomerUpsertApi(APIView):
    """Create or update customers from the platform's own customer records."""

    permission_classes = [HasCapability]
    capability = Capability.IMPORT

    @extend_schema(
        summary="Upsert one customer or a batch of up to 1,000",
        description=(
            'Send one customer, or `{"customers": [...]}`. Matched by `(source, external_id)`, then phone, then '
            "email; the platform's record is authoritative for name, city, address and language. Phones in any "
            "format are stored in E.164. A batch with an invalid row is refused whole (400)."
        ),
        request=CustomerInputSerializer,
        responses={200: results_of(CustomerResultSerializer, "CustomerUpsertResults")},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        rows, _ = batch_rows(request, "customers")
        valid = validate_rows(CustomerInputSerializer, rows, "customers")
        source = str(request.data.get("source", "")) if isinstance(request.data, dict) else ""
        source = slugify(source)[:60] or default_source(request)
        allowed = allowed_sources(request)
        if allowed is not None and source not in allowed:
            raise source_refusal(source, allowed)
        items = [CustomerInputSerializer.to_data(attrs, source) for attrs in valid]
        results = customers_upsert(items=items)
        return Response({"results": CustomerResultSerializer(results, many=True).data})
