"""A customer's personal data on request: the JSON export, the erasure and who may do either."""

import json
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connection, transaction
from django.urls import reverse

from crm.privacy import CONSENT_SOURCE_ERASURE, customer_erase_personal_data, customer_personal_data
from customers.calls import call_log
from customers.contrib import Contribution, ExportPart
from customers.models import (
    Call,
    CallDirection,
    CallOutcome,
    Channel,
    ConsentChange,
    Customer,
    CustomerEmail,
    CustomerExternalId,
    CustomerMerge,
    CustomerPhone,
    Note,
)
from customers.services import CustomerData, customer_tag_add, note_add
from orders.models import ChangeOrigin, Order, OrderItem, OrderStatus
from orders.services import ItemData, OrderData, order_upsert
from shop.locks import advisory_xact_lock
from shop.models import User
from shop.roles import Capability
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PLACED = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
PHONE = "+79991234567"
OTHER_PHONE = "+79997654321"
LOOKUP = reverse("api:caller_lookup")


def make_customer(
    *,
    phone: str = PHONE,
    email: str = "maria@example.com",
    name: str = "Мария Соколова",
    external_id: str = "c-1",
    order_id: str = "A-1",
    note: str = "Просила звонить после шести",
    staff: User | None = None,
) -> Customer:
    """A customer with every kind of data Retain keeps: contacts, consent, a tag, a note, a call, an order."""
    order_upsert(
        data=OrderData(
            source="web",
            external_id=order_id,
            customer=CustomerData(
                source="web",
                external_id=external_id,
                name=name,
                phones=(phone,),
                emails=(email,),
                city="Казань",
                address="ул. Баумана, 1",
                language="ru",
                utm_source="yandex",
                utm_medium="cpc",
                utm_campaign=f"spring-{external_id}",
                email_consent=True,
                sms_consent=True,
            ),
            placed_at=PLACED,
            status=OrderStatus.DELIVERED,
            subtotal=Decimal("2499.90"),
            total=Decimal("2499.90"),
            items=(ItemData(name="Чайник", price=Decimal("2499.90"), sku="KT-1"),),
        ),
        origin=ChangeOrigin.API,
    )
    customer = Customer.objects.get(phones__number=phone)
    customer_tag_add(customer=customer, name=f"tag-{external_id}")
    note_add(customer=customer, author=staff, text=note)
    call_log(
        customer_id=customer.pk,
        phone=phone,
        operator=staff,
        direction=CallDirection.INBOUND,
        outcome=CallOutcome.RESOLVED,
        note=f"call about {order_id}",
    )
    return customer


def export_of(client, customer: Customer) -> dict:
    response = client.get(reverse("customer_personal_data", args=[customer.pk]))
    assert response.status_code == 200
    return json.loads(response.content)


def erase_url(customer: Customer) -> str:
    return reverse("customer_erase", args=[customer.pk])


def snapshot(customer: Customer) -> tuple:
    """What an erasure would change, to prove a refused one changed nothing."""
    customer.refresh_from_db()
    return (
        customer.name,
        customer.address,
        customer.erased_at,
        customer.email_consent,
        CustomerPhone.objects.filter(customer=customer).count(),
        CustomerEmail.objects.filter(customer=customer).count(),
        Note.objects.filter(customer=customer).count(),
        Call.objects.filter(customer=customer).exclude(phone="").count(),
        LogEntry.objects.count(),
    )


# --- Export ----------------------------------------------------------------------------------------------------------


def test_export_holds_every_kind_of_data_about_the_customer(client_for):
    customer = make_customer()
    data = export_of(client_for("Manager"), customer)

    assert data["customer_id"] == customer.pk
    profile = data["profile"]
    assert (profile["name"], profile["city"], profile["address"]) == ("Мария Соколова", "Казань", "ул. Баумана, 1")
    assert (profile["utm_campaign"], profile["acquisition_channel"]) == ("spring-c-1", Channel.SEARCH_ADS)
    assert [p["number"] for p in data["phones"]] == [PHONE]
    assert [e["address"] for e in data["emails"]] == ["maria@example.com"]
    assert data["external_ids"][0] | {"added_at": None} == {"source": "web", "external_id": "c-1", "added_at": None}
    assert data["consent"]["email"]["granted"] and data["consent"]["sms"]["granted"]
    assert {(c["channel"], c["granted"]) for c in data["consent"]["history"]} == {("email", True), ("sms", True)}
    assert data["tags"] == ["tag-c-1"]
    assert [n["text"] for n in data["notes"]] == ["Просила звонить после шести"]
    assert [(c["phone"], c["note"]) for c in data["calls"]] == [(PHONE, "call about A-1")]
    [order] = data["orders"]
    assert (order["external_id"], order["status"], order["total"]) == ("A-1", "delivered", "2499.90")
    assert [(i["name"], i["price"], i["quantity"]) for i in order["items"]] == [("Чайник", "2499.90", "1.000")]
    assert [(s["from"], s["to"]) for s in order["status_history"]] == [("", "delivered")]


