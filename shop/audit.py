"""The audit log: who signed in, who looked at which customer and why, what was exported, erased and changed.

Every app may write it (shop is the lowest layer) through :func:`audit_record`, which is one INSERT and nothing
else: it sits on the caller lookup's path, where hundreds of lookups a second must stay fast. The owner reads it on
the audit page (``shop.views_audit``); the nightly :func:`audit_prune` keeps only the days the owner set.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from shop.client_ip import client_ip
from shop.models import AuditEntry, AuditKind, AuditReason, IntegrationToken, ShopSettings, User

logger = logging.getLogger(__name__)

# What counts against an operator's hourly limit: every card opened, and every console search that showed a card.
# A screen-pop of the ringing call does not count: the phone rang, the operator chose nothing.
COUNTED_OPENINGS = (AuditKind.CARD_VIEW, AuditKind.LOOKUP)
PRUNE_BATCH = 10_000


def _actor_name(user: Any, token: IntegrationToken | None) -> str:
    if token is not None:
        return f"{token.name} ({token.key_prefix}…)"[:150]
    if user is not None and getattr(user, "is_authenticated", False):
        return str(user.get_username())[:150]
    return ""


def audit_record(
    *,
    kind: str,
    user: Any = None,
    token: IntegrationToken | None = None,
    customer_id: int | None = None,
    reason: str = "",
    detail: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
    actor: str = "",
    at: datetime | None = None,
) -> AuditEntry:
    """Write one entry: a single INSERT, no read. ``user`` may be anonymous (then only ``actor`` names who tried).

    Inside a caller's transaction the entry commits or rolls back with the change it records, so the log never
    claims a change that did not happen. Outside one (a lookup, a card view, a sign-in: reads that change nothing
    else) it commits without waiting for the disk: on this 2-core machine the flush cost 7–9 ms a lookup against
    2–3 ms without it, and what a database crash could lose is the last fraction of a second of read records, never
    a change (PostgreSQL's asynchronous commit keeps the log consistent, only not yet durable). Such an entry is
    returned without its ``pk``."""
    entry = _entry(kind, user, token, customer_id, reason, detail, request, actor, at)
    if connection.in_atomic_block or connection.vendor != "postgresql":
        entry.save(force_insert=True)
    else:
        _insert_without_waiting(entry)
    return entry


def _insert_without_waiting(entry: AuditEntry) -> None:
    """The INSERT in its own transaction with ``synchronous_commit`` off, sent as one string: one round trip
    instead of four (BEGIN, SET, INSERT, COMMIT), which under load is most of what the entry costs. The entry's
    ``pk`` stays unset: no caller of a read record needs it."""
    columns = ("at", "kind", "reason", "user_id", "token_id", "actor", "customer_id", "ip", "detail")
    values = [getattr(entry, column) for column in columns[:-1]]
    values.append(json.dumps(entry.detail, cls=DjangoJSONEncoder))
    sql = (
        f"BEGIN; SET LOCAL synchronous_commit TO OFF; "  # noqa: S608 (the names are ours, the values parameters)
        f"INSERT INTO {AuditEntry._meta.db_table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}); "
        f"COMMIT"
    )
    with connection.cursor() as cursor:
        try:
            cursor.execute(sql, values)
        except DatabaseError:
            # The failed statement left the session inside the aborted transaction: end it, so the next query of
            # this connection does not fail for a reason of ours.
            with contextlib.suppress(DatabaseError):
                cursor.execute("ROLLBACK")
            raise


def _entry(
    kind: str,
    user: Any,
    token: IntegrationToken | None,
    customer_id: int | None,
    reason: str,
    detail: Mapping[str, Any] | None,
    request: HttpRequest | None,
    actor: str,
    at: datetime | None,
) -> AuditEntry:
    staff = user if user is not None and getattr(user, "is_authenticated", False) else None
    return AuditEntry(
        at=at or timezone.now(),
        kind=kind,
        reason=reason,
        user=staff,
        token=token,
        actor=actor[:150] or _actor_name(staff, token),
        customer_id=customer_id,
        ip=(client_ip(request) or None) if request is not None else None,
        detail=dict(detail or {}),
    )


def audit_changes(request: HttpRequest, kind: str, form: Any, *, target: str) -> AuditEntry:
    """Record what a saved form changed: each changed field with its value before and after (settings pages)."""
    changes = {name: [form.initial.get(name), form.cleaned_data.get(name)] for name in form.changed_data}
    detail: dict[str, Any] = {"target": target, "changes": changes}
    model = getattr(getattr(form, "_meta", None), "model", None)
    if model is not None:
        detail["model"] = model._meta.label_lower
    return audit_record(kind=kind, user=request.user, request=request, detail=detail)


def openings_in_last_hour(user: User, *, now: datetime | None = None) -> int:
    """How many cards ``user`` opened (and console searches that showed one) in the hour before ``now``: a range
    of the ``audit_user_at`` index, at most the limit's worth of rows."""
    since = (now or timezone.now()) - timedelta(hours=1)
    return (
        AuditEntry.objects.filter(user=user, at__gt=since, kind__in=COUNTED_OPENINGS)
        .exclude(kind=AuditKind.LOOKUP, reason=AuditReason.CALL)
        .count()
    )


def card_opening_allowed(*, user: User, request: HttpRequest | None, customer_id: int | None) -> bool:
    """Whether ``user`` may open one more card now under the owner's hourly limit. A refusal is recorded, and the
    first refusal within an hour raises the owner's alert (a ``card_limit`` entry, shown on the dashboard and the
    audit page)."""
    limit = ShopSettings.load().operator_cards_per_hour
    now = timezone.now()
    if openings_in_last_hour(user, now=now) < limit:
        return True
    with transaction.atomic():
        audit_record(
            kind=AuditKind.CARD_REFUSED,
            user=user,
            customer_id=customer_id,
            reason=AuditReason.LIMIT,
            request=request,
            at=now,
        )
        already_alerted = AuditEntry.objects.filter(
            user=user, kind=AuditKind.CARD_LIMIT, at__gt=now - timedelta(hours=1)
        ).exists()
        if not already_alerted:
            audit_record(kind=AuditKind.CARD_LIMIT, user=user, detail={"limit": limit}, request=request, at=now)
    return False


def limit_alerts(*, days: int = 7, now: datetime | None = None) -> list[AuditEntry]:
    """The owner's alerts: staff who reached the card limit in the last ``days`` days, newest first."""
    since = (now or timezone.now()) - timedelta(days=days)
    return list(AuditEntry.objects.filter(kind=AuditKind.CARD_LIMIT, at__gt=since).order_by("-at", "-id")[:20])


def audit_prune(*, now: datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete the entries older than the owner's retention; returns how many went. Batches of ``batch`` rows, each
    its own short statement on the ``audit_at`` index, so a first pruning of millions of rows never holds one huge
    transaction. Safe to run twice or side by side: a row deleted by the other run is simply not found again."""
    cutoff = (now or timezone.now()) - timedelta(days=ShopSettings.load().audit_retention_days)
    table = AuditEntry._meta.db_table
    deleted = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE at < %s ORDER BY at LIMIT %s)",  # noqa: S608
                [cutoff, batch],
            )
            count = cursor.rowcount
        deleted += count
        if count < batch:
            return deleted


def _on_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    audit_record(kind=AuditKind.LOGIN, user=user, request=request)


def _on_login_failed(
    sender: Any, credentials: Mapping[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django hands over the credentials with the password already masked; only the name tried is kept.
    username = str(credentials.get("username", "") or "")
    known = User.objects.filter(username=username).first() if username else None
    audit_record(kind=AuditKind.LOGIN_FAILED, user=known, actor=username, request=request)


def audit_signals_connect() -> None:
    """Record sign-ins and failed sign-ins, whichever view or backend authenticated (called from ShopConfig)."""
    user_logged_in.connect(_on_login, dispatch_uid="shop.audit.login")
    user_login_failed.connect(_on_login_failed, dispatch_uid="shop.audit.login_failed")
