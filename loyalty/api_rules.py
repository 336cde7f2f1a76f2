"""The owner's rules over the API: anyone with ``view_rules`` reads them, only ``configure`` (the owner) writes.
Integration tokens are never granted ``configure``, so no platform can change a programme."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.api import error_response
from loyalty.models import LoyaltyRule, OrderKind, RuleKind, Stacking
from loyalty.services import rule_create, rule_update
from shop.permissions import user_can
from shop.roles import Capability


class MethodCapability(permissions.BasePermission):
    """Read with ``view_rules`` or ``configure``; write with ``configure`` only."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return user_can(request.user, Capability.VIEW_RULES) or user_can(request.user, Capability.CONFIGURE)
        return user_can(request.user, Capability.CONFIGURE)

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        return self.has_permission(request, view)


class RuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    params = serializers.DictField()
    is_active = serializers.BooleanField(default=False)
    segments = serializers.ListField(child=serializers.CharField(), default=list)
    tiers = serializers.ListField(child=serializers.CharField(), default=list)
    channels = serializers.ListField(child=serializers.CharField(), default=list)
    churn_min = serializers.FloatField(min_value=0, max_value=1, allow_null=True, default=None)
    churn_max = serializers.FloatField(min_value=0, max_value=1, allow_null=True, default=None)
    order_kind = serializers.ChoiceField(choices=OrderKind.choices, default=OrderKind.ANY)
    min_order = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True, default=None)
    starts_on = serializers.DateField(allow_null=True, default=None)
    ends_on = serializers.DateField(allow_null=True, default=None)
    budget_cap = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True, default=None)
    budget_spent = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    stacking = serializers.ChoiceField(choices=Stacking.choices, default=Stacking.BEST)
    max_total_percent = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True, default=None)
    control_share = serializers.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0"))


def _invalid(error: ValidationError) -> Response:
    fields = error.message_dict if hasattr(error, "error_dict") else {"params": error.messages}
    first = next(iter(fields.values()))[0] if fields else str(error)
    response = error_response("invalid", f"The rule is invalid. {first}", status=400)
    response.data["error"]["fields"] = fields
    return response


class RuleListApi(APIView):
    permission_classes = [MethodCapability]

    @extend_schema(summary="The loyalty rules", responses={200: RuleSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(RuleSerializer(LoyaltyRule.objects.order_by("pk"), many=True).data)

    @extend_schema(summary="Create a loyalty rule (owner)", request=RuleSerializer, responses={201: RuleSerializer})
    def post(self, request: Request) -> Response:
        serializer = RuleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            rule = rule_create(user=request.user, **serializer.validated_data)
        except ValidationError as error:
            return _invalid(error)
        except PermissionDenied as error:
            return error_response("permission_denied", str(error), status=403)
        return Response(RuleSerializer(rule).data, status=201)


class RuleDetailApi(APIView):
    permission_classes = [MethodCapability]

    @extend_schema(summary="One loyalty rule", responses={200: RuleSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(RuleSerializer(get_object_or_404(LoyaltyRule, pk=pk)).data)

    @extend_schema(summary="Change a loyalty rule (owner)", request=RuleSerializer, responses={200: RuleSerializer})
    def patch(self, request: Request, pk: int) -> Response:
        rule = get_object_or_404(LoyaltyRule, pk=pk)
        serializer = RuleSerializer(rule, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            rule = rule_update(user=request.user, rule=rule, **serializer.validated_data)
        except ValidationError as error:
            return _invalid(error)
        except PermissionDenied as error:
            return error_response("permission_denied", str(error), status=403)
        return Response(RuleSerializer(rule).data)
