"""Incoming-call webhooks: verifying and translating each telephony format into :class:`CallEventData`.

Two formats: our generic JSON (HMAC-SHA256 over ``"{timestamp}.{raw body}"``), and a Russian cloud PBX's
``NOTIFY_*`` form posts (Zadarma's, HMAC-SHA1 in base64 over fields the PBX names). docs/telephony.md shows both.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from customers.calls import CallEvent, CallEventData
from customers.models import CallDirection
from shop.input_hygiene import JsonInputError, json_loads_checked
from shop.models import ShopSettings
from shop.signing import SignatureError, hmac_base64, verify_signature, verify_timestamped_signature

# A PBX event about a call that started longer ago than this is not a live call: refuse it as stale.
PBX_EVENT_MAX_AGE = timedelta(hours=12)


class TelephonyNotConfigured(Exception):
    """No secret is set for this format, so no delivery can be trusted."""


class EventFormatError(ValueError):
    """A verified delivery whose content we cannot read; the message says what is missing."""


def _secret(name: str) -> str:
    secret = getattr(settings, name, "")
    if not secret:
        raise TelephonyNotConfigured(f"{name} is not set: the telephony webhook is switched off.")
    return str(secret)


def parse_generic(*, body: bytes, headers: Mapping[str, str]) -> CallEventData:
    """Our JSON format, signed with ``X-Retain-Timestamp`` and ``X-Retain-Signature: sha256=<hex>``."""
    verify_timestamped_signature(
        secret=_secret("TELEPHONY_WEBHOOK_SECRET"),
        body=body,
        timestamp=headers.get("X-Retain-Timestamp", ""),
        signature=headers.get("X-Retain-Signature", ""),
    )
    try:
        payload = json_loads_checked(body)
    except JsonInputError as error:
        raise EventFormatError(f"The body is not acceptable JSON. {error}") from error
    if not isinstance(payload, dict):
        raise EventFormatError("The body must be a JSON object.")
    missing = [key for key in ("event", "call_id", "caller") if not payload.get(key)]
    if missing:
        raise EventFormatError(f"Missing fields: {', '.join(missing)}.")
    if payload["event"] not in CallEvent.ALL:
        raise EventFormatError(f"“event” must be one of {', '.join(CallEvent.ALL)}.")
    direction = payload.get("direction", "in")
    if direction not in CallDirection.values:
        raise EventFormatError("“direction” must be “in” or “out”.")
    at = timezone.now()
    if payload.get("at"):
        parsed = parse_datetime(str(payload["at"]))
        if parsed is None or parsed.tzinfo is None:
            raise EventFormatError("“at” must be an ISO 8601 time with a time zone.")
        at = parsed
    return CallEventData(
        provider="generic",
        provider_call_id=str(payload["call_id"])[:120],
        event=payload["event"],
        phone=str(payload["caller"]),
        at=at,
        extension=str(payload.get("extension", ""))[:32],
        operator_username=str(payload.get("operator", ""))[:150],
        direction=direction,
    )


# Which fields Zadarma concatenates for each event's signature, and what the event means to us.
ZADARMA_EVENTS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "NOTIFY_START": (("caller_id", "called_did", "call_start"), CallEvent.RINGING, CallDirection.INBOUND),
    "NOTIFY_INTERNAL": (("caller_id", "called_did", "call_start"), CallEvent.RINGING, CallDirection.INBOUND),
    "NOTIFY_ANSWER": (("caller_id", "destination", "call_start"), CallEvent.ANSWERED, CallDirection.INBOUND),
    "NOTIFY_END": (("caller_id", "called_did", "call_start"), CallEvent.HANGUP, CallDirection.INBOUND),
    "NOTIFY_OUT_START": (("internal", "destination", "call_start"), CallEvent.ANSWERED, CallDirection.OUTBOUND),
    "NOTIFY_OUT_END": (("internal", "destination", "call_start"), CallEvent.HANGUP, CallDirection.OUTBOUND),
}


def parse_zadarma(*, form: Mapping[str, str], headers: Mapping[str, str]) -> CallEventData:
    """A Zadarma ``NOTIFY_*`` form post with ``Signature: base64(HMAC-SHA1(secret, fields))``."""
    event = form.get("event", "")
    if event not in ZADARMA_EVENTS:
        raise SignatureError(f"Unknown event “{event}”.")
    fields, kind, direction = ZADARMA_EVENTS[event]
    signed = "".join(form.get(name, "") for name in fields).encode()
    verify_signature(
        expected=hmac_base64(_secret("ZADARMA_API_SECRET"), signed, "sha1"), given=headers.get("Signature", "")
    )
    call_id = form.get("pbx_call_id", "")
    if not call_id:
        raise EventFormatError("pbx_call_id is missing.")
    started = _pbx_time(form.get("call_start", ""))
    if abs(timezone.now() - started) > PBX_EVENT_MAX_AGE:
        raise SignatureError("The event is stale: its call started more than 12 hours from now.")
    outbound = direction == CallDirection.OUTBOUND
    phone = form.get("destination", "") if outbound else form.get("caller_id", "")
    extension = form.get("internal", "")
    if event == "NOTIFY_ANSWER" and not extension:
        extension = form.get("destination", "")
    return CallEventData(
        provider="zadarma",
        provider_call_id=call_id[:120],
        event=kind,
        phone=phone,
        # The PBX's call start is when the phone rang; later events happen now.
        at=started if kind == CallEvent.RINGING else timezone.now(),
        extension=extension[:32],
        direction=direction,
    )


def _pbx_time(text: str) -> datetime:
    """Zadarma writes ``YYYY-MM-DD HH:MM:SS`` in the account's time zone, which we take to be the shop's."""
    try:
        naive = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError as error:
        raise EventFormatError("call_start must be “YYYY-MM-DD HH:MM:SS”.") from error
    return naive.replace(tzinfo=ZoneInfo(ShopSettings.load().time_zone))
