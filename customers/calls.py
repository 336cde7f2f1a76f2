"""Calls: telephony events and hand-logged calls (writes), and the questions the operator's console asks (reads)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, Max, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from customers.models import Call, CallDirection, CallOutcome, CallState, Customer, CustomerPhone
from shop.models import ShopSettings
from shop.permissions import user_can
from shop.phones import PhoneError, normalize_phone
from shop.roles import Capability

# A call the telephony never reported ending is not live forever: the console stops showing it after this.
LIVE_CALL_TIMEOUT = timedelta(hours=2)


class CallEvent:
    RINGING = "ringing"
    ANSWERED = "answered"
    HANGUP = "hangup"
    ALL = (RINGING, ANSWERED, HANGUP)


@dataclass(frozen=True)
class CallEventData:
    """One telephony event, already verified and translated from the provider's format."""

    provider: str
    provider_call_id: str
    event: str
    phone: str
    at: datetime
    extension: str = ""
    operator_username: str = ""
    direction: str = CallDirection.INBOUND


def phone_for_call(raw: str) -> str:
    """E.164 when the number can be read; otherwise the digits as sent, so the call is still kept and shown."""
    try:
        return normalize_phone(raw, ShopSettings.load().phone_region)
    except PhoneError:
        return raw.strip()[:32]


def _operator_for(data: CallEventData) -> Any:
    users = get_user_model().objects.filter(is_active=True)
    if data.operator_username:
        found = users.filter(username=data.operator_username).first()
        if found is not None:
            return found
    if data.extension:
        return users.filter(extension=data.extension).order_by("pk").first()
    return None


def call_event_apply(*, data: CallEventData) -> Call:
    """Record a telephony event on its call, creating the call on the first event seen.

    Idempotent and order-tolerant: the call is keyed by (provider, provider call id) under a unique constraint and
    only moves forward (ringing → answered → ended); a hang-up that was never answered makes an inbound call
    missed. A repeated or late event changes nothing. Locks the call row.
    """
    phone = phone_for_call(data.phone)
    with transaction.atomic():
        call = (
            Call.objects.select_for_update()
            .filter(provider=data.provider, provider_call_id=data.provider_call_id)
            .first()
        )
        if call is None:
            owner = CustomerPhone.objects.filter(number=phone).values_list("customer_id", flat=True).first()
            try:
                with transaction.atomic():
                    call = Call.objects.create(
                        provider=data.provider,
                        provider_call_id=data.provider_call_id,
                        phone=phone,
                        customer_id=owner,
                        direction=data.direction,
                        started_at=data.at,
                        extension=data.extension,
                        operator=_operator_for(data),
                    )
            except IntegrityError:
                # Two deliveries of the first event raced; the other one created the row.
                call = Call.objects.select_for_update().get(
                    provider=data.provider, provider_call_id=data.provider_call_id
                )
        _advance(call, data)
    return call


def _advance(call: Call, data: CallEventData) -> None:
    fields: list[str] = []
    if data.extension and data.extension != call.extension and call.state == CallState.RINGING:
        call.extension, call.operator = data.extension, _operator_for(data)
        fields += ["extension", "operator"]
    if data.event == CallEvent.ANSWERED and call.state == CallState.RINGING:
        call.state, call.answered_at = CallState.ANSWERED, data.at
        if data.operator_username or data.extension:
            call.operator = _operator_for(data) or call.operator
        fields += ["state", "answered_at", "operator"]
    elif data.event == CallEvent.HANGUP and call.is_live:
        missed = call.state == CallState.RINGING and call.direction == CallDirection.INBOUND
        call.state, call.ended_at = (CallState.MISSED if missed else CallState.ENDED), data.at
        fields += ["state", "ended_at"]
    if fields:
        call.save(update_fields=[*set(fields), "updated_at"])


def call_log(
    *,
    customer_id: int | None,
    phone: str,
    operator: Any,
    direction: str,
    outcome: str,
    note: str,
    started_at: datetime | None = None,
) -> Call:
    """A call logged by hand (the operator dialled out, or the telephony is not connected)."""
    return Call.objects.create(
        customer_id=customer_id,
        phone=phone_for_call(phone) if phone else "",
        operator=operator,
        direction=direction,
        state=CallState.ENDED,
        provider="manual",
        started_at=started_at or timezone.now(),
        ended_at=timezone.now(),
        outcome=outcome,
        note=note,
    )