def test_export_writes_money_as_strings_and_times_in_iso_8601(client_for):
    customer = make_customer()
    data = export_of(client_for("Owner"), customer)
    assert data["profile"]["total_spent"] == "2499.90"
    assert datetime.fromisoformat(data["orders"][0]["placed_at"]) == PLACED
    assert datetime.fromisoformat(data["profile"]["created_at"]).tzinfo is not None


def test_export_holds_nothing_of_another_customer(client_for):
    customer = make_customer()
    make_customer(
        phone=OTHER_PHONE,
        email="ivan@example.com",
        name="Иван Другой",
        external_id="c-2",
        order_id="B-7",
        note="чужая заметка",
    )
    response = client_for("Owner").get(reverse("customer_personal_data", args=[customer.pk]))
    body = response.content.decode()
    for foreign in (OTHER_PHONE, "ivan@example.com", "Иван Другой", "c-2", "B-7", "чужая заметка", "tag-c-2"):
        assert foreign not in body


def test_export_is_an_attachment_that_is_never_cached(client_for):
    customer = make_customer()
    response = client_for("Owner").get(reverse("customer_personal_data", args=[customer.pk]))
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="customer-{customer.pk}-personal-data.json"'
    assert {"no-cache", "no-store", "must-revalidate", "private"} <= set(response["Cache-Control"].split(", "))


@pytest.mark.parametrize(("role", "status"), [("Owner", 200), ("Manager", 200), ("Operator", 403), ("norole", 403)])
def test_only_owners_and_managers_may_export_personal_data(client_for, role, status):
    customer = CustomerFactory.create()
    assert client_for(role).get(reverse("customer_personal_data", args=[customer.pk])).status_code == status


