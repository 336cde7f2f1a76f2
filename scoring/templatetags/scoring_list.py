"""Labels of stored score codes for templates that receive the code alone (the customer list's annotated rows)."""

from django import template

from scoring.models import Segment, Tier

register = template.Library()


@register.simple_tag
def tier_label(code: str | None) -> str:
    return str(Tier(code).label) if code in Tier.values else ""


@register.simple_tag
def segment_label(code: str | None) -> str:
    return str(Segment(code).label) if code in Segment.values else ""
