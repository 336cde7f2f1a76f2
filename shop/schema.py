"""The OpenAPI schema of Retain: how token authentication appears (so the docs offer an "Authorize"
button and ``check --deploy`` has no unresolved authenticator) and how components are named."""

from typing import Any, Literal

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "shop.authentication.IntegrationTokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        definition: dict[str, Any] = build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Bearer",  # noqa: S106 - the HTTP auth scheme name, not a secret
            bearer_format="rt_<prefix>_<secret>",
        )
        definition["description"] = "An integration token the owner created under Settings → Integration tokens."
        return definition


class RetainAutoSchema(AutoSchema):
    """Names each API class's nested serializers after the class: ``WhoAmIApi.OutputSerializer`` → ``WhoAmIOutput``.

    Every endpoint keeps its own ``InputSerializer``/``OutputSerializer`` (one API class per operation), so the
    default naming by class name alone would give all of them the component "Output" and a wrong schema.
    """

    def get_serializer_name(self, serializer: Any, direction: Literal["request", "response"]) -> str:
        outer, _dot, inner = type(serializer).__qualname__.rpartition(".")
        if outer and "<locals>" not in outer:
            return outer.rpartition(".")[2].removesuffix("Api") + inner
        return str(super().get_serializer_name(serializer, direction))
