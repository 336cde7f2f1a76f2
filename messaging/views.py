"""The public one-click unsubscribe from marketing (no login: the signed token in the address is the authority)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from messaging import selectors, services
from messaging.links import unsubscribe_token_read
from shop.http import public_link_page
from shop.models import ShopSettings


# Mail clients' one-click POST (RFC 8058) carries no CSRF token and no session; the token is the whole authority.
@csrf_exempt
@public_link_page
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm (link scanners follow links and must not unsubscribe anyone); POST unsubscribes."""
    message_id = unsubscribe_token_read(token)
    found = selectors.message_for_unsubscribe(message_id) if message_id is not None else None
    context = {"shop_name": ShopSettings.load().display_name}
    if found is None or message_id is None:
        return render(request, "messaging/unsubscribe_invalid.html", context, status=404)
    with translation.override(found["language"] or translation.get_language()):
        context["channel"] = found["channel"]
        if request.method == "POST":
            services.marketing_unsubscribe(message_id=message_id)
            return render(request, "messaging/unsubscribed.html", context)
        return render(request, "messaging/unsubscribe_confirm.html", context)
