"""Writes of the customers app: matching incoming people to customers, and keeping their contacts."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from django.db import transaction
from django.utils import timezone

from customers.channels import classify_channel
from customers.models import (
    Channel,
    ConsentChange,
    ConsentChannel,
    Customer,
    CustomerEmail,
    CustomerExternalId,
    CustomerPhone,
    Note,
    Tag,
)
from shop.locks import advisory_xact_lock


@dataclass(frozen=True)
class CustomerData:
    """A customer as a source describes it. Phones are E.164 and emails lower-cased already: the serializer or
    CSV parser normalised them and told the sender what was wrong."""

    source: str
    external_id: str = ""
    name: str = ""
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    city: str = ""
    address: str = ""
    language: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    referred_by_id: int | None = None
    email_consent: bool | None = None
    sms_consent: bool | None = None
    # The proof of the consent above: where it was given, the version of the wording agreed to, and when (None:
    # now, when it arrives).
    consent_source: str = ""
    consent_wording: str = ""
    consent_at: datetime | None = None
    created_at: datetime | None = None

    # What a source says about a person, under the same names in the API, a CSV row and a webhook's customer.
    DESCRIBED: ClassVar[tuple[str, ...]] = (
        "external_id",
        "name",
        "phones",
        "emails",
        "city",
        "address",
        "language",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "email_consent",
        "sms_consent",
        "consent_wording",
        "consent_at",
    )

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], **overrides: Any) -> "CustomerData":
        """A customer from a source's validated fields: each name of :attr:`DESCRIBED` present in ``mapping`` is
        taken (phones and emails as tuples), missing ones keep their defaults, and ``overrides`` (the source, the
        consent's source, a differently named external id) win over both."""
        values = {name: mapping[name] for name in cls.DESCRIBED if name in mapping} | overrides
        for name in ("phones", "emails"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)

    def identity_lock_names(self) -> list[str]:
        names = [f"customer-phone:{p}" for p in self.phones] + [f"customer-email:{e}" for e in self.emails]
        if self.external_id:
            names.append(f"customer-ext:{self.source}:{self.external_id}")
        return names


@dataclass
class Resolved:
    customer_id: int
    created: bool


@dataclass
class _Slot:
    """A customer to be created by this batch; several incoming rows may share one."""

    data: CustomerData
    phones: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    external_ids: set[tuple[str, str]] = field(default_factory=set)
    customer_id: int | None = None


def customers_resolve(*, items: Sequence[CustomerData], fill_blanks: bool = True) -> list[Resolved]:
    """Find or create the customer of each item: by external id, then phone, then email, else a new customer.

    Set-based: three lookups for the whole batch, one bulk insert of new customers and one per contact kind, so a
    thousand orders resolve in a handful of queries. Rows of the same batch that share a phone, email or external id
    resolve to the same customer. Contacts an existing customer lacks are attached unless another customer owns them.

    Locking: takes advisory locks on every identity (phone, email, external id) in key order, so concurrent batches
    that mention the same new person serialise instead of creating two customers. Must run inside
    ``transaction.atomic``; the locks are held until the caller commits.
    """
    if not items:
        return []
    advisory_xact_lock(name for item in items for name in item.identity_lock_names())

    ext_keys = {(i.source, i.external_id) for i in items if i.external_id}
    phones = {p for i in items for p in i.phones}
    emails = {e for i in items for e in i.emails}
    by_ext: dict[tuple[str, str], int] = {}
    if ext_keys:
        sources = {s for s, _ in ext_keys}
        ids = {e for _, e in ext_keys}
        for source, external_id, customer_id in CustomerExternalId.objects.filter(
            source__in=sources, external_id__in=ids
        ).values_list("source", "external_id", "customer_id"):
            by_ext[(source, external_id)] = customer_id
    by_phone = dict(CustomerPhone.objects.filter(number__in=phones).values_list("number", "customer_id"))
    by_email = dict(CustomerEmail.objects.filter(address__in=emails).values_list("address", "customer_id"))

    # A merged customer's contacts moved to the survivor, but an external id lookup may still land on the merged
    # one: follow merged_into so new orders reach the survivor.
    found_ids = set(by_ext.values()) | set(by_phone.values()) | set(by_email.values())
    survivors = dict(
        Customer.objects.filter(pk__in=found_ids, merged_into__isnull=False).values_list("pk", "merged_into_id")
    )

    slots: list[_Slot] = []
    slot_by_identity: dict[str, _Slot] = {}
    plan: list[int | _Slot] = []
    for item in items:
        existing = _match_existing(item, by_ext, by_phone, by_email)
        if existing is not None:
            plan.append(survivors.get(existing, existing))
            continue
        identities = _identities(item)
        slot = next((slot_by_identity[k] for k in identities if k in slot_by_identity), None)
        if slot is None:
            slot = _Slot(data=item)
            slots.append(slot)
        slot.phones.update(item.phones)
        slot.emails.update(item.emails)
        if item.external_id:
            slot.external_ids.add((item.source, item.external_id))
        for key in identities:
            slot_by_identity.setdefault(key, slot)
        plan.append(slot)

    _create_slots(slots)
    _attach_contacts(items, plan, by_ext, by_phone, by_email)
    if fill_blanks:
        _fill_blank_fields(items, plan)
    _record_consent(items, plan)

    created_ids = {id(slot) for slot in slots}
    results = []
    for entry in plan:
        if isinstance(entry, _Slot):
            assert entry.customer_id is not None
            results.append(Resolved(customer_id=entry.customer_id, created=id(entry) in created_ids))
        else:
            results.append(Resolved(customer_id=entry, created=False))
    # Only the first row of a new customer counts as its creation.
    seen: set[int] = set()
    for result in results:
        if result.created and result.customer_id in seen:
            result.created = False
        seen.add(result.customer_id)
    return results


def customer_resolve(*, data: CustomerData) -> Resolved:
    """One customer; see :func:`customers_resolve`."""
    with transaction.atomic():
        return customers_resolve(items=[data])[0]


def _identities(item: CustomerData) -> list[str]:
    keys = [f"p:{p}" for p in item.phones] + [f"e:{e}" for e in item.emails]
    if item.external_id:
        keys.append(f"x:{item.source}:{item.external_id}")
    return keys


def _match_existing(
    item: CustomerData,
    by_ext: dict[tuple[str, str], int],
    by_phone: dict[str, int],
    by_email: dict[str, int],
) -> int | None:
    if item.external_id and (item.source, item.external_id) in by_ext:
        return by_ext[(item.source, item.external_id)]
    for phone in item.phones:
        if phone in by_phone:
            return by_phone[phone]
    for email in item.emails:
        if email in by_email:
            return by_email[email]
    return None


def _new_customer(data: CustomerData) -> Customer:
    now = timezone.now()
    customer = Customer(
        name=data.name,
        city=data.city,
        address=data.address,
        language=data.language,
        utm_source=data.utm_source,
        utm_medium=data.utm_medium,
        utm_campaign=data.utm_campaign,
        referred_by_id=data.referred_by_id,
        channel=classify_channel(data.utm_source, data.utm_medium, referrer_customer=data.referred_by_id is not None),
        created_at=data.created_at or now,
    )
    source, wording, at = data.consent_source or data.source, data.consent_wording, data.consent_at or now
    if data.email_consent:
        customer.email_consent, customer.email_consent_at, customer.email_consent_source = True, at, source
        customer.email_consent_wording = wording
    if data.sms_consent:
        customer.sms_consent, customer.sms_consent_at, customer.sms_consent_source = True, at, source
        customer.sms_consent_wording = wording
    return customer


def _create_slots(slots: list[_Slot]) -> None:
    if not slots:
        return
    customers = Customer.objects.bulk_create([_new_customer(slot.data) for slot in slots])
    phones, emails, external_ids, consents = [], [], [], []
    for slot, customer in zip(slots, customers, strict=True):
        slot.customer_id = customer.pk
        phones += [
            CustomerPhone(customer=customer, number=p, is_primary=i == 0) for i, p in enumerate(sorted(slot.phones))
        ]
        emails += [
            CustomerEmail(customer=customer, address=e, is_primary=i == 0) for i, e in enumerate(sorted(slot.emails))
        ]
        external_ids += [CustomerExternalId(customer=customer, source=s, external_id=x) for s, x in slot.external_ids]
        for channel, granted in (
            (ConsentChannel.EMAIL, customer.email_consent),
            (ConsentChannel.SMS, customer.sms_consent),
        ):
            if granted:
                consents.append(
                    ConsentChange(
                        customer=customer,
                        channel=channel,
                        granted=True,
                        source=slot.data.consent_source or slot.data.source,
                        wording=slot.data.consent_wording,
                        changed_at=slot.data.consent_at or timezone.now(),
                    )
                )
    # The identities were free when looked up and are advisory-locked since, so plain inserts cannot conflict.
    CustomerPhone.objects.bulk_create(phones)
    CustomerEmail.objects.bulk_create(emails)
    CustomerExternalId.objects.bulk_create(external_ids)
    ConsentChange.objects.bulk_create(consents)


def _attach_contacts(
    items: Sequence[CustomerData],
    plan: list[int | _Slot],
    by_ext: dict[tuple[str, str], int],
    by_phone: dict[str, int],
    by_email: dict[str, int],
) -> None:
    """Give matched customers the contacts they lack; a contact owned by someone else stays theirs."""
    phones: dict[str, int] = {}
    emails: dict[str, int] = {}
    external_ids: dict[tuple[str, str], int] = {}
    for item, entry in zip(items, plan, strict=True):
        if isinstance(entry, _Slot):
            continue
        for phone in item.phones:
            if phone not in by_phone:
                phones.setdefault(phone, entry)
        for email in item.emails:
            if email not in by_email:
                emails.setdefault(email, entry)
        if item.external_id and (item.source, item.external_id) not in by_ext:
            external_ids.setdefault((item.source, item.external_id), entry)
    CustomerPhone.objects.bulk_create([CustomerPhone(customer_id=c, number=p) for p, c in phones.items()])
    CustomerEmail.objects.bulk_create([CustomerEmail(customer_id=c, address=e) for e, c in emails.items()])
    CustomerExternalId.objects.bulk_create(
        [CustomerExternalId(customer_id=c, source=s, external_id=x) for (s, x), c in external_ids.items()]
    )


def _fill_blank_fields(items: Sequence[CustomerData], plan: list[int | _Slot]) -> None:
    """An order may tell us a name or city we did not know; it never overwrites what a manager typed."""
    wanted: dict[int, CustomerData] = {}
    for item, entry in zip(items, plan, strict=True):
        if not isinstance(entry, _Slot) and (item.name or item.city or item.address or item.utm_source):
            wanted[entry] = item
    if not wanted:
        return
    changed = []
    for customer in Customer.objects.filter(pk__in=wanted).only(
        "pk", "name", "city", "address", "channel", "utm_source", "utm_medium", "utm_campaign"
    ):
        item = wanted[customer.pk]
        before = (customer.name, customer.city, customer.address, customer.channel)
        customer.name = customer.name or item.name
        customer.city = customer.city or item.city
        customer.address = customer.address or item.address
        if customer.channel == Channel.UNKNOWN and (item.utm_source or item.utm_medium):
            customer.utm_source, customer.utm_medium, customer.utm_campaign = (
                item.utm_source,
                item.utm_medium,
                item.utm_campaign,
            )
            customer.channel = classify_channel(item.utm_source, item.utm_medium)
        if (customer.name, customer.city, customer.address, customer.channel) != before:
            changed.append(customer)
    Customer.objects.bulk_update(
        changed, ["name", "city", "address", "channel", "utm_source", "utm_medium", "utm_campaign"]
    )


def _record_consent(items: Sequence[CustomerData], plan: list[int | _Slot]) -> None:
    """Apply consent the source reports for existing customers (new ones got theirs at creation)."""
    for item, entry in zip(items, plan, strict=True):
        if isinstance(entry, _Slot):
            continue
        for channel, granted in ((ConsentChannel.EMAIL, item.email_consent), (ConsentChannel.SMS, item.sms_consent)):
            if granted is not None:
                customer_set_consent(
                    customer_id=entry,
                    channel=channel,
                    granted=granted,
                    source=item.consent_source or item.source,
                    wording=item.consent_wording,
                    at=item.consent_at,
                )


def customer_set_consent(
    *, customer_id: int, channel: str, granted: bool, source: str, wording: str = "", at: datetime | None = None
) -> bool:
    """Set marketing consent for one channel with its proof (source, wording version, the moment it was given or
    withdrawn — now unless the source says when); records a ConsentChange only when it actually changes.
    Returns whether it changed. Conditional UPDATE, so two concurrent calls record one change."""
    at = at or timezone.now()
    prefix = "email" if channel == ConsentChannel.EMAIL else "sms"
    updated = (
        Customer.objects.filter(pk=customer_id)
        .exclude(**{f"{prefix}_consent": granted})
        .update(
            **{
                f"{prefix}_consent": granted,
                f"{prefix}_consent_at": at,
                f"{prefix}_consent_source": source,
                f"{prefix}_consent_wording": wording,
            }
        )
    )
    if updated:
        ConsentChange.objects.create(
            customer_id=customer_id, channel=channel, granted=granted, source=source, wording=wording, changed_at=at
        )
    return bool(updated)


def customers_upsert(*, items: Sequence[CustomerData]) -> list[Resolved]:
    """Create or update customers from a source's own records (the customers API, a CSV of customers): unlike an
    order, the source's customer record is authoritative for name, city, address and language, so provided values
    replace ours. Set-based and locked like :func:`customers_resolve`; one transaction for the batch."""
    with transaction.atomic():
        resolved = customers_resolve(items=items, fill_blanks=False)
        authoritative = ("name", "city", "address", "language")
        wanted: dict[int, CustomerData] = {}
        for item, result in zip(items, resolved, strict=True):
            if not result.created and any(getattr(item, name) for name in authoritative):
                wanted[result.customer_id] = item
        changed = []
        for customer in Customer.objects.filter(pk__in=wanted).only("pk", *authoritative):
            item = wanted[customer.pk]
            before = tuple(getattr(customer, name) for name in authoritative)
            for name in authoritative:
                setattr(customer, name, getattr(item, name) or getattr(customer, name))
            if tuple(getattr(customer, name) for name in authoritative) != before:
                customer.updated_at = timezone.now()
                changed.append(customer)
        Customer.objects.bulk_update(changed, [*authoritative, "updated_at"])
    return resolved


def customer_upsert(*, data: CustomerData) -> Resolved:
    """One customer; see :func:`customers_upsert`."""
    return customers_upsert(items=[data])[0]


# --- Card edits ---
# A manager's edits on the customer card. Each is one service: the view validates a form and calls one of these.

CONSENT_SOURCE_MANAGER = "manager"


class ContactTakenError(ValueError):
    """A phone or email that already belongs to another customer: numbers and addresses identify one person (the
    caller lookup and order matching depend on it), so the manager is shown the owner instead."""

    def __init__(self, value: str, owner: Customer) -> None:
        super().__init__(value)
        self.value = value
        self.owner = owner


def customer_update(*, customer: Customer, name: str, city: str, address: str, language: str) -> Customer:
    """The card's own fields, as a manager typed them (authoritative: order imports only fill blanks)."""
    customer.name, customer.city, customer.address, customer.language = name.strip(), city.strip(), address, language
    customer.save(update_fields=["name", "city", "address", "language", "updated_at"])
    return customer


def customer_phone_add(*, customer: Customer, number: str) -> CustomerPhone:
    """Attach a phone (E.164, already normalised) to the customer; the first phone becomes the primary one.

    Takes the same advisory lock as order ingestion (``customer-phone:<number>``) so a webhook that brings this
    number at the same moment either sees it attached or attaches it first. Raises ContactTakenError when another
    customer owns the number; idempotent when this customer already has it."""
    with transaction.atomic():
        advisory_xact_lock([f"customer-phone:{number}"])
        existing = CustomerPhone.objects.select_related("customer").filter(number=number).first()
        if existing is not None:
            if existing.customer_id != customer.pk:
                raise ContactTakenError(number, existing.customer)
            return existing
        is_first = not CustomerPhone.objects.filter(customer=customer).exists()
        return CustomerPhone.objects.create(customer=customer, number=number, is_primary=is_first)


def customer_phone_remove(*, customer: Customer, phone_id: int) -> None:
    """Detach one of the customer's phones; when it was the primary one, the oldest remaining phone takes over."""
    with transaction.atomic():
        phone = CustomerPhone.objects.select_for_update().filter(customer=customer, pk=phone_id).first()
        if phone is None:
            return
        phone.delete()
        if phone.is_primary:
            successor = CustomerPhone.objects.filter(customer=customer).order_by("id").first()
            if successor is not None:
                CustomerPhone.objects.filter(pk=successor.pk).update(is_primary=True)


def customer_email_add(*, customer: Customer, address: str) -> CustomerEmail:
    """Attach an email (lower-cased already); the same contract as :func:`customer_phone_add`."""
    with transaction.atomic():
        advisory_xact_lock([f"customer-email:{address}"])
        existing = CustomerEmail.objects.select_related("customer").filter(address=address).first()
        if existing is not None:
            if existing.customer_id != customer.pk:
                raise ContactTakenError(address, existing.customer)
            return existing
        is_first = not CustomerEmail.objects.filter(customer=customer).exists()
        return CustomerEmail.objects.create(customer=customer, address=address, is_primary=is_first)


def customer_email_remove(*, customer: Customer, email_id: int) -> None:
    with transaction.atomic():
        email = CustomerEmail.objects.select_for_update().filter(customer=customer, pk=email_id).first()
        if email is None:
            return
        email.delete()
        if email.is_primary:
            successor = CustomerEmail.objects.filter(customer=customer).order_by("id").first()
            if successor is not None:
                CustomerEmail.objects.filter(pk=successor.pk).update(is_primary=True)


def customer_tag_add(*, customer: Customer, name: str) -> Tag:
    """Tag the customer, creating the tag when no tag of that name exists (matched case-insensitively, so
    "VIP" and "vip" stay one tag). Idempotent."""
    with transaction.atomic():
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            # Two managers creating the same new tag at once: the unique name lets one insert win.
            tag, _created = Tag.objects.get_or_create(name=name)
        customer.tags.add(tag)
    return tag


def customer_tag_remove(*, customer: Customer, tag_id: int) -> None:
    """Untag the customer; the tag itself stays for the others that carry it."""
    customer.tags.remove(*Tag.objects.filter(pk=tag_id))


def note_add(*, customer: Customer, author: Any, text: str) -> Note:
    return Note.objects.create(
        customer=customer, author=author if getattr(author, "is_authenticated", False) else None, text=text
    )


def note_update(*, note: Note, text: str) -> Note:
    """Change a note's text; its author and time stay, ``updated_at`` shows it was edited."""
    note.text = text
    note.save(update_fields=["text", "updated_at"])
    return note
