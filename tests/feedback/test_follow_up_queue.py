"""The follow-ups page as a work queue: what is still to handle first, overdue marked, "assigned to me", the time
to handle one from the survey settings."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from feedback.models import FeedbackSettings, FollowUp, FollowUpState, Invitation
from feedback.services import invitations_schedule, response_submit
from shop.models import User
from shop.roles import Role
from tests.factories import make_user
from tests.feedback.helpers import consent, deliver

pytestmark = pytest.mark.django_db
LIST = reverse("feedback:follow_ups")
ANSWERED = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def unhappy(number: int, *, comment: str = "") -> FollowUp:
    order = deliver(f"A-{number}", email=f"c{number}@example.com", phone=f"+7999123450{number}")
    consent(order)
    invitations_schedule(order_ids=[order.pk])
    invitation = Invitation.objects.get(order=order)
    response_submit(
        invitation=invitation, product_score=1, service_score=1, recommend_score=0, comment=comment or f"№{number}"
    )
    return FollowUp.objects.get(order=order)


def listed(client: Client, **query: str) -> list[int]:
    return [row.pk for row in client.get(LIST, query).context["rows"]]


def manager_client() -> tuple[Client, User]:
    user = make_user(Role.MANAGER)
    client = Client()
    client.force_login(user)
    return client, user


def test_a_follow_up_is_due_after_the_days_set_in_the_survey_settings() -> None:
    FeedbackSettings.objects.update_or_create(pk=1, defaults={"follow_up_days": 5})
    with time_machine.travel(ANSWERED, tick=False):
        follow_up = unhappy(1)
    assert follow_up.due_at == ANSWERED + timedelta(days=5)


def test_the_default_time_to_handle_a_follow_up_is_two_days() -> None:
    assert FeedbackSettings.load().follow_up_days == 2


def test_the_list_shows_what_is_still_to_handle_and_leaves_resolved_ones_out_by_default() -> None:
    with time_machine.travel(ANSWERED, tick=False):
        waiting, done = unhappy(1), unhappy(2)
    FollowUp.objects.filter(pk=done.pk).update(state=FollowUpState.RESOLVED, outcome="apologised")
    client, _user = manager_client()
    assert listed(client) == [waiting.pk]


def test_with_any_state_the_open_ones_come_before_the_resolved_ones() -> None:
    with time_machine.travel(ANSWERED, tick=False):
        done = unhappy(1)
    with time_machine.travel(ANSWERED + timedelta(days=1), tick=False):
        waiting = unhappy(2)
    FollowUp.objects.filter(pk=done.pk).update(state=FollowUpState.RESOLVED, resolved_at=ANSWERED)
    client, _user = manager_client()
    assert listed(client, state="all") == [waiting.pk, done.pk]


def test_the_longest_overdue_comes_first_and_is_marked() -> None:
    with time_machine.travel(ANSWERED, tick=False):
        older = unhappy(1)
    with time_machine.travel(ANSWERED + timedelta(days=3), tick=False):
        newer = unhappy(2)
        client, _user = manager_client()
        response = client.get(LIST)
    assert [row.pk for row in response.context["rows"]] == [older.pk, newer.pk]
    content = response.content.decode()
    assert f'data-follow-up="{older.pk}" class="table-danger" data-overdue="1"' in content
    assert f'data-follow-up="{newer.pk}">' in content


def test_mine_lists_only_the_follow_ups_assigned_to_me() -> None:
    with time_machine.travel(ANSWERED, tick=False):
        mine, theirs = unhappy(1), unhappy(2)
    client, user = manager_client()
    FollowUp.objects.filter(pk=mine.pk).update(assignee=user)
    FollowUp.objects.filter(pk=theirs.pk).update(assignee=make_user(Role.MANAGER))
    assert listed(client, mine="1") == [mine.pk]


def test_the_follow_up_form_is_styled_with_bootstrap() -> None:
    with time_machine.travel(ANSWERED, tick=False):
        follow_up = unhappy(1)
    client, _user = manager_client()
    content = client.get(reverse("feedback:follow_up", args=[follow_up.pk])).content.decode()
    assert 'class="select form-select' in content and 'id="div_id_state"' in content


def test_the_owner_sets_the_days_to_handle_a_follow_up() -> None:
    owner = Client()
    owner.force_login(make_user(Role.OWNER))
    context = owner.get(reverse("feedback:settings")).context
    form, messaging_form = context["form"], context["messaging_form"]
    data = {name: value for name, value in form.initial.items() if value is not None and value is not False}
    data.update({f"messaging-{name}": value for name, value in messaging_form.initial.items() if name != "id"})
    data.update(enabled="on", follow_up_days="4")
    assert owner.post(reverse("feedback:settings"), data).status_code == 302
    assert FeedbackSettings.load().follow_up_days == 4
