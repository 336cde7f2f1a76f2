"""The erasure of one customer's personal data, keeping their orders for the shop's accounts.

``ERASERS`` is a list of functions that blank or delete one app's personal data of the customers being erased; an
app that stores something about a person appends its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from customers.models import (
    Call,
    ConsentChannel,
    Customer,
    CustomerEmail,
    CustomerExternalId,
    CustomerMerge,
    CustomerPhone,
    Note,
)
from customers.services import customer_set_consent
from feedback.models import FollowUpComment, Invitation, InvitationState, Response
from shop.locks import advisory_xact_lock

# The ConsentChange source of a withdrawal made by erasure: the consent history shows why marketing stopped.
CONSENT_SOURCE_ERASURE = "erasure"
# The audit line in Django's admin log (LogEntry); it needs no table of our own.
AUDIT_MESSAGE = "personal data erased"


@dataclass
class Erasure:
    """What an eraser works on: the customers being erased (the person's record and every duplicate merged into
    it) and the contacts they had when the erasure started, for rows that mention a number without a link."""

    customer_ids: list[int]
    phones: list[str]
    emails: list[str]
    now: datetime


Eraser = Callable[[Erasure], dict[str, int]]


def _erase_profile(erasure: Erasure) -> dict[str, int]:
    # The channel and the UTM source and medium stay: they name where thousands of customers came from and feed
    # LTV by channel. The campaign goes: shops put per-recipient tokens there (mailings, personal links).
    blank = {"name": "", "city": "", "address": "", "language": "", "utm_campaign": ""}
    changed = (
        Customer.objects.filter(pk__in=erasure.customer_ids)
        .filter(~Q(name="") | ~Q(city="") | ~Q(address="") | ~Q(language="") | ~Q(utm_campaign=""))
        .update(**blank, updated_at=erasure.now)
    )
    return {"profiles": changed}


def _erase_contacts(erasure: Erasure) -> dict[str, int]:
    ids = erasure.customer_ids
    phones, _ = CustomerPhone.objects.filter(customer_id__in=ids).delete()
    emails, _ = CustomerEmail.objects.filter(customer_id__in=ids).delete()
    external_ids, _ = CustomerExternalId.objects.filter(customer_id__in=ids).delete()
    return {"phones": phones, "emails": emails, "external_ids": external_ids}


def _erase_notes_and_tags(erasure: Erasure) -> dict[str, int]:
    notes, _ = Note.objects.filter(customer_id__in=erasure.customer_ids).delete()
    # Tags are labels a manager typed about the person ("difficult", "pregnant"): as telling as a note.
    tags, _ = Customer.tags.through.objects.filter(customer_id__in=erasure.customer_ids).delete()
    return {"notes": notes, "tags": tags}


def _withdraw_consent(erasure: Erasure) -> dict[str, int]:
    withdrawn = 0
    for customer_id in erasure.customer_ids:
        for channel in (ConsentChannel.EMAIL, ConsentChannel.SMS):
            # The service records a ConsentChange only when consent was granted: a second erasure adds nothing.
            withdrawn += customer_set_consent(
                customer_id=customer_id, channel=channel, granted=False, source=CONSENT_SOURCE_ERASURE
            )
    return {"consents": withdrawn}


def _erase_calls(erasure: Erasure) -> dict[str, int]:
    # A call from one of their numbers before the card existed is not linked to them but carries the number.
    mentions = Q(customer_id__in=erasure.customer_ids)
    if erasure.phones:
        mentions |= Q(phone__in=erasure.phones)
    changed = (
        Call.objects.filter(mentions)
        .filter(~Q(phone="") | ~Q(note=""))
        .update(phone="", note="", updated_at=erasure.now)
    )
    return {"calls": changed}


def _erase_merge_snapshots(erasure: Erasure) -> dict[str, int]:
    changed = (
        CustomerMerge.objects.filter(survivor_id__in=erasure.customer_ids)
        .exclude(merged_snapshot={})
        .update(merged_snapshot={})
    )
    return {"merge_snapshots": changed}


def _erase_surveys(erasure: Erasure) -> dict[str, int]:
    # The survey's address is a contact; the answer's comment and the staff's comments on the complaint are free
    # text about the person. The scores given (0–10, 1–5) stay: they carry nothing that names anyone and feed NPS.
    # A survey still waiting is dropped: it has nowhere to go now.
    ids = erasure.customer_ids
    Invitation.objects.filter(customer_id__in=ids, state=InvitationState.DUE).update(
        state=InvitationState.FAILED, error=gettext("Personal data erased before sending.")
    )
    addresses = Invitation.objects.filter(customer_id__in=ids).exclude(address="").update(address="")
    comments = Response.objects.filter(customer_id__in=ids).exclude(comment="").update(comment="")
    staff, _ = FollowUpComment.objects.filter(follow_up__customer_id__in=ids).delete()
    return {"survey_addresses": addresses, "survey_comments": comments, "follow_up_comments": staff}


# Orders stay as they are: they hold no name, contact or address (those live on the customer), and the shop's
# accounting and tax records need every order and amount. Scores stay too: figures computed from the orders, with
# nothing that names the person. Later apps add their erasers here.
ERASERS: list[Eraser] = [
    _erase_profile,
    _erase_contacts,
    _erase_notes_and_tags,
    _withdraw_consent,
    _erase_calls,
    _erase_merge_snapshots,
    _erase_surveys,
]


@dataclass(frozen=True)
class ErasureResult:
    customer: Customer
    changed: bool
    counts: dict[str, int] = field(default_factory=dict)


def _family_ids(customer: Customer) -> list[int]:
    """The customer and every record merged into it, at any depth: one person, several rows."""
    found = {customer.pk}
    frontier = [customer.pk]
    while frontier:
        frontier = [
            pk
            for pk in Customer.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True)
            if pk not in found
        ]
        found.update(frontier)
    return sorted(found)


def customer_erase_personal_data(*, customer: Customer, user: Any) -> ErasureResult:
    """Erase what identifies ``customer`` (and the duplicates merged into it) and keep their orders and totals.

    Blanks name, city, address, language and UTM campaign; deletes phones, emails, external ids, notes and tags;
    withdraws marketing consent with ConsentChange rows of source ``erasure``; blanks the number and note of their
    calls; empties merge snapshots; runs every eraser in ``ERASERS``; sets ``erased_at``; writes a LogEntry.

    Locking, in the order ingestion takes them so the two cannot deadlock: advisory locks on every phone, email
    and external id (the names ``customers_resolve`` uses), then the customer rows in id order. An order arriving
    at the same moment with one of those contacts either lands before (and is kept, its data then erased) or
    after (and makes a new customer: the old contacts are no longer known).

    Idempotent: every write is conditional, so a second erasure of the same data changes nothing and logs
    nothing; one after new data arrived erases that data and moves ``erased_at``.
    """
    with transaction.atomic():
        ids = _family_ids(customer)
        phones = sorted(CustomerPhone.objects.filter(customer_id__in=ids).values_list("number", flat=True))
        emails = sorted(CustomerEmail.objects.filter(customer_id__in=ids).values_list("address", flat=True))
        external_ids = CustomerExternalId.objects.filter(customer_id__in=ids).values_list("source", "external_id")
        advisory_xact_lock(
            [f"customer-phone:{p}" for p in phones]
            + [f"customer-email:{e}" for e in emails]
            + [f"customer-ext:{s}:{x}" for s, x in external_ids]
        )
        list(Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))

        erasure = Erasure(customer_ids=ids, phones=phones, emails=emails, now=timezone.now())
        counts: dict[str, int] = {}
        for eraser in ERASERS:
            counts.update(eraser(erasure))
        changed = any(counts.values())
        never_erased = Customer.objects.filter(pk=customer.pk, erased_at__isnull=True).exists()
        if changed or never_erased:
            Customer.objects.filter(pk__in=ids).update(erased_at=erasure.now)
            customer.refresh_from_db()
            LogEntry.objects.create(
                user_id=user.pk,
                content_type_id=ContentType.objects.get_for_model(Customer).pk,
                object_id=str(customer.pk),
                # The display name is already "Customer #id": the audit log keeps no trace of who they were.
                object_repr=str(customer)[:200],
                action_flag=CHANGE,
                change_message=AUDIT_MESSAGE,
            )
            return ErasureResult(customer=customer, changed=True, counts=counts)
    return ErasureResult(customer=customer, changed=False, counts=counts)
