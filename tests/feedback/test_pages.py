from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from feedback.links import survey_path
from feedback.models import FeedbackSettings, FollowUp, FollowUpComment, FollowUpState, Invitation
from feedback.services import invitations_schedule
from messaging.models import MessagingSettings
from shop.roles import Role
from tests.feedback.helpers import consent, deliver

pytestmark = pytest.mark.django_db
ClientFor = Callable[[str | None], Client]


@pytest.fixture
def follow_up(client: Client) -> FollowUp:
    order = deliver()
    consent(order)
    invitations_schedule(order_ids=[order.pk])
    invitation = Invitation.objects.get()
    client.post(
        survey_path(invitation),
        {"product_score": "1", "service_score": "1", "recommend_score": "0", "comment": "Сломано"},
    )
    return FollowUp.objects.get()


@pytest.mark.parametrize(("role", "status"), [(Role.MANAGER, 200), (Role.OWNER, 200), (Role.OPERATOR, 403)])
def test_follow_up_list_is_for_managers(client_for: ClientFor, follow_up: FollowUp, role: str, status: int) -> None:
    response = client_for(role).get(reverse("feedback:follow_ups"))
    assert response.status_code == status
    if status == 200:
        assert "Сломано" in response.content.decode()


def test_manager_assigns_comments_and_resolves_with_an_outcome(
    client_for: ClientFor, manager: object, follow_up: FollowUp
) -> None:
    client = client_for(Role.MANAGER)
    url = reverse("feedback:follow_up", args=[follow_up.pk])
    refused = client.post(url, {"state": FollowUpState.RESOLVED, "outcome": "", "comment": ""})
    assert refused.status_code == 200
    follow_up.refresh_from_db()
    assert follow_up.state == FollowUpState.OPEN
    response = client.post(
        url, {"state": FollowUpState.RESOLVED, "outcome": "apologised", "comment": "Позвонили, извинились"}
    )
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert (follow_up.state, follow_up.outcome) == (FollowUpState.RESOLVED, "apologised")
    assert FollowUpComment.objects.get().text == "Позвонили, извинились"


def test_operator_cannot_resolve_a_follow_up(client_for: ClientFor, follow_up: FollowUp) -> None:
    url = reverse("feedback:follow_up", args=[follow_up.pk])
    response = client_for(Role.OPERATOR).post(url, {"state": FollowUpState.RESOLVED, "outcome": "apologised"})
    assert response.status_code == 403
    follow_up.refresh_from_db()
    assert follow_up.state == FollowUpState.OPEN


@pytest.mark.parametrize(("role", "status"), [(Role.OWNER, 200), (Role.MANAGER, 403), (Role.OPERATOR, 403)])
def test_survey_settings_are_owner_only(client_for: ClientFor, role: str, status: int) -> None:
    assert client_for(role).get(reverse("feedback:settings")).status_code == status


def test_settings_defaults_suit_a_russian_shop() -> None:
    config, quiet = FeedbackSettings.load(), MessagingSettings.load()
    assert (config.timing_mode, config.next_day_hour, quiet.quiet_from, quiet.quiet_until) == ("next_day", 12, 21, 9)
    assert (config.cap_days, config.reminder_days, config.link_days) == (30, 3, 14)


def test_owner_changes_the_frequency_cap(client_for: ClientFor) -> None:
    data = {
        "enabled": "on", "timing_mode": "after_hours", "after_hours": "3", "next_day_hour": "12",
        "messaging-quiet_from": "22", "messaging-quiet_until": "8", "messaging-cap_messages": "2",
        "messaging-cap_days": "10", "cap_days": "60", "reminder_days": "0", "link_days": "7", "channel_preference": "sms_first",
        "follow_up_days": "2",
    }  # fmt: skip
    assert client_for(Role.OWNER).post(reverse("feedback:settings"), data).status_code == 302
    assert FeedbackSettings.load().cap_days == 60
    quiet = MessagingSettings.load()
    assert (quiet.quiet_from, quiet.quiet_until, quiet.cap_messages, quiet.cap_days) == (22, 8, 2, 10)


def test_reports_show_nps_for_managers_and_not_operators(client_for: ClientFor, follow_up: FollowUp) -> None:
    response = client_for(Role.MANAGER).get(reverse("feedback:reports") + "?period=week")
    assert response.status_code == 200
    assert "-100.0" in response.content.decode()
    assert "chart.umd.min.js" in response.content.decode()
    assert client_for(Role.OPERATOR).get(reverse("feedback:reports")).status_code == 403
