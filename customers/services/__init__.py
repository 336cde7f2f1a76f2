"""Writes of the customers app, by topic: resolving incoming people to customers and a source's customer upserts
(``resolving``, on the shapes in ``data``), consent with its proof (``consent``), and a manager's edits on the card
(``editing``). Callers import from here."""

from customers.services.consent import customer_set_consent
from customers.services.data import CustomerData, Resolved
from customers.services.editing import (
    CONSENT_SOURCE_MANAGER,
    ContactTakenError,
    customer_email_add,
    customer_email_remove,
    customer_phone_add,
    customer_phone_remove,
    customer_tag_add,
    customer_tag_remove,
    customer_update,
    note_add,
    note_update,
)
from customers.services.resolving import customer_resolve, customer_upsert, customers_resolve, customers_upsert

__all__ = [
    "CONSENT_SOURCE_MANAGER",
    "ContactTakenError",
    "CustomerData",
    "Resolved",
    "customer_email_add",
    "customer_email_remove",
    "customer_phone_add",
    "customer_phone_remove",
    "customer_resolve",
    "customer_set_consent",
    "customer_tag_add",
    "customer_tag_remove",
    "customer_update",
    "customer_upsert",
    "customers_resolve",
    "customers_upsert",
    "note_add",
    "note_update",
]
