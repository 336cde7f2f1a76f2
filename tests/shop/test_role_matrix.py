"""The role matrix of DESIGN.md, page by page: who gets the page, who gets 403, and anonymous goes to sign in."""

import pytest
from django.urls import reverse

OWNER_ONLY_PAGES = ["shop:settings", "shop:users", "shop:user_create", "shop:tokens", "schedules"]


@pytest.mark.parametrize("name", OWNER_ONLY_PAGES)
@pytest.mark.parametrize(("role", "status"), [("Owner", 200), ("Manager", 403), ("Operator", 403), ("norole", 403)])
def test_owner_only_pages_admit_only_owners(client_for, name, role, status):
    assert client_for(role).get(reverse(name)).status_code == status


@pytest.mark.parametrize("name", [*OWNER_ONLY_PAGES, "home"])
def test_anonymous_visitor_is_sent_to_sign_in(client_for, name):
    response = client_for(None).get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["Owner", "Manager", "Operator"])
def test_every_role_reaches_the_dashboard(client_for, role):
    assert client_for(role).get(reverse("home")).status_code == 200
