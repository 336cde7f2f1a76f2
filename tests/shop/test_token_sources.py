"""The owner binds an integration token to the sources it may write, on the token page."""

import pytest
from django.urls import reverse

from shop.models import IntegrationToken
from shop.roles import Role


@pytest.mark.django_db
def test_the_owner_creates_a_token_bound_to_its_sources_and_sees_them_listed(client_for):
    owner = client_for(Role.OWNER)
    page = owner.post(reverse("shop:tokens"), {"name": "Сайт", "scopes": ["import"], "sources": "site, ozon, site"})

    assert page.status_code == 200
    assert IntegrationToken.objects.get().sources == ["site", "ozon"]
    assert "<code>site</code>, <code>ozon</code>" in owner.get(reverse("shop:tokens")).content.decode()


@pytest.mark.django_db
def test_a_source_name_that_is_not_a_slug_is_refused_and_no_token_is_made(client_for):
    page = client_for(Role.OWNER).post(
        reverse("shop:tokens"), {"name": "Сайт", "scopes": ["import"], "sources": "my site"}
    )

    assert "my site" in page.content.decode()
    assert not IntegrationToken.objects.exists()


@pytest.mark.django_db
def test_a_token_without_sources_is_bound_to_the_source_of_its_name(client_for):
    client_for(Role.OWNER).post(reverse("shop:tokens"), {"name": "Website", "scopes": ["import"], "sources": ""})

    assert IntegrationToken.objects.get().bound_sources == ["website"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR])
def test_only_the_owner_issues_tokens(client_for, role):
    response = client_for(role).post(reverse("shop:tokens"), {"name": "x", "scopes": ["import"], "sources": "x"})
    assert response.status_code == 403
    assert not IntegrationToken.objects.exists()
