"""Operators see the callers they serve: a card opens from a call, a missed call or a console search, never from a
typed id; every opening is recorded with its reason, and an hourly limit stops an operator reading the base."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.call.access import card_url
from customers.models import Call, CallState, Customer
from shop.models import AuditEntry, AuditKind, AuditReason, ShopSettings, User
from shop.roles import Role
from tests.factories import CustomerEmailFactory, CustomerFactory, CustomerPhoneFactory, make_user

pytestmark = pytest.mark.django_db


def customer_with_contacts(name: str = "Анна Петрова", phone: str = "+79991234567") -> Customer:
    customer = CustomerFactory.create(name=name, city="Тверь", address="ул. Садовая, 5")
    CustomerPhoneFactory.create(customer=customer, number=phone)
    CustomerEmailFactory.create(customer=customer, address=f"{phone[-4:]}@example.com")
    return customer


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def operator() -> User:
    return make_user(Role.OPERATOR, username="op", extension="101")


def card(customer: Customer) -> str:
    return reverse("customer_card", args=[customer.pk])


def views_of(customer: Customer) -> list[tuple[str, str]]:
    return list(
        AuditEntry.objects.filter(customer_id=customer.pk, kind=AuditKind.CARD_VIEW).values_list("actor", "reason")
    )


def test_an_operator_opening_a_typed_id_gets_403_and_the_attempt_is_recorded(operator):
    customer = customer_with_contacts()

    response = signed_in(operator).get(card(customer))

    assert response.status_code == 403
    content = response.content.decode()
    assert "Анна Петрова" not in content and "+7 999" not in content
    assert "from a call, a missed call or a search" in content or "из звонка" in content
    refused = AuditEntry.objects.get(kind=AuditKind.CARD_REFUSED)
    assert (refused.user, refused.customer_id, refused.reason) == (operator, customer.pk, AuditReason.NO_LINK)
    assert views_of(customer) == []


def test_a_link_signed_for_another_customer_or_operator_or_forged_opens_nothing(operator):
    customer, other = customer_with_contacts(), customer_with_contacts("Олег Сидоров", "+79990000001")
    colleague = make_user(Role.OPERATOR, username="colleague")
    client = signed_in(operator)
    another_customers_link = card_url(other.pk, AuditReason.SEARCH, operator).split("?")[1]
    links = [
        card(customer) + "?" + another_customers_link,
        card_url(customer.pk, AuditReason.SEARCH, colleague),
        card(customer) + "?via=" + f"{customer.pk}:{operator.pk}:search:forged:signature",
    ]
    assert [client.get(link).status_code for link in links] == [403, 403, 403]
    assert views_of(customer) == []


def test_a_link_older_than_a_shift_opens_nothing(operator):
    customer = customer_with_contacts()
    with time_machine.travel(timezone.now() - timedelta(hours=9), tick=False):
        old_link = card_url(customer.pk, AuditReason.SEARCH, operator)

    assert signed_in(operator).get(old_link).status_code == 403


def test_the_ringing_calls_card_opens_and_is_recorded_as_a_call(operator):
    customer = customer_with_contacts()
    Call.objects.create(customer=customer, phone="+79991234567", operator=operator, state=CallState.RINGING)
    client = signed_in(operator)

    console = client.get(reverse("call:console"))
    link = console.context["card_url"]
    response = client.get(link)

    assert response.status_code == 200
    assert "Анна Петрова" in response.content.decode()
    assert views_of(customer) == [("op", AuditReason.CALL)]
    lookup = AuditEntry.objects.get(kind=AuditKind.LOOKUP)
    assert (lookup.customer_id, lookup.reason) == (customer.pk, AuditReason.CALL)


def test_a_missed_calls_card_opens_from_the_call_back_list(operator):
    customer = customer_with_contacts()
    Call.objects.create(customer=customer, phone="+79991234567", state=CallState.MISSED)
    client = signed_in(operator)

    page = client.get(reverse("call:missed")).content.decode()
    start = page.index('href="/customers/')
    link = page[start + 6 : page.index('"', start + 6)].replace("&amp;", "&")

    assert client.get(link).status_code == 200
    assert views_of(customer) == [("op", AuditReason.MISSED_CALL)]


def test_a_search_by_the_whole_number_opens_the_card_as_a_search(operator):
    customer = customer_with_contacts()
    client = signed_in(operator)

    console = client.get(reverse("call:console"), {"phone": "8 (999) 123-45-67"})
    assert client.get(console.context["card_url"]).status_code == 200

    assert views_of(customer) == [("op", AuditReason.SEARCH)]
    assert AuditEntry.objects.filter(kind=AuditKind.LOOKUP, reason=AuditReason.SEARCH).count() == 1


def test_a_search_by_the_exact_name_lists_the_namesakes_and_not_the_partial_matches(operator):
    anna = customer_with_contacts()
    customer_with_contacts("Анна Петровская", "+79990000002")
    client = signed_in(operator)

    page = client.get(reverse("call:console"), {"phone": "петрова анна"})

    matches = page.context["name_matches"]
    assert [customer.pk for customer, _link in matches] == [anna.pk]
    assert client.get(matches[0][1]).status_code == 200
    assert views_of(anna) == [("op", AuditReason.SEARCH)]


def test_the_operators_card_hides_email_address_and_exports_the_managers_shows_them(operator):
    customer = customer_with_contacts()
    manager = make_user(Role.MANAGER, username="manager")

    operators = signed_in(operator).get(card_url(customer.pk, AuditReason.SEARCH, operator)).content.decode()
    managers = signed_in(manager).get(card(customer)).content.decode()

    assert "+79991234567" in operators
    for hidden in ("4567@example.com", "ул. Садовая", reverse("customer_personal_data", args=[customer.pk])):
        assert hidden not in operators
        assert hidden in managers


def test_managers_and_owners_card_views_are_recorded_as_browsing():
    customer = customer_with_contacts()
    signed_in(make_user(Role.MANAGER, username="manager")).get(card(customer))
    signed_in(make_user(Role.OWNER, username="owner")).get(card(customer))

    assert sorted(views_of(customer)) == [("manager", AuditReason.BROWSE), ("owner", AuditReason.BROWSE)]


def test_the_hourly_limit_refuses_the_next_card_and_alerts_the_owner_once(operator):
    settings = ShopSettings.load()
    settings.operator_cards_per_hour = 2
    settings.save()
    customers = [customer_with_contacts(f"Клиент {n}", f"+7999000001{n}") for n in range(4)]
    client = signed_in(operator)

    statuses = [client.get(card_url(c.pk, AuditReason.SEARCH, operator)).status_code for c in customers]

    assert statuses == [200, 200, 429, 429]
    assert AuditEntry.objects.filter(kind=AuditKind.CARD_VIEW).count() == 2
    assert AuditEntry.objects.filter(kind=AuditKind.CARD_REFUSED, reason=AuditReason.LIMIT).count() == 2
    alert = AuditEntry.objects.get(kind=AuditKind.CARD_LIMIT)
    assert (alert.user, alert.detail) == (operator, {"limit": 2})
    owner_home = signed_in(make_user(Role.OWNER, username="owner")).get(reverse("home")).content.decode()
    assert 'data-testid="limit-alert"' in owner_home and "op" in owner_home


def test_the_limit_counts_the_last_hour_only(operator):
    settings = ShopSettings.load()
    settings.operator_cards_per_hour = 1
    settings.save()
    first, second = customer_with_contacts(), customer_with_contacts("Олег Сидоров", "+79990000001")
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        assert signed_in(operator).get(card_url(first.pk, AuditReason.SEARCH, operator)).status_code == 200
    # Signed in afresh: an hour without a request is past the session's idle timeout.
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert signed_in(operator).get(card_url(second.pk, AuditReason.SEARCH, operator)).status_code == 200


def test_the_ringing_calls_screen_pop_does_not_count_against_the_limit(operator):
    settings = ShopSettings.load()
    settings.operator_cards_per_hour = 1
    settings.save()
    client = signed_in(operator)
    for n in range(3):
        customer = customer_with_contacts(f"Клиент {n}", f"+7999000002{n}")
        call = Call.objects.create(customer=customer, phone=f"+7999000002{n}", operator=operator)
        assert "card" in client.get(reverse("call:card"), {"call": call.pk}).context
        Call.objects.filter(pk=call.pk).update(state=CallState.ENDED)

    assert AuditEntry.objects.filter(kind=AuditKind.CARD_REFUSED).count() == 0


def test_someone_elses_old_call_counts_as_a_search(operator):
    settings = ShopSettings.load()
    settings.operator_cards_per_hour = 1
    settings.save()
    client = signed_in(operator)
    old_calls = []
    for n in range(2):
        customer = customer_with_contacts(f"Клиент {n}", f"+7999000003{n}")
        old_calls.append(
            Call.objects.create(
                customer=customer,
                phone=f"+7999000003{n}",
                state=CallState.ENDED,
                started_at=timezone.now() - timedelta(days=30),
            )
        )

    contexts = [client.get(reverse("call:card"), {"call": call.pk}).context for call in old_calls]

    assert "card" in contexts[0] and contexts[1]["over_limit"] == 1
