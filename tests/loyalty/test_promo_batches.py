"""Promo code batches: generating one for a promo rule, the list, the spreadsheet-safe export, switching a batch off
(its codes then refused at quote and redeem), and who may do which."""

import csv
import io
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import cast

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from loyalty.engine.evaluate import Cart
from loyalty.errors import CodeError
from loyalty.models import LoyaltyRule, PromoBatch, PromoCode
from loyalty.services import loyalty_quote, loyalty_redeem, promo_batch_deactivate, promo_batch_generate
from loyalty.services.codes import ALPHABET
from tests.factories import CustomerFactory, LoyaltyRuleFactory, make_owner

pytestmark = pytest.mark.django_db
PROMO = {"value_kind": "percent", "value": "15"}


def promo_rule() -> LoyaltyRule:
    return LoyaltyRuleFactory.create(name="Spring", kind="promo_batch", params=PROMO)


def form(rule_id: int, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "rule": rule_id, "name": "Spring mailing", "count": 50, "code_prefix": "spring", "uses_per_code": 1,
        "uses_per_customer": 1, "valid_until": "",
    }  # fmt: skip
    data.update(changes)
    return data


def test_the_owner_generates_a_batch_of_unguessable_codes(client_for: Callable[[str | None], Client]) -> None:
    rule = promo_rule()
    response = client_for("Owner").post(reverse("loyalty:batch_new"), form(rule.pk))
    assert response.status_code == 302
    batch = PromoBatch.objects.get()
    codes = list(batch.codes.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 50
    assert all(code.startswith("SPRING") and set(code[6:]) <= set(ALPHABET) and len(code) == 16 for code in codes)


def test_a_batch_with_bad_limits_is_refused_and_nothing_is_made(client_for: Callable[[str | None], Client]) -> None:
    rule = promo_rule()
    response = client_for("Owner").post(
        reverse("loyalty:batch_new"), form(rule.pk, count=0, code_prefix="=CMD", valid_until="2001-01-01")
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"count", "code_prefix", "valid_until"} <= set(errors)
    assert not PromoBatch.objects.exists()


def test_a_batch_is_only_for_a_promo_rule(client_for: Callable[[str | None], Client]) -> None:
    other = LoyaltyRuleFactory.create()
    response = client_for("Owner").post(reverse("loyalty:batch_new"), form(other.pk))
    assert "rule" in response.context["form"].errors
    assert not PromoCode.objects.exists()


def test_a_manager_sees_batches_but_cannot_generate_export_or_switch_off(
    client_for: Callable[[str | None], Client],
) -> None:
    rule = promo_rule()
    batch = promo_batch_generate(user=make_owner(), rule=rule, name="Spring mailing", count=3)
    manager = client_for("Manager")
    page = manager.get(reverse("loyalty:batches"))
    assert page.status_code == 200
    assert "Spring mailing" in page.content.decode()
    assert manager.post(reverse("loyalty:batch_new"), form(rule.pk)).status_code == 403
    assert manager.get(reverse("loyalty:batch_export", args=[batch.pk])).status_code == 403
    assert manager.post(reverse("loyalty:batch_deactivate", args=[batch.pk])).status_code == 403
    assert PromoBatch.objects.get().is_active
    assert PromoCode.objects.count() == 3
    assert client_for("Operator").get(reverse("loyalty:batches")).status_code == 403


def test_the_export_is_spreadsheet_safe(client_for: Callable[[str | None], Client]) -> None:
    rule = promo_rule()
    batch = promo_batch_generate(user=make_owner(), rule=rule, name='=HYPERLINK("http://x")', count=2)
    response = client_for("Owner").get(reverse("loyalty:batch_export", args=[batch.pk]))
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(cast(Iterator[bytes], response.streaming_content)).decode()
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert body.startswith("\ufeff")
    assert len(rows) == 3
    assert all(row[1] == '\'=HYPERLINK("http://x")' for row in rows[1:])
    assert {row[0] for row in rows[1:]} == set(batch.codes.values_list("code", flat=True))


def test_a_switched_off_batch_refuses_its_codes_at_quote_and_redeem(
    client_for: Callable[[str | None], Client],
) -> None:
    rule = promo_rule()
    batch = promo_batch_generate(user=make_owner(), rule=rule, name="Spring mailing", count=1)
    code = batch.codes.get().code
    customer = CustomerFactory.create()
    assert loyalty_quote(customer=customer, cart=Cart(total=Decimal("1000")), code=code).quote.discount > 0
    response = client_for("Owner").post(reverse("loyalty:batch_deactivate", args=[batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert not batch.is_active and batch.deactivated_at is not None
    with pytest.raises(CodeError) as quoted:
        loyalty_quote(customer=customer, cart=Cart(total=Decimal("1000")), code=code)
    assert quoted.value.code == "inactive_code"
    assert "Spring mailing" in quoted.value.message
    with pytest.raises(CodeError):
        loyalty_redeem(
            customer=customer, cart=Cart(total=Decimal("1000")), order_source="web", order_external_id="1",
            idempotency_key="k1", code=code,
        )  # fmt: skip
    assert batch.codes.get().uses == 0


def test_switching_a_batch_off_twice_keeps_the_first_moment() -> None:
    owner = make_owner()
    batch = promo_batch_generate(user=owner, rule=promo_rule(), name="Spring", count=1)
    first = promo_batch_deactivate(user=owner, batch=batch).deactivated_at
    assert promo_batch_deactivate(user=owner, batch=batch).deactivated_at == first
