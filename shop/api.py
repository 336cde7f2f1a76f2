"""API endpoints of the shop app: who am I (for integrations to test their token)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.models import IntegrationToken, ShopSettings
from shop.permissions import HasAnyAccess, user_can
from shop.roles import Capability


class WhoAmIApi(APIView):
    """Tells a caller who it is to the API: a token with its scopes, or a staff member with their role."""

    permission_classes = [HasAnyAccess]

    class OutputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=["token", "user"])
        name = serializers.CharField()
        scopes = serializers.ListField(child=serializers.CharField())
        shop = serializers.CharField()
        currency = serializers.CharField()

    @extend_schema(responses=OutputSerializer, summary="Who the caller is and what it may do")
    def get(self, request: Request) -> Response:
        shop = ShopSettings.load()
        if isinstance(request.auth, IntegrationToken):
            data = {"kind": "token", "name": request.auth.name, "scopes": request.auth.scopes}
        else:
            user = request.user
            scopes = sorted(c for c in Capability.values if user_can(user, c))
            data = {"kind": "user", "name": user.get_username(), "scopes": scopes}
        data.update(shop=shop.name, currency=shop.currency)
        return Response(self.OutputSerializer(data).data)
