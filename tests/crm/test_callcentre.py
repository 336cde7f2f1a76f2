"""The caller lookup, the telephony webhooks and the operator's console."""

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from crm.call.forms import CallLogForm
from customers.calls import CallEvent, CallEventData, call_event_apply
from customers.models import Call, CallState, Customer
from customers.services import CustomerData
from feedback.models import Invitation
from feedback.services import invitations_schedule, response_submit
from orders.models import ChangeOrigin, OrderStatus
from orders.services import OrderData, order_upsert
from scoring.models import ScoringRun
from scoring.services import scoring_full_run
from shop.roles import Capability, Role
from tests.factories import LoyaltyRuleFactory, make_user

SECRET = "telephony-test-secret"
LOOKUP = reverse("api:caller_lookup")
EVENTS = reverse("api:telephony_events")


@pytest.fixture(autouse=True)
def _telephony_secrets(settings):
    settings.TELEPHONY_WEBHOOK_SECRET = SECRET
    settings.ZADARMA_API_SECRET = SECRET


def make_customer(phone: str = "+79991234567", orders: int = 1, total: str = "2000.00") -> Customer:
    for n in range(orders):
        order_upsert(
            data=OrderData(
                source="web",
                external_id=f"{phone}-{n}",
                customer=CustomerData(source="web", name="Мария Соколова", phones=(phone,)),
                placed_at=datetime(2026, 1, 10 + n, tzinfo=UTC),
                status=OrderStatus.DELIVERED,
                total=Decimal(total),
                subtotal=Decimal(total),
            ),
            origin=ChangeOrigin.API,
        )
    return Customer.objects.get(phones__number=phone)


