"""The export of one customer's personal data: every app's part, from a registry, as one JSON file.

``EXPORT_CONTRIBUTORS`` is a list of functions ``customer → (key, data)``; an app that stores something about a person
(scores, feedback answers, the loyalty ledger) appends its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch
from django.utils import timezone

from customers.models import Call, Customer, CustomerEmail, CustomerExternalId, CustomerMerge, CustomerPhone, Note
from feedback.models import Invitation
from orders.models import Order, OrderItem, OrderStatusChange
from scoring.models import ChurnSignal, CustomerScore, ScoreSnapshot

# Bumped when a key of the download changes meaning, so whoever reads an old file knows which layout it has.
EXPORT_FORMAT_VERSION = 1

ExportContributor = Callable[[Customer], tuple[str, Any]]


def _profile(customer: Customer) -> tuple[str, Any]:
    return "profile", {
        "id": customer.pk,
        "name": customer.name,
        "city": customer.city,
        "address": customer.address,
        "language": customer.language,
        "acquisition_channel": customer.channel,
        "utm_source": customer.utm_source,
        "utm_medium": customer.utm_medium,
        "utm_campaign": customer.utm_campaign,
        "referred_by_customer_id": customer.referred_by_id,
        "orders_count": customer.orders_count,
        "total_spent": customer.total_spent,
        "first_order_at": customer.first_order_at,
        "last_order_at": customer.last_order_at,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
        "personal_data_erased_at": customer.erased_at,
    }


def _phones(customer: Customer) -> tuple[str, Any]:
    rows = CustomerPhone.objects.filter(customer=customer).order_by("-is_primary", "id")
    return "phones", [{"number": p.number, "is_primary": p.is_primary, "added_at": p.created_at} for p in rows]


def _emails(customer: Customer) -> tuple[str, Any]:
    rows = CustomerEmail.objects.filter(customer=customer).order_by("-is_primary", "id")
    return "emails", [{"address": e.address, "is_primary": e.is_primary, "added_at": e.created_at} for e in rows]


def _external_ids(customer: Customer) -> tuple[str, Any]:
    rows = CustomerExternalId.objects.filter(customer=customer).order_by("source", "external_id")
    return "external_ids", [{"source": x.source, "external_id": x.external_id, "added_at": x.created_at} for x in rows]


def _consent(customer: Customer) -> tuple[str, Any]:
    history = customer.consent_changes.order_by("changed_at", "id")
    return "consent", {
        "email": {
            "granted": customer.email_consent,
            "changed_at": customer.email_consent_at,
            "source": customer.email_consent_source,
        },
        "sms": {
            "granted": customer.sms_consent,
            "changed_at": customer.sms_consent_at,
            "source": customer.sms_consent_source,
        },
        "history": [
            {"channel": c.channel, "granted": c.granted, "source": c.source, "changed_at": c.changed_at}
            for c in history
        ],
    }


def _tags(customer: Customer) -> tuple[str, Any]:
    return "tags", sorted(customer.tags.values_list("name", flat=True))


def _notes(customer: Customer) -> tuple[str, Any]:
    # Authors are staff: their identity is the shop's data, not the customer's, so it stays out of the file.
    rows = Note.objects.filter(customer=customer).order_by("created_at", "id")
    return "notes", [{"text": n.text, "created_at": n.created_at, "updated_at": n.updated_at} for n in rows]


def _calls(customer: Customer) -> tuple[str, Any]:
    rows = Call.objects.filter(customer=customer).order_by("started_at", "id")
    return "calls", [
        {
            "phone": c.phone,
            "direction": c.direction,
            "state": c.state,
            "started_at": c.started_at,
            "answered_at": c.answered_at,
            "ended_at": c.ended_at,
            "outcome": c.outcome,
            "note": c.note,
        }
        for c in rows
    ]


def _orders(customer: Customer) -> tuple[str, Any]:
    rows = (
        Order.objects.filter(customer=customer)
        .prefetch_related(
            Prefetch("items", queryset=OrderItem.objects.order_by("id")),
            Prefetch("status_changes", queryset=OrderStatusChange.objects.order_by("changed_at", "id")),
        )
        .order_by("placed_at", "id")
    )
    return "orders", [
        {
            "source": o.source,
            "external_id": o.external_id,
            "placed_at": o.placed_at,
            "status": o.status,
            "status_changed_at": o.status_changed_at,
            "delivered_at": o.delivered_at,
            "currency": o.currency,
            "subtotal": o.subtotal,
            "discount_total": o.discount_total,
            "delivery_cost": o.delivery_cost,
            "total": o.total,
            "promo_code": o.promo_code,
            "items": [
                {"sku": i.sku, "name": i.name, "category": i.category, "quantity": i.quantity, "price": i.price}
                for i in o.items.all()
            ],
            "status_history": [
                {"from": s.from_status, "to": s.to_status, "changed_at": s.changed_at, "origin": s.origin}
                for s in o.status_changes.all()
            ],
        }
        for o in rows
    ]


def _merges(customer: Customer) -> tuple[str, Any]:
    # A duplicate record of the same person was merged into this one: what it held is theirs too.
    rows = CustomerMerge.objects.filter(survivor=customer).order_by("merged_at", "id")
    return "merged_records", [
        {"merged_customer_id": m.merged_customer_id, "merged_at": m.merged_at, "snapshot": m.merged_snapshot}
        for m in rows
    ]


# The score is profiling: the person may see what was concluded about them and why.
SCORE_FIELDS = (
    "importance",
    "tier",
    "segment",
    "r_score",
    "f_score",
    "m_score",
    "transactions",
    "first_purchase",
    "last_purchase",
    "total_value",
    "p_alive",
    "expected_365",
    "predicted_clv",
    "churn_risk",
    "updated_at",
)


def _score(customer: Customer) -> tuple[str, Any]:
    score = CustomerScore.objects.filter(customer=customer).first()
    if score is None:
        return "score", None
    return "score", {
        **{name: getattr(score, name) for name in SCORE_FIELDS},
        "churn_reasons": score.churn_reason_lines,
        "history": [
            {
                "month": s.month,
                "importance": s.importance,
                "tier": s.tier,
                "segment": s.segment,
                "churn_risk": s.churn_risk,
                "predicted_clv": s.predicted_clv,
            }
            for s in ScoreSnapshot.objects.filter(customer=customer).order_by("month")
        ],
        "churn_signals": [
            {
                "kind": c.kind,
                "detail": c.detail,
                "weight": c.weight,
                "raised_at": c.raised_at,
                "cleared_at": c.cleared_at,
            }
            for c in ChurnSignal.objects.filter(customer=customer).order_by("raised_at", "id")
        ],
    }


def _surveys(customer: Customer) -> tuple[str, Any]:
    rows = (
        Invitation.objects.filter(customer=customer)
        .select_related("order", "response", "response__follow_up")
        .prefetch_related("response__follow_up__comments")
        .order_by("created_at", "id")
    )
    surveys = []
    for invitation in rows:
        response = getattr(invitation, "response", None)
        follow_up = getattr(response, "follow_up", None) if response is not None else None
        surveys.append(
            {
                "order": invitation.order.external_id,
                "channel": invitation.channel,
                "address": invitation.address,
                "state": invitation.state,
                "sent_at": invitation.sent_at,
                "answer": None
                if response is None
                else {
                    "answered_at": response.created_at,
                    "product_score": response.product_score,
                    "service_score": response.service_score,
                    "recommend_score": response.recommend_score,
                    "comment": response.comment,
                },
                "follow_up": None
                if follow_up is None
                else {
                    "state": follow_up.state,
                    "outcome": follow_up.outcome,
                    "resolved_at": follow_up.resolved_at,
                    "comments": [{"at": c.created_at, "text": c.text} for c in follow_up.comments.all()],
                },
            }
        )
    return "surveys", surveys


# Each app that stores something about a person adds its part here (the loyalty ledger next).
EXPORT_CONTRIBUTORS: list[ExportContributor] = [
    _profile,
    _phones,
    _emails,
    _external_ids,
    _consent,
    _tags,
    _notes,
    _calls,
    _orders,
    _merges,
    _score,
    _surveys,
]


def customer_personal_data(customer: Customer) -> dict[str, Any]:
    """Everything the contributors hold about ``customer``, keyed by part. Values are plain Python (Decimal,
    datetime); :func:`personal_data_json` turns them into the file."""
    data: dict[str, Any] = {
        "format_version": EXPORT_FORMAT_VERSION,
        "customer_id": customer.pk,
        "exported_at": timezone.now(),
    }
    for contributor in EXPORT_CONTRIBUTORS:
        key, part = contributor(customer)
        if key in data:
            # Two apps claiming one key would silently hide one app's data from the person asking for it.
            raise ValueError(f"Two personal data contributors use the key {key!r}")
        data[key] = part
    return data


def personal_data_json(data: dict[str, Any]) -> str:
    """The download: Decimal as strings (money must not pass through a float), times in ISO 8601 with their
    offset, Cyrillic as is so the person can read the file in any editor."""
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
