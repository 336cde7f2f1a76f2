"""The API documents itself (OpenAPI 3) and its documentation pages load nothing from other hosts."""

import re

import pytest
from django.test import Client
from drf_spectacular.validation import validate_schema
from rest_framework import serializers

from shop.schema import RetainAutoSchema

FOREIGN_URL = re.compile(r"""https?://(?!testserver[/:"'])[^\s"'<>]+""")


@pytest.fixture
def schema(db: None) -> dict:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


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
def test_the_documentation_pages_render_from_local_files_only(db: None, page: str) -> None:
    response = Client().get(page)

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert FOREIGN_URL.findall(html) == []


def test_swagger_ui_does_not_send_the_schema_to_a_public_validator(db: None) -> None:
    html = Client().get("/api/docs/").content.decode()

    assert '"validatorUrl": null' in html


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
