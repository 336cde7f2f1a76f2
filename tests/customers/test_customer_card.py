"""The customer card: who sees it, what it shows, and each edit with its refusals."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import ConsentChange, Customer, CustomerEmail, CustomerMerge, CustomerPhone, Note, Tag
from orders.services import customer_summaries_refresh
from tests.factories import (
    CustomerEmailFactory,
    CustomerFactory,
    CustomerPhoneFactory,
    NoteFactory,
    OrderFactory,
    TagFactory,
    make_manager,
    operator_opens_card,
)


def card(customer: Customer) -> str:
    return reverse("customer_card", kwargs={"pk": customer.pk})


def action(name: str, customer: Customer, **kwargs: int) -> str:
    return reverse(f"customers:{name}", kwargs={"pk": customer.pk, **kwargs})


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def customer(db) -> Customer:
    return CustomerFactory.create(name="Анна Петрова")


@pytest.mark.parametrize(("role", "status"), [("Owner", 200), ("Manager", 200), ("Operator", 403), ("norole", 403)])
def test_card_by_its_bare_address_is_open_to_managers_and_owners_only(client_for, customer, role, status):
    # An operator opens a card from a call, a missed call or a search (tests/crm/test_card_access.py).
    assert client_for(role).get(card(customer)).status_code == status


def test_anonymous_visitor_is_sent_to_sign_in_from_the_card(client_for, customer):
    response = client_for(None).get(card(customer))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_unknown_customer_is_404(client_for, db):
    assert client_for("Manager").get(reverse("customer_card", kwargs={"pk": 999999})).status_code == 404


def test_operator_sees_the_card_without_edit_forms(client_for, customer):
    content = operator_opens_card(customer.pk).content.decode()
    assert "Анна Петрова" in content
    assert action("phone_add", customer) not in content
    assert action("note_add", customer) not in content


def test_manager_sees_the_edit_forms(client_for, customer):
    content = client_for("Manager").get(card(customer)).content.decode()
    assert action("phone_add", customer) in content
    assert action("note_add", customer) in content


EDITS = [
    ("phone_add", {"number": "+79990001122"}),
    ("email_add", {"address": "new@example.com"}),
    ("tag_add", {"name": "VIP"}),
    ("consent", {"channel": "email", "granted": "1"}),
    ("note_add", {"text": "Позвонить в пятницу"}),
    ("edit", {"name": "Другое имя", "city": "", "address": "", "language": ""}),
]


@pytest.mark.parametrize(("name", "data"), EDITS)
def test_operator_may_not_edit_and_nothing_changes(client_for, customer, name, data):
    before = (
        Customer.objects.filter(pk=customer.pk).values().get(),
        CustomerPhone.objects.count(),
        CustomerEmail.objects.count(),
        Tag.objects.count(),
        Note.objects.count(),
        ConsentChange.objects.count(),
    )
    assert client_for("Operator").post(action(name, customer), data).status_code == 403
    after = (
        Customer.objects.filter(pk=customer.pk).values().get(),
        CustomerPhone.objects.count(),
        CustomerEmail.objects.count(),
        Tag.objects.count(),
        Note.objects.count(),
        ConsentChange.objects.count(),
    )
    assert after == before


@pytest.mark.parametrize(("name", "data"), EDITS)
def test_anonymous_edit_is_sent_to_sign_in(client_for, customer, name, data):
    response = client_for(None).post(action(name, customer), data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_card_shows_contacts_formatted(client_for, customer):
    CustomerPhoneFactory.create(customer=customer, number="+79991234567")
    CustomerEmailFactory.create(customer=customer, address="anna@example.com")
    content = client_for("Manager").get(card(customer)).content.decode()
    assert "+7 999 123-45-67" in content
    assert "anna@example.com" in content


def test_card_shows_consent_with_time_and_source(client_for, customer):
    customer.sms_consent, customer.sms_consent_at, customer.sms_consent_source = True, timezone.now(), "checkout"
    customer.save()
    content = client_for("Manager").get(card(customer)).content.decode()
    assert 'data-consent="sms"' in content
    assert "checkout" in content


def test_card_links_to_the_referrer(client_for):
    friend = CustomerFactory.create(name="Подруга")
    referred = CustomerFactory.create(referred_by=friend, utm_source="vk", utm_campaign="spring")
    content = client_for("Manager").get(card(referred)).content.decode()
    assert f'href="{card(friend)}" data-testid="referred-by"' in content
    assert "spring" in content


def test_card_shows_the_key_figures_from_the_orders(client_for, customer):
    OrderFactory.create(customer=customer, total=Decimal("1000.00"), placed_at=timezone.now() - timedelta(days=10))
    OrderFactory.create(customer=customer, total=Decimal("2000.50"), placed_at=timezone.now() - timedelta(days=3))
    customer_summaries_refresh(customer_ids=[customer.pk])
    response = client_for("Manager").get(card(customer))
    shown = response.context["customer"]
    assert (shown.orders_count, shown.total_spent, shown.average_order) == (2, Decimal("3000.50"), Decimal("1500.25"))
    assert shown.days_since_last_order == 3
    assert "3\u00a0000,50\u00a0₽" in response.content.decode()


def test_timeline_lists_orders_and_notes_newest_first(client_for, customer):
    now = timezone.now()
    old_order = OrderFactory.create(customer=customer, placed_at=now - timedelta(days=5))
    note = NoteFactory.create(customer=customer, created_at=now - timedelta(days=2))
    new_order = OrderFactory.create(customer=customer, placed_at=now - timedelta(hours=1), status="delivered")
    timeline = client_for("Manager").get(card(customer)).context["timeline"]
    assert [(entry.kind, entry.object.pk) for entry in timeline] == [
        ("order", new_order.pk),
        ("note", note.pk),
        ("order", old_order.pk),
    ]


def test_timeline_order_shows_its_status_badge_and_total(client_for, customer):
    OrderFactory.create(customer=customer, total=Decimal("48200.50"), status="delivered")
    content = client_for("Manager").get(card(customer)).content.decode()
    assert "48\u00a0200,50\u00a0₽" in content
    assert "text-bg-success" in content


def test_card_query_count_does_not_grow_with_history(client_for, customer, django_assert_max_num_queries):
    client = client_for("Manager")
    client.get(card(customer))
    with CaptureQueriesContext(connection) as small:
        client.get(card(customer))
    for _index in range(20):
        OrderFactory.create(customer=customer)
        NoteFactory.create(customer=customer)
        CustomerPhoneFactory.create(customer=customer, is_primary=False)
    with django_assert_max_num_queries(len(small)):
        client.get(card(customer))


def test_merged_customer_card_redirects_to_the_survivor(client_for):
    survivor = CustomerFactory.create()
    merged = CustomerFactory.create(merged_into=survivor)
    response = client_for("Manager").get(card(merged))
    assert response.status_code == 302
    assert response["Location"] == card(survivor)


def test_survivor_card_tells_about_the_merge(client_for):
    survivor = CustomerFactory.create()
    CustomerMerge.objects.create(survivor=survivor, merged_customer_id=4242, merged_snapshot={}, moved={"orders": 2})
    content = client_for("Manager").get(card(survivor)).content.decode()
    assert 'data-section="merges"' in content
    assert "4242" in content


def test_manager_adds_a_phone_written_the_russian_way(client_for, customer):
    response = client_for("Manager").post(action("phone_add", customer), {"number": "8 (999) 765-43-21"})
    assert response.status_code == 302
    assert list(customer.phones.values_list("number", "is_primary")) == [("+79997654321", True)]


def test_a_malformed_phone_is_refused_with_the_reason(client_for, customer):
    response = client_for("Manager").post(action("phone_add", customer), {"number": "12-34"}, follow=True)
    assert not customer.phones.exists()
    assert any("12-34" in message for message in messages_of(response))


def test_a_rejected_phone_shows_its_error_under_the_phone_field_not_at_the_top(client_for, customer):
    response = client_for("Manager").post(action("phone_add", customer), {"number": "12-34"}, follow=True)
    content = response.content.decode()
    contacts = content.split('data-section="contacts"')[1]
    assert 'data-testid="phone-error"' in contacts and "12-34" in contacts.split('data-testid="phone-error"')[1]
    assert 'role="alert"' not in content.split("<main")[1].split('data-section="contacts"')[0]


def test_a_phone_of_another_customer_is_refused_with_a_link_to_them(client_for, customer):
    owner = CustomerPhoneFactory.create(number="+79991234567", customer=CustomerFactory.create(name="Борис")).customer
    response = client_for("Manager").post(action("phone_add", customer), {"number": "+7 999 123-45-67"}, follow=True)
    assert not customer.phones.exists()
    assert list(owner.phones.values_list("number", flat=True)) == ["+79991234567"]
    assert f'<a href="{card(owner)}">Борис</a>' in response.content.decode()


def test_an_email_of_another_customer_is_refused_with_a_link_to_them(client_for, customer):
    owner = CustomerEmailFactory.create(address="boris@example.com").customer
    response = client_for("Manager").post(action("email_add", customer), {"address": "Boris@Example.com"}, follow=True)
    assert not customer.emails.exists()
    assert f'href="{card(owner)}"' in response.content.decode()


def test_manager_adds_an_email_lower_cased(client_for, customer):
    client_for("Manager").post(action("email_add", customer), {"address": " Anna@Example.COM "})
    assert list(customer.emails.values_list("address", flat=True)) == ["anna@example.com"]


def test_removing_the_primary_phone_promotes_the_next(client_for, customer):
    first = CustomerPhoneFactory.create(customer=customer, is_primary=True)
    second = CustomerPhoneFactory.create(customer=customer, is_primary=False)
    client_for("Manager").post(action("phone_remove", customer, phone_id=first.pk))
    assert list(customer.phones.values_list("pk", "is_primary")) == [(second.pk, True)]


def test_a_phone_of_another_customer_cannot_be_removed_through_this_card(client_for, customer):
    foreign = CustomerPhoneFactory.create()
    client_for("Manager").post(action("phone_remove", customer, phone_id=foreign.pk))
    assert CustomerPhone.objects.filter(pk=foreign.pk).exists()


def test_removing_an_email(client_for, customer):
    email = CustomerEmailFactory.create(customer=customer)
    client_for("Manager").post(action("email_remove", customer, email_id=email.pk))
    assert not customer.emails.exists()


def test_adding_a_tag_by_a_new_name_creates_it(client_for, customer):
    client_for("Manager").post(action("tag_add", customer), {"name": "  Постоянный  клиент "})
    assert list(customer.tags.values_list("name", flat=True)) == ["Постоянный клиент"]


def test_adding_an_existing_tag_in_another_case_reuses_it(client_for, customer):
    vip = TagFactory.create(name="VIP")
    client_for("Manager").post(action("tag_add", customer), {"name": "vip"})
    assert list(customer.tags.all()) == [vip]
    assert Tag.objects.count() == 1


def test_removing_a_tag_keeps_it_for_others(client_for, customer):
    vip = TagFactory.create(name="VIP")
    other = CustomerFactory.create()
    customer.tags.add(vip)
    other.tags.add(vip)
    client_for("Manager").post(action("tag_remove", customer, tag_id=vip.pk))
    assert (customer.tags.count(), other.tags.count()) == (0, 1)


def test_consent_toggle_records_a_change_by_the_manager(client_for, customer):
    client_for("Manager").post(action("consent", customer), {"channel": "email", "granted": "1"})
    customer.refresh_from_db()
    assert (customer.email_consent, customer.email_consent_source) == (True, "manager")
    change = ConsentChange.objects.get(customer=customer)
    assert (change.channel, change.granted, change.source) == ("email", True, "manager")


def test_consent_withdrawal_is_recorded_too(client_for, customer):
    customer.sms_consent = True
    customer.save()
    client_for("Manager").post(action("consent", customer), {"channel": "sms", "granted": "0"})
    customer.refresh_from_db()
    assert customer.sms_consent is False
    assert ConsentChange.objects.filter(customer=customer, channel="sms", granted=False, source="manager").exists()


def test_a_note_is_added_with_its_author(db, client, customer):
    author = make_manager()
    client.force_login(author)
    client.post(action("note_add", customer), {"text": "  Просила звонить после 18:00  "})
    note = Note.objects.get(customer=customer)
    assert (note.text, note.author) == ("Просила звонить после 18:00", author)


def test_an_empty_note_is_refused(client_for, customer):
    client_for("Manager").post(action("note_add", customer), {"text": "   "})
    assert not Note.objects.exists()


def test_editing_a_note_changes_its_text_and_keeps_its_author(client_for, customer):
    author = make_manager()
    note = NoteFactory.create(customer=customer, author=author, text="Старый текст")
    response = client_for("Manager").post(action("note_edit", customer, note_id=note.pk), {"text": "Новый текст"})
    assert response.status_code == 302
    note.refresh_from_db()
    assert (note.text, note.author) == ("Новый текст", author)


def test_a_note_of_another_customer_is_404_through_this_card(client_for, customer):
    foreign = NoteFactory.create(text="Чужая")
    response = client_for("Manager").post(action("note_edit", customer, note_id=foreign.pk), {"text": "Взлом"})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.text == "Чужая"


def test_manager_edits_the_name_and_city(client_for, customer):
    client_for("Manager").post(
        action("edit", customer), {"name": "Анна Сидорова", "city": "Казань", "address": "", "language": "ru"}
    )
    customer.refresh_from_db()
    assert (customer.name, customer.city, customer.language) == ("Анна Сидорова", "Казань", "ru")


def test_edits_on_a_merged_customer_go_nowhere(client_for):
    survivor = CustomerFactory.create()
    merged = CustomerFactory.create(merged_into=survivor)
    response = client_for("Manager").post(action("tag_add", merged), {"name": "VIP"})
    assert response["Location"] == card(survivor)
    assert not Tag.objects.exists()


def test_operator_may_not_remove_contacts_or_tags_or_edit_notes(client_for, customer):
    phone = CustomerPhoneFactory.create(customer=customer)
    email = CustomerEmailFactory.create(customer=customer)
    tag = TagFactory.create(name="VIP")
    customer.tags.add(tag)
    note = NoteFactory.create(customer=customer, text="Как было")
    operator = client_for("Operator")
    statuses = [
        operator.post(action("phone_remove", customer, phone_id=phone.pk)).status_code,
        operator.post(action("email_remove", customer, email_id=email.pk)).status_code,
        operator.post(action("tag_remove", customer, tag_id=tag.pk)).status_code,
        operator.get(action("note_edit", customer, note_id=note.pk)).status_code,
        operator.post(action("note_edit", customer, note_id=note.pk), {"text": "Иначе"}).status_code,
    ]
    assert statuses == [403] * 5
    note.refresh_from_db()
    assert (customer.phones.count(), customer.emails.count(), customer.tags.count(), note.text) == (1, 1, 1, "Как было")