def call_set_outcome(*, call: Call, outcome: str, note: str) -> Call:
    """What came of the call; a missed call given an outcome counts as called back."""
    if outcome not in CallOutcome.values:
        raise ValueError(f"Unknown call outcome {outcome!r}")
    call.outcome, call.note = outcome, note
    fields = ["outcome", "note", "updated_at"]
    if call.state == CallState.MISSED and call.called_back_at is None and outcome:
        call.called_back_at = timezone.now()
        fields.append("called_back_at")
    call.save(update_fields=fields)
    return call


def call_mark_called_back(*, call: Call) -> None:
    """Take a missed call, and every other missed call of the same caller still waiting, off the call-back list:
    one call back answers them all. Conditional, so two operators clicking record one time; no lock."""
    waiting = Call.objects.filter(state=CallState.MISSED, called_back_at__isnull=True)
    same_caller = Q(customer_id=call.customer_id) if call.customer_id else Q(customer__isnull=True, phone=call.phone)
    waiting.filter(Q(pk=call.pk) | same_caller).update(called_back_at=timezone.now())


def call_attach_customer(*, call: Call, customer_id: int) -> None:
    """After the operator created the unknown caller, the call belongs to the new customer."""
    Call.objects.filter(pk=call.pk, customer__isnull=True).update(customer_id=customer_id)


# --- Reads ---------------------------------------------------------------------------------------------------------


def live_call_for_operator(user: Any) -> Call | None:
    """The call ringing or in progress for this operator (by account or extension), newest first."""
    since = timezone.now() - LIVE_CALL_TIMEOUT
    addressed = Q(operator=user)
    if getattr(user, "extension", ""):
        addressed |= Q(operator__isnull=True, extension=user.extension)
    return (
        Call.objects.filter(addressed, state__in=[CallState.RINGING, CallState.ANSWERED], started_at__gte=since)
        .order_by("-started_at")
        .first()
    )


def calls_for_customer(customer_id: int, limit: int = 50) -> list[Call]:
    return list(Call.objects.filter(customer_id=customer_id).select_related("operator").order_by("-started_at")[:limit])


def calls_of_operator_since(operator_id: int, since: datetime, limit: int = 50) -> list[Call]:
    """An operator's calls from ``since`` on, newest first (the operator's dashboard: today's calls), read on the
    ``(operator, state)`` index."""
    rows = Call.objects.filter(operator_id=operator_id, started_at__gte=since).select_related("customer")
    return list(rows.order_by("-started_at")[:limit])


def missed_calls_waiting() -> QuerySet[Call]:
    """Missed inbound calls nobody has called back yet (the crm page orders them by importance)."""
    return Call.objects.filter(state=CallState.MISSED, called_back_at__isnull=True).select_related("customer")


def missed_callers() -> QuerySet[Any]:
    """One row per caller waiting for a call back — a known customer whichever number they rang from, an unknown
    caller by number — with ``missed`` (how many calls), ``last_at``, ``latest_call`` (the newest call's id) and
    ``number``. Read on the ``call_missed`` index; the crm page orders the rows by the customers' value."""
    caller = Case(When(customer__isnull=True, then=F("phone")), default=Value(""))
    return (
        missed_calls_waiting()
        .select_related(None)
        .order_by()
        .values("customer_id", caller=caller)
        .annotate(missed=Count("id"), last_at=Max("started_at"), latest_call=Max("id"), number=Max("phone"))
    )


def missed_callers_attach_customers(rows: list[dict[str, Any]]) -> None:
    """Give each row of ``missed_callers`` its ``customer`` (``None`` for an unknown number), in one query."""
    customers = Customer.objects.in_bulk([row["customer_id"] for row in rows if row["customer_id"]])
    for row in rows:
        row["customer"] = customers.get(row["customer_id"])


def call_for_user(user: Any, pk: int) -> Call:
    """The one accessor for a call addressed by id: anyone who may look up callers may work calls."""
    if not user_can(user, Capability.LOOKUP):
        raise PermissionDenied
    return get_object_or_404(Call.objects.select_related("customer", "operator"), pk=pk)
