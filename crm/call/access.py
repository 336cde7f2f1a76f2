"""Which customers an operator may open: the ones a call, a missed call or a search in the console brought up.

The console and the lookup API link to a card with a signed ``via``: the customer, the operator (or any operator,
for the link the telephony opens) and the reason, stamped with the time. The card checks it, so an id typed into
the address bar, or a link kept from last week, opens nothing; no table of grants is written for it. Managers and
owners browse every customer and need no link, but their openings are recorded all the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from shop.audit import audit_record, card_opening_allowed
from shop.models import AuditKind, AuditReason, ShopSettings
from shop.permissions import user_can
from shop.roles import Capability

if TYPE_CHECKING:
    from customers.models import Call

SALT = "crm.card-access"
# A shift: the console left open all day still opens the cards it showed this morning.
LINK_MAX_AGE = timedelta(hours=8)
# A call older than this no longer vouches for its caller: the operator's own call of the shift, not the call log
# of a year (walking call ids would read every caller the shop ever had).
CALL_VOUCHES_FOR = timedelta(hours=12)
LINK_REASONS = frozenset({AuditReason.CALL, AuditReason.MISSED_CALL, AuditReason.SEARCH})


def card_url(customer_id: int, reason: str, user: Any = None) -> str:
    """The card's address as the console offers it: signed for ``user`` (``None``: any operator)."""
    owner = str(user.pk) if user is not None else ""
    via = signing.TimestampSigner(salt=SALT).sign(f"{customer_id}:{owner}:{reason}")
    return reverse("customer_card", args=[customer_id]) + "?" + urlencode({"via": via})


def card_link_reason(via: str, customer_id: int, user: Any) -> str | None:
    """The reason a valid ``via`` gives for opening ``customer_id``, or ``None`` for a missing, forged, expired or
    someone else's link."""
    if not via:
        return None
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(via, max_age=LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    parts = value.split(":")
    if len(parts) != 3 or parts[0] != str(customer_id) or parts[2] not in LINK_REASONS:
        return None
    if parts[1] and parts[1] != str(getattr(user, "pk", "")):
        return None
    return parts[2]


def call_reason(call: Call, user: Any) -> str:
    """Why a call shows its caller: the operator's own recent call, a missed call still waiting for a call-back,
    or else (an old call, someone else's) the same as a search, which counts against the hourly limit."""
    if call.state == "missed" and call.called_back_at is None:
        return AuditReason.MISSED_CALL
    recent = call.started_at >= timezone.now() - CALL_VOUCHES_FOR
    own = call.operator_id == getattr(user, "pk", None) or (
        call.operator_id is None and bool(call.extension) and call.extension == getattr(user, "extension", "")
    )
    return AuditReason.CALL if recent and own else AuditReason.SEARCH


@dataclass(frozen=True)
class CardOpening:
    """The verdict on one opening: the reason to record, or the refusal page to answer with."""

    reason: str = ""
    refusal: HttpResponse | None = None


def _refuse(request: HttpRequest, customer_id: int, *, over_limit: bool) -> HttpResponse:
    if not over_limit:
        audit_record(
            kind=AuditKind.CARD_REFUSED,
            user=request.user,
            customer_id=customer_id,
            reason=AuditReason.NO_LINK,
            request=request,
        )
    context = {"over_limit": over_limit, "limit": ShopSettings.load().operator_cards_per_hour}
    response = render(request, "crm/card_refused.html", context, status=429 if over_limit else 403)
    if over_limit:
        response["Retry-After"] = "3600"
    return response


def card_opening_check(request: HttpRequest, customer_id: int) -> CardOpening:
    """May the signed-in user open ``customer_id``'s card now, and why. Managers and owners always may (the link's
    reason is kept if they came by one). An operator needs a link from a call, a missed call or a search, and to be
    under the hourly limit; a refusal is recorded and answered 403 (no link) or 429 (over the limit). Raises
    ``PermissionDenied`` for staff who may not look up callers at all."""
    reason = card_link_reason(request.GET.get("via", ""), customer_id, request.user)
    if user_can(request.user, Capability.BROWSE):
        return CardOpening(reason=reason or AuditReason.BROWSE)
    if not user_can(request.user, Capability.LOOKUP):
        raise PermissionDenied
    if reason is None:
        return CardOpening(refusal=_refuse(request, customer_id, over_limit=False))
    if not card_opening_allowed(user=request.user, request=request, customer_id=customer_id):  # type: ignore[arg-type]
        return CardOpening(refusal=_refuse(request, customer_id, over_limit=True))
    return CardOpening(reason=reason)


def card_opening_record(request: HttpRequest, customer_id: int, reason: str) -> None:
    audit_record(kind=AuditKind.CARD_VIEW, user=request.user, customer_id=customer_id, reason=reason, request=request)
