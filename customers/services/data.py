"""A customer as a source describes it (the API, a CSV row, a webhook, the call console), and what resolving one
gave: the shape every write of the customers app takes in."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar


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
    # Contacts the source sent that could not be read, as (kind, raw value, reason): kept aside on the customer
    # (``customers.unverified``), never matched on.
    unverified: tuple[tuple[str, str, str], ...] = ()

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


@dataclass(frozen=True)
class OrdersSummary:
    """A customer's order summary as its columns hold it (``orders_count``, ``total_spent``, ``first_order_at``,
    ``last_order_at``): a new customer's, from the orders its batch brings, is written by its INSERT."""

    orders_count: int = 0
    total_spent: Decimal = Decimal("0")
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None

    def __add__(self, other: "OrdersSummary") -> "OrdersSummary":
        firsts = [at for at in (self.first_order_at, other.first_order_at) if at is not None]
        lasts = [at for at in (self.last_order_at, other.last_order_at) if at is not None]
        return OrdersSummary(
            orders_count=self.orders_count + other.orders_count,
            total_spent=self.total_spent + other.total_spent,
            first_order_at=min(firsts) if firsts else None,
            last_order_at=max(lasts) if lasts else None,
        )
