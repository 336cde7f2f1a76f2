"""The owner's page of webhook sources: create one per platform, copy its secret once, rotate or switch it off."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib import messages
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from orders.models import WebhookKind, WebhookSource
from orders.webhooks import services
from shop.permissions import capability_required
from shop.roles import Capability


class WebhookSourceForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    slug = forms.SlugField(
        label=gettext_lazy("Address name"), max_length=60, help_text=gettext_lazy("Latin letters, digits and hyphens.")
    )
    kind = forms.ChoiceField(label=gettext_lazy("Format"), choices=WebhookKind.choices)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", gettext_lazy("Create source")))


def _page(request: HttpRequest, form: WebhookSourceForm, shown: WebhookSource | None) -> HttpResponse:
    """The list; ``shown`` is the source whose secret this one response reveals (after creation or rotation)."""
    endpoint = request.build_absolute_uri(reverse("api:webhook", args=["slug"]))
    return render(
        request,
        "orders/webhook_sources.html",
        {
            "sources": WebhookSource.objects.all(),
            "form": form,
            "shown": shown,
            "endpoint_base": endpoint[: -len("slug")],
        },
    )


@never_cache
@capability_required(Capability.CONFIGURE)
def source_list(request: HttpRequest) -> HttpResponse:
    form = WebhookSourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.webhook_source_create(**form.cleaned_data)
        except IntegrityError:
            form.add_error("slug", _("This address name is taken."))
        else:
            return _page(request, WebhookSourceForm(), created)
    return _page(request, form, None)


@never_cache
@require_POST
@capability_required(Capability.CONFIGURE)
def source_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    source = services.webhook_source_rotate(source=get_object_or_404(WebhookSource, pk=pk))
    messages.warning(request, _("The old secret of “%(name)s” no longer works.") % {"name": source.name})
    return _page(request, WebhookSourceForm(), source)


@require_POST
@capability_required(Capability.CONFIGURE)
def source_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(WebhookSource, pk=pk)
    services.webhook_source_set_active(source=source, active=not source.is_active)
    return redirect("webhooks:sources")