def signed_post(client, payload: dict, secret: str = SECRET, timestamp: int | None = None):
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return client.post(
        EVENTS,
        data=body,
        content_type="application/json",
        HTTP_X_RETAIN_TIMESTAMP=stamp,
        HTTP_X_RETAIN_SIGNATURE=f"sha256={signature}",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("written", ["8 (999) 123-45-67", "+7 999 1234567", "79991234567", "+7 (999) 123 45 67"])
def test_every_way_of_writing_the_number_finds_the_same_customer(api_client_for, written):
    customer = make_customer()
    response = api_client_for(Capability.LOOKUP).get(LOOKUP, {"phone": written})
    assert response.status_code == 200
    assert response.json()["customer_id"] == customer.pk
    assert response.json()["phone"] == "+79991234567"


@pytest.mark.django_db
def test_lookup_answer_carries_the_score_orders_last_order_and_offers(api_client_for):
    LoyaltyRuleFactory.create(name="VIP delivery", kind="vip_perk", params={"perk": "priority_delivery"}, tiers=["vip"])
    make_customer(orders=5, total="12000.00")
    for n in range(11):  # a small shop around the caller, so the caller ranks at its top
        make_customer(phone=f"+7916000{n:04d}", orders=1, total="500.00")
    scoring_full_run(run_id=ScoringRun.objects.create().pk)
    body = api_client_for(Capability.LOOKUP).get(LOOKUP, {"phone": "89991234567"}).json()
    assert body["orders_count"] == 5
    assert body["total_spent"] == "60000.00"
    assert body["last_order"]["status"] == "delivered"
    assert body["tier"] == "vip" and body["importance"] >= 95 and body["segment"]
    assert body["explanation"].startswith("Top") or body["explanation"].startswith("Топ")
    assert [(o["code"], o["rule"]) for o in body["offers"]] == [("priority_delivery", "VIP delivery")]
    assert body["recommended_action"]


@pytest.mark.django_db
def test_an_unscored_caller_gets_no_offers_yet(api_client_for):
    make_customer()
    body = api_client_for(Capability.LOOKUP).get(LOOKUP, {"phone": "89991234567"}).json()
    assert (body["importance"], body["offers"]) == (None, [])


@pytest.mark.django_db
def test_unknown_number_is_404_with_the_normalised_number(api_client_for):
    response = api_client_for(Capability.LOOKUP).get(LOOKUP, {"phone": "8 (916) 000-00-00"})
    assert response.status_code == 404
    assert response.json()["error"]["fields"]["phone"] == "+79160000000"
    assert "+79160000000" in response.json()["error"]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("written", ["12345", "not a phone", ""])
def test_malformed_number_is_400_saying_why(api_client_for, written):
    response = api_client_for(Capability.LOOKUP).get(LOOKUP, {"phone": written})
    assert response.status_code == 400
    assert response.json()["error"]["message"]


@pytest.mark.django_db
def test_token_without_lookup_scope_is_refused(api_client_for):
    make_customer()
    assert api_client_for(Capability.IMPORT).get(LOOKUP, {"phone": "89991234567"}).status_code == 403


@pytest.mark.django_db
def test_signed_in_operator_may_look_up(client_for):
    make_customer()
    assert client_for(Role.OPERATOR).get(LOOKUP, {"phone": "89991234567"}).status_code == 200


@pytest.mark.django_db
def test_lookup_query_count_does_not_grow_with_the_history(api_client_for, django_assert_max_num_queries):
    client = api_client_for(Capability.LOOKUP)
    make_customer(phone="+79991234567", orders=1)
    make_customer(phone="+79997654321", orders=12)
    # The token, the card's one query (customer, score, orders, complaints, loyalty's offers), the audit entry; the
    # first lookup of a process may read the rules it has not parsed yet.
    with django_assert_max_num_queries(4) as few:
        client.get(LOOKUP, {"phone": "89991234567"})
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(LOOKUP, {"phone": "89997654321"})


@pytest.mark.django_db
def test_ringing_event_reaches_the_operator_with_that_extension(client):
    operator = make_user(Role.OPERATOR, extension="201")
    customer = make_customer()
    response = signed_post(client, {"event": "ringing", "call_id": "c-1", "caller": "89991234567", "extension": "201"})
    assert response.status_code == 200
    call = Call.objects.get()
    assert (call.operator, call.customer, call.state) == (operator, customer, CallState.RINGING)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("secret", "age"), [("forged-secret", 0), (SECRET, 3600)], ids=["forged signature", "stale timestamp"]
)
def test_forged_or_stale_telephony_event_is_refused_and_stores_nothing(client, secret, age):
    response = signed_post(
        client,
        {"event": "ringing", "call_id": "c-1", "caller": "89991234567"},
        secret=secret,
        timestamp=int(time.time()) - age,
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_signature"
    assert not Call.objects.exists()


@pytest.mark.django_db
def test_unsigned_telephony_event_is_refused(client):
    response = client.post(EVENTS, data={"event": "ringing"}, content_type="application/json")
    assert response.status_code == 401
    assert not Call.objects.exists()


@pytest.mark.django_db
def test_telephony_is_switched_off_without_a_secret(client, settings):
    settings.TELEPHONY_WEBHOOK_SECRET = ""
    response = signed_post(client, {"event": "ringing", "call_id": "c-1", "caller": "89991234567"})
    assert response.status_code == 503


@pytest.mark.django_db
def test_unanswered_hang_up_makes_a_missed_call_and_repeats_change_nothing(client):
    for event in ("ringing", "ringing", "hangup", "hangup", "answered"):
        signed_post(client, {"event": event, "call_id": "c-9", "caller": "89991234567"})
    call = Call.objects.get()
    assert call.state == CallState.MISSED
    assert call.answered_at is None


@pytest.mark.django_db
def test_answered_then_hung_up_call_ends_with_both_times(client):
    for event in ("ringing", "answered", "hangup"):
        signed_post(client, {"event": event, "call_id": "c-2", "caller": "89991234567"})
    call = Call.objects.get()
    assert call.state == CallState.ENDED
    assert call.answered_at is not None and call.ended_at is not None


def zadarma_post(client, form: dict, secret: str = SECRET):
    fields = {
        "NOTIFY_START": ("caller_id", "called_did", "call_start"),
        "NOTIFY_INTERNAL": ("caller_id", "called_did", "call_start"),
        "NOTIFY_END": ("caller_id", "called_did", "call_start"),
    }[form["event"]]
    signed = "".join(form[name] for name in fields).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha1).digest()).decode()
    return client.post(reverse("api:telephony_zadarma"), data=form, HTTP_SIGNATURE=signature)


