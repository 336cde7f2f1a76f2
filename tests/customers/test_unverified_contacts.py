"""Contacts that came with an order but could not be read: shown on the card to those who edit contacts, fixed
there into a real phone or email, discarded, carried by a merge, exported and erased with the person."""

import pytest
from django.urls import reverse

from crm.privacy.erasure import customer_erase_personal_data
from crm.privacy.export import customer_personal_data
from customers.merging import customer_merge
from customers.models import ContactKind, CustomerPhone, UnverifiedContact
from customers.unverified import card_panel, unverified_contacts_keep
from shop.roles import Role
from tests.factories import CustomerFactory, make_user


@pytest.fixture
def kept(db):
    customer = CustomerFactory.create(name="Анна Смирнова")
    unverified_contacts_keep(entries=[(customer.pk, "shopify", [(ContactKind.PHONE, "555-555-SHIP", "Not valid.")])])
    return UnverifiedContact.objects.get()


def card(client, customer):
    return client.get(reverse("customer_card", kwargs={"pk": customer.pk})).content.decode()


@pytest.mark.django_db
def test_the_card_shows_an_unverified_contact_with_its_fix_form_to_a_manager(client_for, kept):
    page = card(client_for(Role.MANAGER), kept.customer)

    assert 'data-unverified="555-555-SHIP"' in page
    assert reverse("customers:unverified_fix", kwargs={"pk": kept.customer_id, "contact_id": kept.pk}) in page


@pytest.mark.django_db
def test_the_panel_shows_nothing_to_an_operator_who_may_open_the_card(kept):
    # Operators open a card only from a call (the access rules); what the call needs is the contacts that work.
    assert card_panel(kept.customer, make_user(Role.OPERATOR)) == {"rows": []}
    assert [row["contact"] for row in card_panel(kept.customer, make_user(Role.MANAGER))["rows"]] == [kept]


@pytest.mark.django_db
def test_a_manager_fixes_an_unverified_phone_into_a_real_one(client_for, kept):
    url = reverse("customers:unverified_fix", kwargs={"pk": kept.customer_id, "contact_id": kept.pk})
    response = client_for(Role.MANAGER).post(url, {"number": "8 (999) 555-55-55"})

    assert response.status_code == 302
    assert list(CustomerPhone.objects.filter(customer=kept.customer).values_list("number", flat=True)) == [
        "+79995555555"
    ]
    assert not UnverifiedContact.objects.exists()


@pytest.mark.django_db
def test_a_fix_that_is_still_unreadable_changes_nothing(client_for, kept):
    url = reverse("customers:unverified_fix", kwargs={"pk": kept.customer_id, "contact_id": kept.pk})
    client_for(Role.MANAGER).post(url, {"number": "555-555-SHIP"})

    assert not CustomerPhone.objects.exists()
    assert UnverifiedContact.objects.get() == kept


@pytest.mark.django_db
def test_a_fix_to_a_number_another_customer_holds_is_refused_and_keeps_the_row(client_for, kept):
    other = CustomerFactory.create()
    CustomerPhone.objects.create(customer=other, number="+79995555555", is_primary=True)
    url = reverse("customers:unverified_fix", kwargs={"pk": kept.customer_id, "contact_id": kept.pk})
    client_for(Role.MANAGER).post(url, {"number": "+79995555555"})

    assert CustomerPhone.objects.get().customer == other
    assert UnverifiedContact.objects.get() == kept


@pytest.mark.django_db
def test_a_manager_discards_an_unverified_contact(client_for, kept):
    url = reverse("customers:unverified_discard", kwargs={"pk": kept.customer_id, "contact_id": kept.pk})
    assert client_for(Role.MANAGER).post(url).status_code == 302
    assert not UnverifiedContact.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["unverified_fix", "unverified_discard"])
def test_an_operator_can_neither_fix_nor_discard(client_for, kept, action):
    url = reverse(f"customers:{action}", kwargs={"pk": kept.customer_id, "contact_id": kept.pk})
    assert client_for(Role.OPERATOR).post(url, {"number": "+79995555555"}).status_code == 403
    assert UnverifiedContact.objects.get() == kept and not CustomerPhone.objects.exists()


@pytest.mark.django_db
def test_a_merge_moves_unverified_contacts_to_the_survivor_once(kept):
    survivor = CustomerFactory.create()
    unverified_contacts_keep(entries=[(survivor.pk, "site", [(ContactKind.PHONE, "555-555-SHIP", "Not valid.")])])
    unverified_contacts_keep(entries=[(kept.customer_id, "site", [(ContactKind.EMAIL, "anna@", "Not valid.")])])

    merge = customer_merge(survivor=survivor, duplicate=kept.customer, user=None)

    assert sorted(UnverifiedContact.objects.values_list("customer_id", "raw")) == [
        (survivor.pk, "555-555-SHIP"),
        (survivor.pk, "anna@"),
    ]
    assert merge.moved["unverified_contacts"] == 1


@pytest.mark.django_db
def test_the_personal_data_export_and_erasure_include_unverified_contacts(kept):
    owner = make_user(Role.OWNER)
    exported = customer_personal_data(kept.customer)
    assert [row["as_received"] for row in exported["unverified_contacts"]] == ["555-555-SHIP"]

    customer_erase_personal_data(customer=kept.customer, user=owner)

    assert not UnverifiedContact.objects.exists()
