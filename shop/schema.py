"""How the integration-token authentication appears in the OpenAPI schema, so the docs offer an "Authorize"
button and ``check --deploy`` has no unresolved authenticator to warn about."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
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
