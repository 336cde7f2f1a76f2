"""The audit log: what is recorded (sign-ins, exports, erasures, changes), the owner's page with its filters, pages
and CSV, and the nightly pruning."""

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django_celery_beat.models import PeriodicTask

from loyalty.services import credit_accrue, credit_adjust, rule_update
from shop import views_audit
from shop.audit import audit_prune, audit_record
from shop.audit_text import audit_detail_text
from shop.models import AuditEntry, AuditKind, AuditReason, ShopSettings, User
from shop.roles import Role
from tests.factories import TEST_PASSWORD, CustomerFactory, LoyaltyRuleFactory
from tests.shop.test_shop_settings import settings_form

pytestmark = pytest.mark.django_db
AUDIT = reverse("shop:audit")
EXPORT = reverse("shop:audit_export")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def kinds() -> list[str]:
    """What was recorded after the test's sign-ins (``force_login`` is a sign-in too, and recorded as one)."""
    return list(AuditEntry.objects.exclude(kind=AuditKind.LOGIN).order_by("id").values_list("kind", flat=True))


def test_a_sign_in_and_a_failed_one_are_recorded_with_the_name_tried(owner: User) -> None:
    Client().post(reverse("login"), {"username": "owner", "password": "wrong"})
    Client().post(reverse("login"), {"username": "nobody", "password": "wrong"})
    Client().post(reverse("login"), {"username": "owner", "password": TEST_PASSWORD})

    rows = list(AuditEntry.objects.order_by("id").values_list("kind", "actor", "user_id", "ip"))
    assert rows == [
        (AuditKind.LOGIN_FAILED, "owner", owner.pk, "127.0.0.1"),
        (AuditKind.LOGIN_FAILED, "nobody", None, "127.0.0.1"),
        (AuditKind.LOGIN, "owner", owner.pk, "127.0.0.1"),
    ]


@pytest.mark.parametrize(("role", "status"), [("Owner", 200), ("Manager", 403), ("Operator", 403)])
def test_the_audit_page_and_its_export_are_the_owners_only(client_for, role: str, status: int) -> None:
    client = client_for(role)
    assert client.get(AUDIT).status_code == status
    assert client.get(EXPORT).status_code == status


def test_the_page_filters_by_user_kind_and_days(owner: User, operator: User) -> None:
    now = timezone.now()
    audit_record(kind=AuditKind.CARD_VIEW, user=operator, customer_id=7, reason=AuditReason.CALL, at=now)
    audit_record(kind=AuditKind.EXPORT, user=owner, at=now)
    audit_record(kind=AuditKind.CARD_VIEW, user=operator, customer_id=8, at=now - timedelta(days=10))
    client = signed_in(owner)

    def shown(**query: Any) -> list[tuple[str, int | None]]:
        rows = client.get(AUDIT, query).context["rows"]
        return [(row["entry"].kind, row["entry"].customer_id) for row in rows]

    assert shown(user=operator.pk) == [("card_view", 7), ("card_view", 8)]
    assert shown(kind="export") == [("export", None)]
    day = timezone.localdate(now - timedelta(days=10)).isoformat()
    assert shown(since=day, until=day) == [("card_view", 8)]
    assert shown(customer=7) == [("card_view", 7)]


def test_pages_follow_each_other_by_keyset_without_repeats_or_gaps(owner: User, monkeypatch) -> None:
    monkeypatch.setattr(views_audit, "PAGE_SIZE", 2)
    moment = timezone.now()
    # Entries sharing one moment: the id breaks the tie, so none is skipped or shown twice between pages.
    ids = [audit_record(kind=AuditKind.EXPORT, user=owner, at=moment).pk for _ in range(5)]
    client = signed_in(owner)
    seen: list[int] = []
    pages: list[list[int]] = []
    url = AUDIT + "?kind=export"
    for _page in range(3):
        response = client.get(url)
        pages.append([row["entry"].pk for row in response.context["rows"]])
        seen += pages[-1]
        url = AUDIT + (response.context["next_url"] or "")
    assert seen == sorted(ids, reverse=True)
    assert response.context["next_url"] is None
    back = client.get(AUDIT + response.context["previous_url"])
    assert [row["entry"].pk for row in back.context["rows"]] == pages[1]


