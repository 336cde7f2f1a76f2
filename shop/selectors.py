from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import Group
from django.core import signing
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime

from shop.models import AuditEntry, IntegrationToken, User


def staff_list() -> QuerySet[User]:
    return User.objects.order_by("-is_active", "username").prefetch_related(
        Prefetch("groups", queryset=Group.objects.only("name"))
    )


def staff_member_for_owner(pk: int) -> User:
    """The one accessor for a staff account addressed by id; only owners reach the views that call it."""
    return get_object_or_404(User.objects.prefetch_related("groups"), pk=pk)


def token_list() -> QuerySet[IntegrationToken]:
    return IntegrationToken.objects.select_related("created_by")


def token_for_owner(pk: int) -> IntegrationToken:
    return get_object_or_404(IntegrationToken, pk=pk)


AUDIT_CURSOR_SALT = "shop.audit.cursor"


@dataclass(frozen=True)
class AuditFilters:
    user_id: int | None = None
    token_id: int | None = None
    kind: str = ""
    customer_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class AuditPage:
    rows: list[AuditEntry]
    next_cursor: str | None


def audit_queryset(filters: AuditFilters) -> QuerySet[AuditEntry]:
    queryset = AuditEntry.objects.all()
    if filters.user_id is not None:
        queryset = queryset.filter(user_id=filters.user_id)
    if filters.token_id is not None:
        queryset = queryset.filter(token_id=filters.token_id)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.customer_id is not None:
        queryset = queryset.filter(customer_id=filters.customer_id)
    if filters.since is not None:
        queryset = queryset.filter(at__gte=filters.since)
    if filters.until is not None:
        queryset = queryset.filter(at__lt=filters.until)
    return queryset


def _audit_position(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        payload = signing.loads(cursor, salt=AUDIT_CURSOR_SALT)
        moment = parse_datetime(str(payload["t"]))
        pk = int(payload["i"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return (moment, pk) if moment is not None else None


def audit_entries_after(queryset: QuerySet[AuditEntry], position: tuple[datetime, int] | None) -> QuerySet[AuditEntry]:
    """Newest first from ``position`` on: ``at <= t AND (at < t OR id < pk)`` starts every filter's index at the
    cursor, so the thousandth page costs what the first does."""
    if position is not None:
        moment, pk = position
        queryset = queryset.filter(Q(at__lte=moment) & (Q(at__lt=moment) | Q(id__lt=pk)))
    return queryset.order_by("-at", "-id")


def audit_page(filters: AuditFilters, cursor: str | None = None, limit: int = 100) -> AuditPage:
    """One page of the audit log, newest first, keyset on ``(at, id)``; one query whatever the page."""
    rows = list(audit_entries_after(audit_queryset(filters), _audit_position(cursor))[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = signing.dumps({"t": last.at.isoformat(), "i": last.pk}, salt=AUDIT_CURSOR_SALT)
    return AuditPage(rows=rows, next_cursor=next_cursor)
