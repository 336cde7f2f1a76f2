"""Template tags for the demo's additions to pages that belong to other code (the console, the navigation): each
renders nothing outside the demo or for a role that may not use it."""

from typing import Any

from django import template
from django.conf import settings

from crm.demo.services import is_demo_call
from crm.demo.views import SimulatedCallForm

register = template.Library()


@register.inclusion_tag("crm/demo/_call_simulator.html", takes_context=True)
def demo_call_simulator(context: template.Context) -> dict[str, Any]:
    """The console's "simulate an incoming call" panel, with answer and hang-up for the call the demo rang."""
    shown = bool(settings.RETAIN_DEMO) and "lookup" in (context.get("capabilities") or set())
    live = context.get("live_call")
    demo_call = live if live is not None and is_demo_call(live) else None
    return {"shown": shown, "form": SimulatedCallForm(), "demo_call": demo_call, "request": context.get("request")}


@register.inclusion_tag("crm/demo/_nav.html", takes_context=True)
def demo_nav(context: template.Context) -> dict[str, Any]:
    """The owner's link to the demo's outbox."""
    shown = bool(settings.RETAIN_DEMO) and "configure" in (context.get("capabilities") or set())
    return {"shown": shown, "request": context.get("request")}