@pytest.mark.django_db
def test_zadarma_notifications_ring_the_internal_number_and_end_as_missed(client):
    operator = make_user(Role.OPERATOR, extension="100")
    start = timezone.localtime(timezone.now()).strftime("%Y-%m-%d %H:%M:%S")
    base = {"pbx_call_id": "in_abc", "caller_id": "79991234567", "called_did": "74950000000", "call_start": start}
    assert zadarma_post(client, {**base, "event": "NOTIFY_START"}).status_code == 200
    assert zadarma_post(client, {**base, "event": "NOTIFY_INTERNAL", "internal": "100"}).status_code == 200
    assert Call.objects.get().operator == operator
    zadarma_post(client, {**base, "event": "NOTIFY_END", "internal": "100", "disposition": "no answer"})
    assert Call.objects.get().state == CallState.MISSED


@pytest.mark.django_db
def test_zadarma_notification_with_a_wrong_signature_is_refused(client):
    start = timezone.localtime(timezone.now()).strftime("%Y-%m-%d %H:%M:%S")
    form = {
        "event": "NOTIFY_START",
        "pbx_call_id": "x",
        "caller_id": "79991234567",
        "called_did": "7495",
        "call_start": start,
    }
    assert zadarma_post(client, form, secret="forged").status_code == 401
    assert not Call.objects.exists()


@pytest.mark.django_db
def test_console_shows_only_my_live_call(client_for):
    mine = make_user(Role.OPERATOR, extension="301")
    other = make_user(Role.OPERATOR, extension="302")
    call_event_apply(
        data=CallEventData(
            provider="generic",
            provider_call_id="c-1",
            event=CallEvent.RINGING,
            phone="89991234567",
            at=timezone.now(),
            extension="301",
        )
    )
    mine_client, other_client = Client(), Client()
    mine_client.force_login(mine)
    other_client.force_login(other)
    assert mine_client.get(reverse("call:live")).json()["call"]["phone"] == "+79991234567"
    assert other_client.get(reverse("call:live")).json()["call"] is None


@pytest.mark.django_db
def test_console_with_a_number_shows_the_card_or_the_create_form(client_for):
    customer = make_customer()
    operator = client_for(Role.OPERATOR)
    known = operator.get(reverse("call:console"), {"phone": "8 999 123 45 67"})
    assert known.status_code == 200 and customer.display_name in known.content.decode()
    unknown = operator.get(reverse("call:console"), {"phone": "8 916 000 00 00"})
    assert 'data-testid="unknown-caller"' in unknown.content.decode()


@pytest.mark.django_db
def test_operator_creates_the_unknown_caller_in_one_step(client_for):
    response = client_for(Role.OPERATOR).post(
        reverse("call:caller_create"), {"phone": "+79160000000", "name": "Пётр Иванов", "city": "Казань"}
    )
    assert response.status_code == 302
    customer = Customer.objects.get(phones__number="+79160000000")
    assert (customer.name, customer.city, customer.channel) == ("Пётр Иванов", "Казань", "offline")


@pytest.mark.django_db
def test_missed_calls_list_puts_the_most_valuable_customer_first(client_for):
    small = make_customer(phone="+79990000001", total="500.00")
    big = make_customer(phone="+79990000002", total="90000.00")
    now = timezone.now()
    for n, customer in enumerate([small, big]):
        Call.objects.create(customer=customer, phone=f"+7999000000{n + 1}", state=CallState.MISSED, started_at=now)
    Call.objects.create(phone="+79160000000", state=CallState.MISSED, started_at=now + timedelta(minutes=1))
    page = client_for(Role.OPERATOR).get(reverse("call:missed")).content.decode()
    assert page.index("+7 999 000-00-02") < page.index("+7 999 000-00-01") < page.index("+7 916")


