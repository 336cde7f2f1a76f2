from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from django_otp.plugins.otp_totp.models import TOTPDevice

from shop.models import AuditEntry, IntegrationToken, User
from shop.paging import KeysetPage, after, keyset_page, ordering


def staff_list() -> QuerySet[User]:
    """Staff for the owner's users page, each with ``has_second_factor`` (a confirmed authenticator app)."""
    enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return (
        User.objects.order_by("-is_active", "username")
        .annotate(has_second_factor=Exists(enrolled))
        .prefetch_related(Prefetch("groups", queryset=Group.objects.only("name")))
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


def audit_entries_after(queryset: QuerySet[AuditEntry], position: tuple[datetime, int] | None) -> QuerySet[AuditEntry]:
    """Newest first from ``position`` on, on the same ``(at, id)`` index range as the page (the CSV's batches)."""
    if position is not None:
        queryset = queryset.filter(after("at", position[0], position[1], descending=True))
    return queryset.order_by(*ordering("at", descending=True))


def _moment(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        raise ValueError(value)
    return moment


def audit_page(filters: AuditFilters, cursor: str | None = None, limit: int = 100) -> KeysetPage[AuditEntry]:
    """One page of the audit log, newest first, keyset on ``(at, id)`` (shop.paging): every filter's index starts at
    the cursor, so the thousandth page costs what the first does; one query whatever the page."""
    return keyset_page(
        audit_queryset(filters),
        column="at",
        descending=True,
        cursor=cursor,
        salt=AUDIT_CURSOR_SALT,
        decode=_moment,
        limit=limit,
    )
