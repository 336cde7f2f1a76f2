"""Matching incoming people to customers, set-based: by external id, then phone, then email, else a new customer;
and the upsert of a source's own customer records."""

from collections.abc import Sequence
from dataclasses import dataclass, field

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
)
from customers.services.consent import customer_set_consent
from customers.services.data import CustomerData, OrdersSummary, Resolved
from shop.bulk_insert import objects_insert
from shop.locks import advisory_xact_lock


@dataclass
class _Slot:
    """A customer to be created by this batch; several incoming rows may share one."""

    data: CustomerData
    phones: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    external_ids: set[tuple[str, str]] = field(default_factory=set)
    customer_id: int | None = None
    summary: OrdersSummary = field(default_factory=OrdersSummary)


@dataclass
class _Known:
    """The customers a batch's identities already belong to, and the survivors of those that were merged."""

    by_ext: dict[tuple[str, str], int]
    by_phone: dict[str, int]
    by_email: dict[str, int]
    survivors: dict[int, int]

    def match(self, item: CustomerData) -> int | None:
        """The customer ``item`` is, by external id, then phone, then email; the survivor if that one was merged."""
        found = _match_existing(item, self.by_ext, self.by_phone, self.by_email)
        return None if found is None else self.survivors.get(found, found)


def _known(items: Sequence[CustomerData]) -> _Known:
    """Three lookups for the whole batch, and one more for merged customers among what they found."""
    ext_keys = {(i.source, i.external_id) for i in items if i.external_id}
    by_ext: dict[tuple[str, str], int] = {}
    if ext_keys:
        rows = CustomerExternalId.objects.filter(
            source__in={s for s, _ in ext_keys}, external_id__in={e for _, e in ext_keys}
        ).values_list("source", "external_id", "customer_id")
        by_ext = {(source, external_id): customer_id for source, external_id, customer_id in rows}
    phones = {p for i in items for p in i.phones}
    emails = {e for i in items for e in i.emails}
    by_phone = dict(CustomerPhone.objects.filter(number__in=phones).values_list("number", "customer_id"))
    by_email = dict(CustomerEmail.objects.filter(address__in=emails).values_list("address", "customer_id"))
    # A merged customer's contacts moved to the survivor, but an external id lookup may still land on the merged
    # one: follow merged_into so new orders reach the survivor.
    found_ids = set(by_ext.values()) | set(by_phone.values()) | set(by_email.values())
    survivors = dict(
        Customer.objects.filter(pk__in=found_ids, merged_into__isnull=False).values_list("pk", "merged_into_id")
    )
    return _Known(by_ext=by_ext, by_phone=by_phone, by_email=by_email, survivors=survivors)


def _plan(items: Sequence[CustomerData], known: _Known) -> tuple[list[int | _Slot], list[_Slot]]:
    """Each item's customer: an existing id, or a slot for a customer this batch creates. Items of the batch that
    share a phone, email or external id share one slot."""
    slots: list[_Slot] = []
    slot_by_identity: dict[str, _Slot] = {}
    plan: list[int | _Slot] = []
    for item in items:
        existing = known.match(item)
        if existing is not None:
            plan.append(existing)
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
    return plan, slots


def _results(plan: list[int | _Slot]) -> list[Resolved]:
    """One result per item; only the first row of a new customer counts as its creation."""
    results = []
    seen: set[int] = set()
    for entry in plan:
        customer_id = entry.customer_id if isinstance(entry, _Slot) else entry
        assert customer_id is not None
        results.append(Resolved(customer_id=customer_id, created=isinstance(entry, _Slot) and customer_id not in seen))
        seen.add(customer_id)
    return results


def customers_resolve(
    *, items: Sequence[CustomerData], fill_blanks: bool = True, summaries: Sequence[OrdersSummary] | None = None
) -> list[Resolved]:
    """Find or create the customer of each item: by external id, then phone, then email, else a new customer.

    Set-based: three lookups for the whole batch, one bulk insert of new customers and one per contact kind, so a
    thousand orders resolve in a handful of queries. Rows of the same batch that share a phone, email or external id
    resolve to the same customer. Contacts an existing customer lacks are attached unless another customer owns them.

    Locking: takes advisory locks on every identity (phone, email, external id) in key order, so concurrent batches
    that mention the same new person serialise instead of creating two customers. Must run inside
    ``transaction.atomic``; the locks are held until the caller commits.

    ``summaries`` (one per item: the order summary of the order that item brings) gives each new customer, at its
    insert, the sum of its items' summaries, so the caller need not rewrite it by a summary refresh; without it a
    new customer starts at zero.
    """
    if not items:
        return []
    advisory_xact_lock(name for item in items for name in item.identity_lock_names())
    known = _known(items)
    plan, slots = _plan(items, known)
    if summaries is not None:
        for entry, summary in zip(plan, summaries, strict=True):
            if isinstance(entry, _Slot):
                entry.summary += summary
    _create_slots(slots)
    _attach_contacts(items, plan, known.by_ext, known.by_phone, known.by_email)
    if fill_blanks:
        _fill_blank_fields(items, plan)
    _record_consent(items, plan)
    return _results(plan)


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


def _new_customer(data: CustomerData, summary: OrdersSummary) -> Customer:
    now = timezone.now()
    customer = Customer(
        orders_count=summary.orders_count,
        total_spent=summary.total_spent,
        first_order_at=summary.first_order_at,
        last_order_at=summary.last_order_at,
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
    customers = [_new_customer(slot.data, slot.summary) for slot in slots]
    objects_insert(customers)
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
    for rows in (phones, emails, external_ids, consents):
        objects_insert(rows)


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
    objects_insert([CustomerPhone(customer_id=c, number=p) for p, c in phones.items()])
    objects_insert([CustomerEmail(customer_id=c, address=e) for e, c in emails.items()])
    objects_insert([CustomerExternalId(customer_id=c, source=s, external_id=x) for (s, x), c in external_ids.items()])


def _fill_blank_fields(items: Sequence[CustomerData], plan: list[int | _Slot]) -> None:
    """An order may tell us a name or city we did not know; it never overwrites what a manager typed."""
    wanted: dict[int, CustomerData] = {}
    for item, entry in zip(items, plan, strict=True):
        if not isinstance(entry, _Slot) and (item.name or item.city or item.address or item.utm_source):
            wanted[entry] = item
    if not wanted:
        return
    customers = Customer.objects.filter(pk__in=wanted).only(
        "pk", "name", "city", "address", "channel", "utm_source", "utm_medium", "utm_campaign"
    )
    changed = [customer for customer in customers if _fill_blanks_of(customer, wanted[customer.pk])]
    Customer.objects.bulk_update(
        changed, ["name", "city", "address", "channel", "utm_source", "utm_medium", "utm_campaign"]
    )


def _fill_blanks_of(customer: Customer, item: CustomerData) -> bool:
    """Fill the customer's blank name, city and address, and an unknown channel, from ``item``; whether any
    changed."""
    before = (customer.name, customer.city, customer.address, customer.channel)
    customer.name = customer.name or item.name
    customer.city = customer.city or item.city
    customer.address = customer.address or item.address
    if customer.channel == Channel.UNKNOWN and (item.utm_source or item.utm_medium):
        customer.utm_source, customer.utm_medium = item.utm_source, item.utm_medium
        customer.utm_campaign = item.utm_campaign
        customer.channel = classify_channel(item.utm_source, item.utm_medium)
    return (customer.name, customer.city, customer.address, customer.channel) != before


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
