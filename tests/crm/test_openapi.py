"""The API documents itself (OpenAPI 3) and its documentation pages load nothing from other hosts."""

import re
from collections.abc import Callable

import pytest
from django.test import Client
from drf_spectacular.validation import validate_schema
from rest_framework import serializers
from rest_framework.test import APIClient

from shop.roles import TOKEN_SCOPES
from shop.schema import RetainAutoSchema
from tests.factories import make_operator

FOREIGN_URL = re.compile(r"""https?://(?!testserver[/:"'])[^\s"'<>]+""")


@pytest.fixture
def staff(db: None) -> Client:
    client = Client()
    client.force_login(make_operator())
    return client


@pytest.fixture
def schema(staff: Client) -> dict:
    response = staff.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("page", ["/api/schema/", "/api/docs/", "/api/redoc/"])
def test_anonymous_callers_get_no_schema_and_no_reference(db: None, page: str) -> None:
    response = Client().get(page)

    assert response.status_code in {302, 403}
    assert b"openapi" not in response.content and b"swagger" not in response.content.lower()


def test_an_integration_token_does_not_open_the_schema(api_client_for: Callable[..., APIClient]) -> None:
    response = api_client_for(*sorted(TOKEN_SCOPES)).get("/api/schema/", {"format": "json"})

    assert response.status_code == 403


def test_a_signed_in_staff_member_without_a_role_gets_no_schema(client_for: Callable[..., Client]) -> None:
    assert client_for("norole").get("/api/schema/").status_code == 403


def test_the_schema_is_valid_openapi(schema: dict) -> None:
    validate_schema(schema)


def test_the_schema_documents_whoami_with_token_authentication(schema: dict) -> None:
    assert "/api/v1/whoami" in schema["paths"]
    assert schema["components"]["securitySchemes"]["integrationToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "rt_<prefix>_<secret>",
        "description": "An integration token the owner created under Settings → Integration tokens.",
    }


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_documentation_pages_render_from_local_files_only(staff: Client, page: str) -> None:
    response = staff.get(page)

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert FOREIGN_URL.findall(html) == []


def test_swagger_ui_does_not_send_the_schema_to_a_public_validator(staff: Client) -> None:
    script = staff.get("/api/docs/", {"script": ""}).content.decode()

    assert '"validatorUrl": null' in script


class FirstApi:
    class OutputSerializer(serializers.Serializer):
        name = serializers.CharField()


class SecondApi:
    class OutputSerializer(serializers.Serializer):
        total = serializers.DecimalField(max_digits=12, decimal_places=2)


def test_nested_serializers_of_different_endpoints_get_different_component_names() -> None:
    schema = RetainAutoSchema()

    names = {schema.get_serializer_name(api.OutputSerializer(), "response") for api in (FirstApi, SecondApi)}

    assert names == {"FirstOutputSerializer", "SecondOutputSerializer"}


def test_the_schema_names_whoami_output_after_its_endpoint(schema: dict) -> None:
    assert "WhoAmIOutput" in schema["components"]["schemas"]
