"""The API's schema and its two reference pages, for signed-in staff only: the schema lists every operation and
field, which is a map for an attacker and of no use to a customer. A shop platform's developer is given an account
(or the schema file) by the owner."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from shop.middleware import content_security_policy


class SignedInStaff(BasePermission):
    """A signed-in, active staff member with a role (integration tokens are for data, not for the map of it)."""

    message = "Sign in as a staff member to read the API reference."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.role)


class ApiSchemaView(SpectacularAPIView):
    schema = None  # the reference pages are not operations of the API they describe
    authentication_classes = [SessionAuthentication]
    permission_classes = [SignedInStaff]


class ApiSwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script served as a file (the split view), so no inline script is needed."""

    schema = None

    authentication_classes = [SessionAuthentication]
    permission_classes = [SignedInStaff]


class ApiRedocView(SpectacularRedocView):
    schema = None  # the reference pages are not operations of the API they describe
    authentication_classes = [SessionAuthentication]
    permission_classes = [SignedInStaff]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        # Redoc writes its styles as <style> elements at run time (no nonce) and renders in a blob: worker.
        nonce = getattr(request, "csp_nonce", "")
        response["Content-Security-Policy"] = content_security_policy(
            nonce, **{"style-src": "'self' 'unsafe-inline'", "worker-src": "'self' blob:"}
        )
        return response


api_schema = ApiSchemaView.as_view()
api_docs = login_required(ApiSwaggerView.as_view(url_name="api-schema"))
api_redoc = login_required(ApiRedocView.as_view(url_name="api-schema"))
