"""Role checks for pages and API endpoints: each asks for one capability of the role matrix (shop.roles)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from rest_framework import permissions

from shop.models import IntegrationToken

if TYPE_CHECKING:  # rest_framework.views imports these permissions through its settings: no runtime import
    from rest_framework.request import Request
    from rest_framework.views import APIView


def user_can(user: Any, capability: str) -> bool:
    """Whether a signed-in staff member may use ``capability``; anonymous users may use nothing."""
    return bool(getattr(user, "is_authenticated", False)) and user.can(capability)


ViewT = TypeVar("ViewT", bound=Callable[..., HttpResponseBase])


def capability_required(capability: str) -> Callable[[ViewT], ViewT]:
    """Page decorator: anonymous → login page; signed in without the capability → 403."""

    def decorator(view: ViewT) -> ViewT:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_can(request.user, capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return cast(ViewT, wrapped)

    return decorator


class CapabilityRequiredMixin(AccessMixin):
    """Class-based page guard; set ``capability`` on the view."""

    capability: str = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not user_can(request.user, self.capability):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class DenyAll(permissions.BasePermission):
    """The default: an endpoint that forgot to say who may use it is closed."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return False


class HasCapability(permissions.BasePermission):
    """API guard: the view's ``capability`` must be granted by the staff role or by the token's scopes."""

    message = "Your role or token does not allow this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        capability = getattr(view, "capability", None)
        if not capability:
            return False
        if isinstance(request.auth, IntegrationToken):
            return request.auth.has_scope(capability)
        return user_can(request.user, capability)


class HasAnyAccess(permissions.BasePermission):
    """Any valid, unrevoked token or any signed-in staff member with a role."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if isinstance(request.auth, IntegrationToken):
            return request.auth.is_active
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.role)
