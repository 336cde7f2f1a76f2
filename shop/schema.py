"""The OpenAPI schema of Retain: how token authentication appears (so the docs offer an "Authorize"
button and ``check --deploy`` has no unresolved authenticator) and how components are named."""

from typing import Any, Literal

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


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

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        """Every operation documents the errors it can answer, so a client (and Schemathesis) meets no status code
        the schema does not describe."""
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        return _with_standard_errors(self, responses)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. `invalid`, `not_authenticated`.")
    message = serializers.CharField(help_text="A sentence a developer can act on.")
    # Named as in the answer; DRF's metaclass keeps the serializer's own ``fields`` property apart from it.
    fields = serializers.DictField(  # type: ignore[assignment]
        help_text="Per field, what is wrong with it (empty when no field is to blame)."
    )


class ErrorSerializer(serializers.Serializer):
    """Every error answer of the API (shop.api_errors)."""

    error = ErrorDetailSerializer()


# The answers every operation may give whatever it does: the parser, the authentication and the permission check run
# before the operation's own code. 404 is added where the path names an object.
STANDARD_ERRORS = {
    "400": "The request cannot be read (not JSON, nested too deep, a NUL byte) or is invalid: `error.message` says "
    "why and `error.fields` names the fields.",
    "401": "No credentials, or a token that is unknown or revoked.",
    "403": "The token's scopes or the staff member's role do not allow this operation.",
}
NOT_FOUND = "Nothing of that name or number."


def _with_standard_errors(schema: AutoSchema, responses: dict[str, Any]) -> dict[str, Any]:
    """``responses`` plus the standard errors it does not describe itself, each with the error body."""
    errors = dict(STANDARD_ERRORS)
    if "{" in schema.path:
        errors["404"] = NOT_FOUND
    for status, description in errors.items():
        if status not in responses:
            response = schema._get_response_for_code(ErrorSerializer, status)
            responses[status] = {**response, "description": description}
        elif "content" not in responses[status]:
            # Declared with a description only (OpenApiResponse): the body is still the error body.
            content = schema._get_response_for_code(ErrorSerializer, status)["content"]
            responses[status] = {**responses[status], "content": content}
    return responses


def results_of(serializer_class: type[serializers.Serializer], name: str) -> serializers.Serializer:
    """The schema of an answer ``{"results": [<serializer>, ...]}`` (the batch upserts answer so, one result per row
    in the order sent): without it the schema would say a bare array."""
    return inline_serializer(name=name, fields={"results": serializer_class(many=True)})
