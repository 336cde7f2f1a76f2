"""The demo's writes: a ring or a hang-up through the telephony webhook's own path, a survey sent ahead of its hour."""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings

from customers.calls import CallEvent, call_event_apply
from customers.selectors import random_phone_number
from customers.telephony import TelephonyNotConfigured, parse_generic
from feedback.selectors import invitation_waiting_longest
from feedback.services import invitation_send
from shop.signing import hmac_hex

if TYPE_CHECKING:
    from customers.models import Call
    from feedback.models import Invitation

# Calls the demo made carry this prefix in their telephony call id, so a real PBX's calls are never touched.
DEMO_CALL_PREFIX = "demo-"


def demo_call_deliver(*, payload: dict[str, Any]) -> Call:
    """Deliver one generic-format telephony event as the PBX would: the JSON body signed with
    ``TELEPHONY_WEBHOOK_SECRET``, verified and read by :func:`customers.telephony.parse_generic`, applied by
    :func:`customers.calls.call_event_apply` (which locks the call row and is idempotent per call id).
    Raises :class:`TelephonyNotConfigured` when the secret is not set, as the webhook answers 503 then."""
    secret = str(getattr(settings, "TELEPHONY_WEBHOOK_SECRET", ""))
    if not secret:
        raise TelephonyNotConfigured("TELEPHONY_WEBHOOK_SECRET is not set: the telephony webhook is switched off.")
    body = json.dumps(payload).encode()
    timestamp = str(int(time.time()))
    headers = {
        "X-Retain-Timestamp": timestamp,
        "X-Retain-Signature": "sha256=" + hmac_hex(secret, timestamp.encode() + b"." + body),
    }
    return call_event_apply(data=parse_generic(body=body, headers=headers))


def demo_call_ring(*, phone: str, operator: Any) -> Call:
    """A new inbound call from ``phone`` ringing on ``operator``'s console (a fresh call id every time)."""
    return demo_call_deliver(
        payload={
            "event": CallEvent.RINGING,
            "call_id": f"{DEMO_CALL_PREFIX}{uuid.uuid4().hex[:16]}",
            "caller": phone,
            "operator": operator.username,
        }
    )


def demo_call_advance(*, call: Call, event: str) -> Call:
    """Answer or hang up a call the demo rang; a hang-up before an answer leaves a missed call to return."""
    if event not in (CallEvent.ANSWERED, CallEvent.HANGUP):
        raise ValueError(f"Unknown call event {event!r}")
    if not is_demo_call(call):
        raise ValueError("Only calls the demo rang can be answered or hung up from the demo")
    operator = call.operator.username if call.operator is not None else ""
    return demo_call_deliver(
        payload={"event": event, "call_id": call.provider_call_id, "caller": call.phone, "operator": operator}
    )


def is_demo_call(call: Call) -> bool:
    return call.provider == "generic" and call.provider_call_id.startswith(DEMO_CALL_PREFIX)


def demo_caller_number() -> str | None:
    """A demo customer's phone number at random; None when no customer has one."""
    return random_phone_number()


def demo_survey_send_next() -> Invitation | None:
    """Send the survey invitation that waits longest for its hour now, through the real sender and the demo's
    file backends (at most once: :func:`feedback.services.invitation_send` claims its message in the outbox
    first). None when no invitation waits."""
    waiting = invitation_waiting_longest()
    if waiting is None:
        return None
    invitation_send(invitation_id=waiting.pk)
    waiting.refresh_from_db()
    return waiting
