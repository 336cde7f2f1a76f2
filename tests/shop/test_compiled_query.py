"""shop.db.CompiledQuery: a queryset compiled once per process and prepared once per connection answers like the
queryset it was built from, with each call's own values."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from shop.db import CompiledQuery, model_columns, model_from_row
from shop.models import IntegrationToken
from shop.roles import Capability
from shop.services import token_issue


def by_prefix(name: str) -> CompiledQuery:
    return CompiledQuery(
        name,
        lambda prefix: IntegrationToken.objects.filter(key_prefix=prefix).values(
            **model_columns(IntegrationToken, prefix="t_")
        ),
        prefix="\x00placeholder",
    )


@pytest.mark.django_db
def test_each_call_reads_with_its_own_values_into_whole_instances():
    query = by_prefix("test_compiled_values")
    first = token_issue(name="first", scopes=[Capability.LOOKUP], created_by=None).token
    second = token_issue(name="second", scopes=[Capability.IMPORT], created_by=None).token
    found = [model_from_row(IntegrationToken, query.rows(prefix=t.key_prefix)[0], prefix="t_") for t in (first, second)]
    assert [(t.pk, t.name, t.scopes) for t in found] == [
        (first.pk, "first", ["lookup"]),
        (second.pk, "second", ["import"]),
    ]
    assert query.rows(prefix="nobody") == []


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_gets_the_statement_prepared_again():
    query = by_prefix("test_compiled_reconnect")
    token = token_issue(name="again", scopes=[Capability.LOOKUP], created_by=None).token
    assert len(query.rows(prefix=token.key_prefix)) == 1
    connection.close()
    assert len(query.rows(prefix=token.key_prefix)) == 1


def test_a_placeholder_that_does_not_reach_the_parameters_is_refused():
    query = CompiledQuery(
        "test_compiled_unused", lambda prefix: IntegrationToken.objects.values("pk"), prefix="\x00placeholder"
    )
    with pytest.raises(ImproperlyConfigured):
        query.rows(prefix="x")