def test_anonymous_visitor_is_sent_to_sign_in_from_the_export(client_for):
    customer = CustomerFactory.create()
    response = client_for(None).get(reverse("customer_personal_data", args=[customer.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_export_of_an_unknown_customer_is_not_found(client_for):
    assert client_for("Owner").get(reverse("customer_personal_data", args=[999_999])).status_code == 404


def test_a_registered_contributor_adds_its_part_to_the_export(client_for, contribute):
    customer = CustomerFactory.create()
    part = ExportPart("loyalty", 900, lambda c: {"balance": Decimal("15.50"), "id": c.pk})
    contribute(Contribution(app="loyalty", export_parts=(part,)))
    assert export_of(client_for("Owner"), customer)["loyalty"] == {"balance": "15.50", "id": customer.pk}


def test_two_contributors_with_one_key_are_refused(contribute):
    customer = CustomerFactory.create()
    contribute(Contribution(app="loyalty", export_parts=(ExportPart("orders", 900, lambda c: []),)))
    with pytest.raises(ValueError, match="orders"):
        customer_personal_data(customer)


# --- Erasure: what it removes and what it keeps ----------------------------------------------------------------------


def test_erase_removes_names_contacts_notes_and_tags(owner):
    customer = make_customer()
    customer_erase_personal_data(customer=customer, user=owner)
    customer.refresh_from_db()
    assert (customer.name, customer.city, customer.address, customer.language, customer.utm_campaign) == ("",) * 5
    assert not CustomerPhone.objects.filter(customer=customer).exists()
    assert not CustomerEmail.objects.filter(customer=customer).exists()
    assert not CustomerExternalId.objects.filter(customer=customer).exists()
    assert not Note.objects.filter(customer=customer).exists()
    assert not customer.tags.exists()
    assert customer.erased_at is not None


def test_erase_keeps_the_channel_for_statistics(owner):
    customer = make_customer()
    customer_erase_personal_data(customer=customer, user=owner)
    customer.refresh_from_db()
    assert (customer.channel, customer.utm_source, customer.utm_medium) == (Channel.SEARCH_ADS, "yandex", "cpc")


def test_erase_keeps_orders_items_and_totals(owner):
    customer = make_customer()
    customer_erase_personal_data(customer=customer, user=owner)
    customer.refresh_from_db()
    order = Order.objects.get(external_id="A-1")
    assert (order.customer_id, order.total, order.status) == (customer.pk, Decimal("2499.90"), OrderStatus.DELIVERED)
    assert OrderItem.objects.filter(order=order).count() == 1
    assert (customer.orders_count, customer.total_spent) == (1, Decimal("2499.90"))


def test_erase_withdraws_consent_and_records_why(owner):
    customer = make_customer()
    customer_erase_personal_data(customer=customer, user=owner)
    customer.refresh_from_db()
    assert not customer.email_consent and not customer.sms_consent
    withdrawals = ConsentChange.objects.filter(customer=customer, granted=False)
    assert {(c.channel, c.source) for c in withdrawals} == {("email", CONSENT_SOURCE_ERASURE), ("sms", "erasure")}


def test_erase_blanks_call_numbers_and_notes_but_not_other_callers(owner):
    customer = make_customer()
    before_the_card = call_log(
        customer_id=None, phone=PHONE, operator=None, direction="in", outcome="", note="unknown caller"
    )
    other = call_log(customer_id=None, phone=OTHER_PHONE, operator=None, direction="in", outcome="", note="keep me")
    customer_erase_personal_data(customer=customer, user=owner)
    assert list(Call.objects.filter(customer=customer).values_list("phone", "note")) == [("", "")]
    before_the_card.refresh_from_db()
    other.refresh_from_db()
    assert (before_the_card.phone, before_the_card.note) == ("", "")
    assert (other.phone, other.note) == (OTHER_PHONE, "keep me")


def test_erase_leaves_another_customer_untouched(owner):
    customer = make_customer()
    other = make_customer(phone=OTHER_PHONE, email="ivan@example.com", name="Иван", external_id="c-2", order_id="B-1")
    before = snapshot(other)
    customer_erase_personal_data(customer=customer, user=owner)
    after = snapshot(other)
    assert before[:-1] == after[:-1]
    assert other.tags.count() == 1


def test_erase_covers_records_merged_into_the_customer(owner):
    customer = make_customer()
    duplicate = CustomerFactory.create(name="Маша С.", address="Казань", merged_into=customer)
    merge = CustomerMerge.objects.create(
        survivor=customer, merged_customer_id=duplicate.pk, merged_snapshot={"name": "Маша С."}
    )
    customer_erase_personal_data(customer=customer, user=owner)
    duplicate.refresh_from_db()
    merge.refresh_from_db()
    assert (duplicate.name, duplicate.address) == ("", "")
    assert duplicate.erased_at is not None
    assert merge.merged_snapshot == {}


def test_old_phone_is_unknown_to_the_caller_lookup_after_erase(owner, api_client_for):
    customer = make_customer()
    client = api_client_for(Capability.LOOKUP)
    assert client.get(LOOKUP, {"phone": PHONE}).status_code == 200
    customer_erase_personal_data(customer=customer, user=owner)
    response = client.get(LOOKUP, {"phone": PHONE})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_new_order_from_the_old_phone_makes_a_new_customer(owner):
    customer = make_customer()
    customer_erase_personal_data(customer=customer, user=owner)
    order_upsert(
        data=OrderData(
            source="web",
            external_id="A-2",
            customer=CustomerData(source="web", external_id="c-1", name="Мария", phones=(PHONE,)),
            placed_at=PLACED,
            status=OrderStatus.NEW,
            subtotal=Decimal("100.00"),
            total=Decimal("100.00"),
        ),
        origin=ChangeOrigin.API,
    )
    customer.refresh_from_db()
    assert Order.objects.get(external_id="A-2").customer_id != customer.pk
    assert customer.name == ""


def test_erase_records_who_erased_and_when(owner):
    customer = make_customer()
    customer_erase_personal_data(customer=customer, user=owner)
    entry = LogEntry.objects.get()
    assert (entry.user_id, entry.object_id, entry.action_flag) == (owner.pk, str(customer.pk), CHANGE)
    assert entry.change_message == "personal data erased"
    assert entry.get_edited_object() == customer
    assert "Мария" not in entry.object_repr


def test_a_second_erase_changes_nothing(owner):
    customer = make_customer()
    customer_erase_personal_data(customer=customer, user=owner)
    customer.refresh_from_db()
    before = (customer.erased_at, customer.updated_at, ConsentChange.objects.count(), LogEntry.objects.count())
    result = customer_erase_personal_data(customer=customer, user=owner)
    customer.refresh_from_db()
    assert not result.changed
    assert (customer.erased_at, customer.updated_at, ConsentChange.objects.count(), LogEntry.objects.count()) == before


def test_an_erase_after_new_data_arrived_erases_that_data(owner):
    customer = make_customer()
    customer_erase_personal_data(customer=customer, user=owner)
    Customer.objects.filter(pk=customer.pk).update(name="Снова Мария")
    assert customer_erase_personal_data(customer=customer, user=owner).changed
    customer.refresh_from_db()
    assert customer.name == ""
    assert LogEntry.objects.count() == 2


def wait_for_an_advisory_lock_waiter(deadline_seconds: float = 5) -> None:
    """Until another connection is queued on an advisory lock: the erasure has reached its lock and stopped."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    pytest.fail("the erasure never waited for the phone's lock")


@pytest.mark.django_db(transaction=True)
def test_erase_waits_for_an_order_in_flight_with_the_old_phone_and_erases_what_it_brought(owner):
    """Ingestion holds the phone's advisory lock while it fills a matched customer's blank name. Were the erasure to
    lock the customer row first, that fill would land after it and bring the name back."""
    customer = make_customer()
    holds_lock, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def ingestion() -> None:
        try:
            with transaction.atomic():
                advisory_xact_lock([f"customer-phone:{PHONE}"])
                holds_lock.set()
                release.wait(timeout=10)
                Customer.objects.filter(pk=customer.pk).update(name="Мария из заказа")
        except BaseException as error:  # collected and re-raised in the test thread
            errors.append(error)
        finally:
            connection.close()

    def erase() -> None:
        try:
            customer_erase_personal_data(customer=customer, user=owner)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=ingestion), threading.Thread(target=erase)]
    threads[0].start()
    assert holds_lock.wait(timeout=10)
    threads[1].start()
    try:
        wait_for_an_advisory_lock_waiter()
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=10)
    assert not errors
    customer.refresh_from_db()
    assert customer.name == ""
    assert customer.erased_at is not None


# --- Erasure: the page, its confirmation and who may use it ----------------------------------------------------------


def test_owner_sees_what_erasure_does_before_confirming(client_for):
    customer = make_customer()
    response = client_for("Owner").get(erase_url(customer))
    assert response.status_code == 200
    assert b'data-testid="erase-confirmation"' in response.content
    assert Customer.objects.get(pk=customer.pk).erased_at is None


def test_owner_erases_by_typing_the_customer_number(client_for):
    customer = make_customer()
    response = client_for("Owner").post(erase_url(customer), {"confirmation": str(customer.pk)})
    assert response.status_code == 302
    assert response["Location"] == reverse("customer_card", args=[customer.pk])
    customer.refresh_from_db()
    assert customer.erased_at is not None and customer.name == ""


@pytest.mark.parametrize("typed", ["", "0", "yes", "erase"])
def test_a_mismatched_confirmation_is_refused_and_nothing_changes(client_for, typed):
    customer = make_customer()
    before = snapshot(customer)
    response = client_for("Owner").post(erase_url(customer), {"confirmation": typed})
    assert response.status_code == 400
    assert b"is-invalid" in response.content
    assert snapshot(customer) == before


def test_the_number_of_another_customer_is_refused(client_for):
    customer = make_customer()
    other = CustomerFactory.create()
    before = snapshot(customer)
    assert client_for("Owner").post(erase_url(customer), {"confirmation": str(other.pk)}).status_code == 400
    assert snapshot(customer) == before


@pytest.mark.parametrize("role", ["Manager", "Operator", "norole"])
def test_only_the_owner_may_erase(client_for, role):
    customer = make_customer()
    before = snapshot(customer)
    client = client_for(role)
    assert client.get(erase_url(customer)).status_code == 403
    assert client.post(erase_url(customer), {"confirmation": str(customer.pk)}).status_code == 403
    assert snapshot(customer) == before


def test_erased_customers_card_says_when_their_data_was_erased(client_for, owner):
    customer = make_customer()
    client = client_for("Manager")
    card = reverse("customer_card", args=[customer.pk])
    assert b'data-section="erasure-notice"' not in client.get(card).content
    customer_erase_personal_data(customer=customer, user=owner)
    page = client.get(card).content.decode()
    assert 'data-section="erasure-notice"' in page
    assert "Мария" not in page and PHONE not in page


@pytest.mark.parametrize(
    ("role", "export", "erase"), [("Owner", True, True), ("Manager", True, False), ("Operator", False, False)]
)
def test_card_offers_export_and_erase_by_role(client_for, role, export, erase):
    customer = CustomerFactory.create()
    page = client_for(role).get(reverse("customer_card", args=[customer.pk])).content.decode()
    assert ('data-testid="personal-data-export"' in page) is export
    assert ('data-testid="personal-data-erase"' in page) is erase
