from django import template

register = template.Library()


@register.filter
def heat(share: float) -> str:
    """A heatmap cell's colour: the share of the cohort who bought as the opacity of one blue, full at 50 % (after
    the first month few cohorts keep more than that, and a linear scale to 100 % would leave them all pale)."""
    opacity = max(0.0, min(float(share), 50.0)) / 50
    return f"rgba(13, 110, 253, {opacity:.2f})"
