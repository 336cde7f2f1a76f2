from typing import Any

from django.http import HttpRequest

from shop.models import ShopSettings
from shop.permissions import user_can
from shop.roles import Capability
from shop.twofactor import second_factor_pending

# The pages under the owner's Settings menu (templates/base.html), by namespace or by view name: the menu is
# highlighted on any of them.
SETTINGS_NAMESPACES = frozenset({"shop", "webhooks", "demo"})
SETTINGS_VIEWS = frozenset({"feedback:settings", "scoring:model", "schedules"})


def shop_context(request: HttpRequest) -> dict[str, Any]:
    """The shop and the signed-in user's capabilities, so templates show each role only what it may use."""
    user = getattr(request, "user", None)
    capabilities = {c.value for c in Capability if user is not None and user_can(user, c.value)}
    match = getattr(request, "resolver_match", None)
    in_settings = match is not None and (match.namespace in SETTINGS_NAMESPACES or match.view_name in SETTINGS_VIEWS)
    # A user who still owes the second factor sees no menu: every link would lead back to the code page.
    pending = bool(
        user is not None and user.is_authenticated and hasattr(user, "otp_device") and second_factor_pending(request)
    )
    return {
        "shop": ShopSettings.load(),
        "capabilities": capabilities,
        "in_settings_menu": in_settings,
        "second_factor_pending": pending,
    }