def test_the_page_reads_the_same_queries_on_any_page(owner: User, django_assert_num_queries) -> None:
    for _ in range(30):
        audit_record(kind=AuditKind.EXPORT, user=owner)
    client = signed_in(owner)
    client.get(AUDIT)
    # session, user, the device that verified the owner's sign-in, groups, the filter's user and token lists, the
    # page, the alerts
    with django_assert_num_queries(8):
        client.get(AUDIT)


def test_the_csv_is_spreadsheet_safe_and_its_download_is_recorded(owner: User) -> None:
    audit_record(kind=AuditKind.LOGIN_FAILED, actor='=HYPERLINK("http://evil","x")')

    response = signed_in(owner).get(EXPORT, {"kind": "login_failed"})

    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["Когда", "Кто", "Что"] or rows[0][:3] == ["When", "Who", "What"]
    assert rows[1][1] == '\'=HYPERLINK("http://evil","x")'
    assert len(rows) == 2
    export = AuditEntry.objects.get(kind=AuditKind.EXPORT)
    assert (export.user, export.detail) == (owner, {"what": "audit log", "kind": "login_failed"})


def test_pruning_deletes_what_is_older_than_the_retention_and_keeps_the_rest(db: None) -> None:
    settings = ShopSettings.load()
    settings.audit_retention_days = 30
    settings.save()
    now = timezone.now()
    old = [audit_record(kind=AuditKind.EXPORT, at=now - timedelta(days=31, minutes=n)).pk for n in range(5)]
    kept = audit_record(kind=AuditKind.EXPORT, at=now - timedelta(days=29)).pk

    assert audit_prune(now=now, batch=2) == len(old)
    assert audit_prune(now=now, batch=2) == 0
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [kept]


def test_the_pruning_runs_every_night_from_the_beat_schedule(db: None) -> None:
    task = PeriodicTask.objects.get(task="shop.audit_prune")
    assert task.enabled and task.crontab is not None
    assert (task.crontab.minute, task.crontab.hour) == ("20", "3")


def test_a_settings_change_is_recorded_with_before_and_after(owner: User) -> None:
    ShopSettings.load()
    signed_in(owner).post(reverse("shop:settings"), settings_form(operator_cards_per_hour="20"))
    entry = AuditEntry.objects.get(kind=AuditKind.SETTINGS)
    assert entry.user == owner
    assert entry.detail["changes"]["operator_cards_per_hour"] == [60, 20]
    assert entry.detail["changes"]["name"] == ["My shop", "Чайная лавка"]


def test_users_and_tokens_changes_are_recorded(owner: User, operator: User) -> None:
    client = signed_in(owner)
    client.post(reverse("shop:tokens"), {"name": "АТС", "scopes": ["lookup"], "lookup_rate_per_second": "25"})
    token_id = client.get(reverse("shop:tokens")).context["tokens"][0].pk
    client.post(reverse("shop:token_rate", args=[token_id]), {"lookup_rate_per_second": "40"})
    client.post(reverse("shop:token_revoke", args=[token_id]))
    client.post(
        reverse("shop:user_edit", args=[operator.pk]),
        {"first_name": "", "last_name": "", "email": "", "extension": "101", "language": "", "role": Role.MANAGER},
    )

    details = [entry.detail for entry in AuditEntry.objects.exclude(kind=AuditKind.LOGIN).order_by("id")]
    assert [d.get("action") for d in details] == ["issued", "rate", "revoked", "changed"]
    assert details[0]["lookup_rate_per_second"] == 25
    assert details[1]["changes"] == {"lookup_rate_per_second": [25, 40]}
    assert details[3]["changes"]["role"] == Role.MANAGER
    assert details[3]["changes"]["is_active"] is False  # the unticked box deactivates: recorded as such


