"""Every API error is JSON of one shape, ``{"error": {"code", "message", "fields"}}``, whatever went wrong."""

from typing import Any

from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView


class _EchoApi(APIView):
    """A stand-in endpoint with a validated body: the shape must hold before any real one is written."""

    authentication_classes = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        phone = serializers.CharField()
        amount = serializers.DecimalField(max_digits=10, decimal_places=2)

    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def test_an_unknown_endpoint_under_the_api_is_a_json_404(db: None) -> None:
    response = APIClient().get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    error = error_of(response.json())
    assert error["code"] == "not_found"
    assert "/api/v1/no-such-thing" in error["message"]
    assert error["fields"] == {}


def test_an_unknown_endpoint_is_a_json_404_for_any_method(db: None) -> None:
    response = APIClient().post("/api/v1/orders/nowhere/", {"a": 1}, format="json")

    assert response.status_code == 404
    assert error_of(response.json())["code"] == "not_found"


def test_a_wrong_method_on_a_real_endpoint_is_a_json_405(db: None, api_client_for: Any) -> None:
    response = api_client_for("lookup").post("/api/v1/whoami", {}, format="json")

    assert response.status_code == 405
    assert error_of(response.json())["code"] == "method_not_allowed"


def test_a_validation_error_names_each_field() -> None:
    request = APIRequestFactory().post("/api/v1/echo", {"amount": "a lot"}, format="json")

    response = _EchoApi.as_view()(request)

    assert response.status_code == 400
    error = error_of(response.data)
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"phone", "amount"}
    assert error["message"].startswith("The request is invalid.")
