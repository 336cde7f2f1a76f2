"""The card's actions on unverified contacts: fix one into a real phone or email, or discard it. Managers and owners
(the ``browse`` capability), like every other edit of a customer's contacts."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers.models import ContactKind
from customers.unverified import (
    fix_form_class,
    unverified_contact_discard,
    unverified_contact_fix,
    unverified_contact_for_customer,
)
from customers.views_card import _card, _contact_add, _editable_customer
from shop.permissions import capability_required
from shop.roles import Capability


@require_POST
@capability_required(Capability.BROWSE)
def unverified_fix(request: HttpRequest, pk: int, contact_id: int) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    contact = unverified_contact_for_customer(customer, contact_id)
    if contact is None:  # fixed or discarded meanwhile by someone else
        return _card(customer, "unverified")
    phone = contact.kind == ContactKind.PHONE
    return _contact_add(
        request,
        pk,
        fix_form_class(contact),
        lambda owner, value: unverified_contact_fix(customer=owner, contact=contact, value=value),
        _('The phone {phone} already belongs to <a href="{url}">{name}</a>.')
        if phone
        else _('The email {email} already belongs to <a href="{url}">{name}</a>.'),
        _("Phone added.") if phone else _("Email added."),
    )


@require_POST
@capability_required(Capability.BROWSE)
def unverified_discard(request: HttpRequest, pk: int, contact_id: int) -> HttpResponse:
    customer = _editable_customer(request, pk)
    if isinstance(customer, HttpResponse):
        return customer
    unverified_contact_discard(customer=customer, contact_id=contact_id)
    messages.success(request, _("Unverified contact discarded."))
    return _card(customer, "unverified")
