"""The customer card's edit actions: each is a form and one service call, then back to the card (the card itself is
composed in ``crm.card`` from the panels every app registers in ``customers.contrib``)."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers import selectors, services
from customers.forms import (
    ConsentForm,
    CustomerProfileForm,
    EmailAddForm,
    NoteForm,
    PhoneAddForm,
    TagAddForm,
)
from customers.models import Customer
from shop.permissions import capability_required
from shop.phones import format_phone
from shop.roles import Capability


def _editable_customer(request: HttpRequest, pk: int) -> Customer | HttpResponse:
    """The customer to edit, or a redirect when it was merged: edits go to the survivor, never to a shell."""
    customer = selectors.customer_for_user(request.user, pk)
    if customer.merged_into_id is not None:
        survivor = selectors.survivor_of(customer)
        messages.error(request, _("This customer was merged into another one; edit the survivor instead."))
        return redirect("customer_card", pk=survivor.pk)
    return customer


def _card(customer: Customer, anchor: str = "") -> HttpResponse:
    return redirect(reverse("customer_card", kwargs={"pk": customer.pk}) + (f"#{anchor}" if anchor else ""))


def _form_errors(request: HttpRequest, form: Any, field_tag: str = "") -> None:
    """Each error as a message; ``field_tag`` (``field-phone``) has the card show it under its form's field instead
    of at the top of the page, out of sight after the redirect to the form's section."""
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error, extra_tags=field_tag)


def _card_link(customer: Customer) -> str:
    return reverse("customer_card", kwargs={"pk": customer.pk})


@capability_required(Capability.BROWSE)
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    form = CustomerProfileForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        services.customer_update(customer=customer, **{name: form.cleaned_data[name] for name in form.Meta.fields})
        messages.success(request, _("Customer saved."))
        return _card(customer)
    return render(request, "customers/customer_edit.html", {"customer": customer, "form": form})


def _contact_add(
    request: HttpRequest,
    pk: int,
    form_class: type[forms.Form],
    add: Callable[[Customer, Any], object],
    taken: str,
    added: str,
) -> HttpResponse:
    """Add a phone or an email from the card: the form's one cleaned value goes to ``add``; a contact that belongs
    to another customer is refused with ``taken`` ({phone} or {email}, {url}, {name}) linking to that customer's card."""
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    form = form_class(request.POST)
    field_tag = f"field-{form_class.card_field}"  # type: ignore[attr-defined]
    if not form.is_valid():
        _form_errors(request, form, field_tag)
        return _card(customer, "contacts")
    (value,) = form.cleaned_data.values()
    try:
        add(customer, value)
    except services.ContactTakenError as error:
        messages.error(
            request,
            format_html(
                taken,
                phone=format_phone(error.value),
                email=error.value,
                url=_card_link(error.owner),
                name=error.owner.display_name,
            ),
            extra_tags=field_tag,
        )
    else:
        messages.success(request, added)
    return _card(customer, "contacts")


def _contact_remove(request: HttpRequest, pk: int, remove: Callable[[Customer], object], removed: str) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    remove(customer)
    messages.success(request, removed)
    return _card(customer, "contacts")


@require_POST
@capability_required(Capability.BROWSE)
def phone_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _contact_add(
        request,
        pk,
        PhoneAddForm,
        lambda customer, number: services.customer_phone_add(customer=customer, number=number),
        _('The phone {phone} already belongs to <a href="{url}">{name}</a>.'),
        _("Phone added."),
    )


@require_POST
@capability_required(Capability.BROWSE)
def phone_remove(request: HttpRequest, pk: int, phone_id: int) -> HttpResponse:
    return _contact_remove(
        request,
        pk,
        lambda customer: services.customer_phone_remove(customer=customer, phone_id=phone_id),
        _("Phone removed."),
    )


@require_POST
@capability_required(Capability.BROWSE)
def email_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _contact_add(
        request,
        pk,
        EmailAddForm,
        lambda customer, address: services.customer_email_add(customer=customer, address=address),
        _('The email {email} already belongs to <a href="{url}">{name}</a>.'),
        _("Email added."),
    )


@require_POST
@capability_required(Capability.BROWSE)
def email_remove(request: HttpRequest, pk: int, email_id: int) -> HttpResponse:
    return _contact_remove(
        request,
        pk,
        lambda customer: services.customer_email_remove(customer=customer, email_id=email_id),
        _("Email removed."),
    )


@require_POST
@capability_required(Capability.BROWSE)
def tag_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    form = TagAddForm(request.POST)
    if form.is_valid():
        tag = services.customer_tag_add(customer=customer, name=form.cleaned_data["name"])
        messages.success(request, _("Tag “%(name)s” added.") % {"name": tag.name})
    else:
        _form_errors(request, form)
    return _card(customer, "tags")


@require_POST
@capability_required(Capability.BROWSE)
def tag_remove(request: HttpRequest, pk: int, tag_id: int) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    services.customer_tag_remove(customer=customer, tag_id=tag_id)
    messages.success(request, _("Tag removed."))
    return _card(customer, "tags")


@require_POST
@capability_required(Capability.BROWSE)
def consent_set(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    form = ConsentForm(request.POST)
    if form.is_valid():
        services.customer_set_consent(
            customer_id=customer.pk,
            channel=form.cleaned_data["channel"],
            granted=form.cleaned_data["granted"],
            source=services.CONSENT_SOURCE_MANAGER,
        )
        messages.success(request, _("Consent updated."))
    else:
        _form_errors(request, form)
    return _card(customer, "consent")


@require_POST
@capability_required(Capability.BROWSE)
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    form = NoteForm(request.POST)
    if form.is_valid():
        services.note_add(customer=customer, author=request.user, text=form.cleaned_data["text"])
        messages.success(request, _("Note added."))
    else:
        _form_errors(request, form)
    return _card(customer, "timeline")


@capability_required(Capability.BROWSE)
def note_edit(request: HttpRequest, pk: int, note_id: int) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    note = selectors.note_for_customer(customer, note_id)
    form = NoteForm(request.POST or None, initial={"text": note.text}, show_label=True)
    if request.method == "POST" and form.is_valid():
        services.note_update(note=note, text=form.cleaned_data["text"])
        messages.success(request, _("Note saved."))
        return _card(customer, "timeline")
    return render(request, "customers/note_edit.html", {"customer": customer, "note": note, "form": form})
