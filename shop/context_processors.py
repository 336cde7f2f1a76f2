from typing import Any

from django.http import HttpRequest

from shop.models import ShopSettings
from shop.permissions import user_can
from shop.roles import Capability


def shop_context(request: HttpRequest) -> dict[str, Any]:
    """The shop and the signed-in user's capabilities, so templates show each role only what it may use."""
    user = getattr(request, "user", None)
    capabilities = {c.value for c in Capability if user is not None and user_can(user, c.value)}
    return {"shop": ShopSettings.load(), "capabilities": capabilities}