@pytest.mark.django_db
def test_called_back_takes_a_call_off_the_list(client_for):
    call = Call.objects.create(phone="+79160000000", state=CallState.MISSED)
    client_for(Role.OPERATOR).post(reverse("call:called_back", args=[call.pk]))
    call.refresh_from_db()
    assert call.called_back_at is not None


@pytest.mark.django_db
def test_a_caller_who_rang_three_times_is_one_row_with_the_count(client_for):
    customer = make_customer(phone="+79990000001")
    now = timezone.now()
    for minutes in range(3):
        Call.objects.create(
            customer=customer, phone="+79990000001", state=CallState.MISSED, started_at=now + timedelta(minutes=minutes)
        )
    Call.objects.create(phone="+79160000000", state=CallState.MISSED, started_at=now)
    Call.objects.create(phone="+79160000000", state=CallState.MISSED, started_at=now)
    response = client_for(Role.OPERATOR).get(reverse("call:missed"))
    rows = {row["number"]: row["missed"] for row in response.context["callers"]}
    assert rows == {"+79990000001": 3, "+79160000000": 2}


@pytest.mark.django_db
def test_calling_back_a_caller_clears_all_their_missed_calls_and_no_one_elses(client_for):
    customer = make_customer(phone="+79990000001")
    _first, second = (
        Call.objects.create(customer=customer, phone="+79990000001", state=CallState.MISSED) for _ in range(2)
    )
    other = Call.objects.create(phone="+79160000000", state=CallState.MISSED)
    client_for(Role.OPERATOR).post(reverse("call:called_back", args=[second.pk]))
    assert list(Call.objects.filter(called_back_at__isnull=True).values_list("pk", flat=True)) == [other.pk]


@pytest.mark.django_db
def test_missed_calls_page_reads_a_fixed_number_of_queries(client_for, django_assert_max_num_queries):
    client = client_for(Role.OPERATOR)
    for n in range(5):
        customer = make_customer(phone=f"+7999000000{n}")
        Call.objects.create(customer=customer, phone=f"+7999000000{n}", state=CallState.MISSED)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("call:missed")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["call:console", "call:missed", "call:live"])
def test_call_pages_need_the_lookup_capability(client_for, name):
    assert client_for("norole").get(reverse(name)).status_code == 403
    assert client_for(None).get(reverse(name)).status_code == 302


@pytest.mark.django_db
def test_a_logged_call_appears_in_the_customer_timeline(client_for):
    customer = make_customer()
    operator = client_for(Role.OPERATOR)
    operator.post(
        reverse("call:log"),
        {"customer": customer.pk, "outcome": "resolved", "note": "Спросила про доставку", "direction": "in"},
    )
    card = client_for(Role.MANAGER).get(reverse("customer_card", args=[customer.pk])).content.decode()
    assert 'data-entry="call"' in card and "Спросила про доставку" in card


@pytest.mark.django_db
def test_an_open_complaint_shows_in_the_lookup_and_comes_first_in_the_advice(api_client_for):
    customer = make_customer()
    customer.sms_consent = True  # the caller has a phone and no email: the survey goes by SMS
    customer.save()
    order = customer.orders.get()
    invitations_schedule(order_ids=[order.pk])
    invitation = Invitation.objects.get(order=order)
    response_submit(invitation=invitation, product_score=2, service_score=1, recommend_score=3, comment="Долго везли")
    body = api_client_for(Capability.LOOKUP).get(LOOKUP, {"phone": "89991234567"}).json()
    assert [c["recommend_score"] for c in body["complaints"]] == [3]
    assert "Долго везли" in body["complaints"][0]["summary"]
    assert body["recommended_action"]


def test_the_call_log_form_does_not_offer_not_set_as_an_outcome():
    with translation.override("ru"):
        html = str(CallLogForm()["outcome"])
    assert "Не указан" not in html
    assert '<option value="" selected disabled>' in html


def test_a_call_logged_without_an_outcome_is_refused():
    form = CallLogForm({"outcome": "", "note": "", "direction": "in"})
    assert not form.is_valid() and "outcome" in form.errors