def test_exports_and_erasures_are_recorded_with_the_customer(owner: User) -> None:
    customer = CustomerFactory.create(name="Анна Петрова")
    client = signed_in(owner)
    b"".join(client.get(reverse("customers:export")).streaming_content)  # type: ignore[attr-defined]
    client.get(reverse("customer_personal_data", args=[customer.pk]))
    client.post(reverse("customer_erase", args=[customer.pk]), {"confirmation": str(customer.pk)})

    rows = list(AuditEntry.objects.exclude(kind=AuditKind.LOGIN).order_by("id").values_list("kind", "customer_id"))
    assert rows == [(AuditKind.EXPORT, None), (AuditKind.EXPORT, customer.pk), (AuditKind.ERASURE, customer.pk)]
    assert "Анна" not in str(list(AuditEntry.objects.values_list("detail", "actor")))


def test_loyalty_rule_changes_and_credit_adjustments_are_recorded(owner: User) -> None:
    rule = LoyaltyRuleFactory.create(name="Возврат", created_by=owner)
    rule_update(user=owner, rule=rule, is_active=False)
    customer = CustomerFactory.create()
    with transaction.atomic():
        credit_accrue(customer_id=customer.pk, amount=Decimal("100.00"), purpose="owner")
    credit_adjust(customer_id=customer.pk, amount=Decimal("-40.00"), reason="Ошибка", user=owner)

    rule_entry = AuditEntry.objects.get(kind=AuditKind.RULE)
    assert rule_entry.detail["changes"] == {"is_active": [True, False]}
    money = AuditEntry.objects.get(kind=AuditKind.MONEY)
    assert (money.user, money.customer_id, money.detail["amount"], money.detail["balance"]) == (
        owner,
        customer.pk,
        "-40.00",
        "60.00",
    )


def test_nothing_is_recorded_when_the_change_is_refused(manager: User) -> None:
    signed_in(manager).post(reverse("shop:settings"), {"currency": "USD"})
    assert kinds() == []


@pytest.mark.django_db(transaction=True)
def test_a_read_record_commits_on_its_own_and_leaves_the_connection_waiting_for_the_disk_again() -> None:
    audit_record(kind=AuditKind.LOOKUP, customer_id=5, reason=AuditReason.API, detail={"found": False})

    entry = AuditEntry.objects.get(customer_id=5)
    assert (entry.kind, entry.reason, entry.detail) == (AuditKind.LOOKUP, AuditReason.API, {"found": False})
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)


@pytest.mark.django_db(transaction=True)
def test_a_read_record_that_fails_leaves_the_connection_usable() -> None:
    with pytest.raises(DatabaseError):
        audit_record(kind="x" * 40, customer_id=6)

    assert AuditEntry.objects.count() == 0


def test_a_changed_field_is_named_by_the_model_that_was_changed_in_the_readers_language(owner: User) -> None:
    ShopSettings.load()
    signed_in(owner).post(reverse("shop:settings"), settings_form(operator_cards_per_hour="20"))
    detail = AuditEntry.objects.get(kind=AuditKind.SETTINGS).detail

    with translation.override("ru"):
        text = audit_detail_text(detail)

    assert "название магазина: My shop → Чайная лавка" in text


def test_a_rule_without_a_name_is_shown_by_its_kind_in_the_readers_language(owner: User) -> None:
    rule = LoyaltyRuleFactory.create(name="", created_by=owner)
    rule_update(user=owner, rule=rule, is_active=False)
    detail = AuditEntry.objects.get(kind=AuditKind.RULE).detail

    with translation.override("ru"):
        text = audit_detail_text(detail)

    assert "вид: Бонусы на счёт" in text and "правило: —" in text
    assert "Store credit" not in text
