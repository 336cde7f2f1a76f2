"""seed_feedback gives the demo shop survey data that the live rules could have produced: invitations by consent,
answers only to sent surveys, a follow-up and the answer's churn signals for every unhappy answer, nothing dated in
the future."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from feedback.models import (
    FollowUp,
    FollowUpComment,
    FollowUpState,
    Invitation,
    InvitationChannel,
    InvitationSkip,
    InvitationState,
    Response,
    SkipReason,
)
from feedback.services import COMPLAINT_WEIGHT, DETRACTOR_WEIGHT, follow_up_source, response_source
from orders.models import Order, OrderStatus
from scoring.models import ChurnSignal
from shop.roles import Role
from tests.factories import make_manager

pytestmark = pytest.mark.django_db
ClientFor = Callable[[str | None], Client]


def seed_feedback(**options: object) -> str:
    out = StringIO()
    call_command("seed_feedback", stdout=out, **options)
    return out.getvalue()


# The seeds write data relative to today: a fixed today makes the seeded shop the same on every day CI runs.
TODAY = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_today() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def shop() -> None:
    call_command("seed_demo", customers=300, seed=11, stdout=StringIO())


@pytest.fixture
def seeded(shop: None) -> str:
    return seed_feedback(seed=5)


def test_every_recent_delivered_order_gets_an_invitation_or_a_skip(seeded: str) -> None:
    recent = (
        Order.objects.filter(status=OrderStatus.DELIVERED)
        .annotate(delivered=Coalesce("delivered_at", "status_changed_at"))
        .filter(delivered__gte=timezone.now() - timedelta(days=180))
    )
    handled = Invitation.objects.count() + InvitationSkip.objects.count()
    assert handled >= recent.count() > 100
    assert Invitation.objects.exclude(order__status=OrderStatus.DELIVERED).count() == 0


def test_counts_are_plausible(seeded: str) -> None:
    sent = Invitation.objects.filter(sent_at__isnull=False).count()
    answers = Response.objects.count()
    assert 0.25 < answers / sent < 0.45
    detractors = Response.objects.filter(recommend_score__lte=6).count()
    promoters = Response.objects.filter(recommend_score__gte=9).count()
    assert 0.04 < detractors / answers < 0.22
    assert promoters > answers / 2
    assert Response.objects.exclude(comment="").exists()
    assert set(FollowUp.objects.values_list("state", flat=True)) == set(FollowUpState.values)
    assert FollowUp.objects.filter(state=FollowUpState.RESOLVED).exclude(outcome="").exists()
    assert FollowUpComment.objects.exists()
    assert f"{answers:,} answers" in seeded


def test_invitations_follow_consent_and_skips_say_why(seeded: str) -> None:
    assert not Invitation.objects.filter(channel=InvitationChannel.EMAIL, customer__email_consent=False).exists()
    assert not Invitation.objects.filter(channel=InvitationChannel.SMS, customer__sms_consent=False).exists()
    no_consent = InvitationSkip.objects.filter(reason=SkipReason.NO_CONSENT)
    assert no_consent.exists()
    consenting = Customer.objects.filter(Q(email_consent=True) | Q(sms_consent=True))
    assert not no_consent.filter(customer__in=consenting).exists()


def test_every_answer_belongs_to_a_sent_invitation_answered_after_sending(seeded: str) -> None:
    answers = Response.objects.select_related("invitation")
    assert answers.exists()
    for answer in answers:
        assert answer.invitation.state == InvitationState.ANSWERED
        assert answer.invitation.sent_at is not None
        assert answer.invitation.sent_at < answer.created_at
        assert answer.customer_id == answer.invitation.customer_id
    assert Invitation.objects.filter(state=InvitationState.ANSWERED).count() == answers.count()


def test_unhappy_answers_have_follow_ups_and_the_live_signals(seeded: str) -> None:
    unhappy = Response.objects.filter(
        Q(recommend_score__lte=6) | Q(product_score__lte=2) | Q(service_score__lte=2)
    ).select_related("follow_up")
    assert unhappy.exists()
    for answer in unhappy:
        follow_up = answer.follow_up
        complaint = ChurnSignal.objects.get(kind=ChurnSignal.Kind.COMPLAINT, source=follow_up_source(follow_up))
        assert complaint.customer_id == answer.customer_id
        assert complaint.weight == COMPLAINT_WEIGHT
        # Resolving clears the complaint, as follow_up_update does; an open one still counts against the customer.
        assert (complaint.cleared_at is None) == (follow_up.state != FollowUpState.RESOLVED)
        if answer.is_detractor:
            detractor = ChurnSignal.objects.get(kind=ChurnSignal.Kind.DETRACTOR, source=response_source(answer))
            assert detractor.weight == DETRACTOR_WEIGHT
            assert (
                detractor.detail
                == f"recommend {answer.recommend_score}/10, purchase {answer.product_score}/5, service {answer.service_score}/5"
            )
            assert detractor.cleared_at is None
    assert FollowUp.objects.count() == unhappy.count()
    happy_sources = [response_source(answer) for answer in Response.objects.exclude(pk__in=unhappy)]
    assert not ChurnSignal.objects.filter(source__in=happy_sources).exists()


def test_follow_ups_go_to_the_demo_manager(shop: None) -> None:
    make_manager(username="manager")
    seed_feedback(seed=5)
    assert FollowUp.objects.filter(state=FollowUpState.IN_PROGRESS, assignee__username="manager").exists()
    assert not FollowUp.objects.filter(state=FollowUpState.IN_PROGRESS, assignee__isnull=True).exists()


def test_nothing_is_dated_in_the_future(seeded: str) -> None:
    now = timezone.now()
    latest = [
        Invitation.objects.aggregate(a=Max("created_at"), b=Max("sent_at"), c=Max("reminder_sent_at")),
        Response.objects.aggregate(a=Max("created_at")),
        FollowUp.objects.aggregate(a=Max("created_at"), b=Max("resolved_at")),
        FollowUpComment.objects.aggregate(a=Max("created_at")),
        ChurnSignal.objects.aggregate(a=Max("raised_at"), b=Max("cleared_at")),
    ]
    assert all(moment <= now for row in latest for moment in row.values() if moment is not None)
    assert not Invitation.objects.filter(sent_at__isnull=True, state=InvitationState.SENT).exists()
    assert not Invitation.objects.filter(due_at__gt=now).exclude(state=InvitationState.DUE).exists()


def test_if_empty_leaves_the_answers_alone(seeded: str) -> None:
    before = (Invitation.objects.count(), Response.objects.count(), ChurnSignal.objects.count())
    assert "left as it is" in seed_feedback(if_empty=True)
    assert (Invitation.objects.count(), Response.objects.count(), ChurnSignal.objects.count()) == before


def test_a_second_run_adds_nothing_for_orders_already_handled(seeded: str) -> None:
    before = (Invitation.objects.count(), InvitationSkip.objects.count(), Response.objects.count())
    seed_feedback(seed=6)
    assert (Invitation.objects.count(), InvitationSkip.objects.count(), Response.objects.count()) == before


def test_the_same_seed_gives_the_same_answers(shop: None, monkeypatch: pytest.MonkeyPatch) -> None:
    frozen = datetime.now(tz=UTC)
    monkeypatch.setattr(timezone, "now", lambda: frozen)

    def answers() -> list[tuple[int, int, int, int, str]]:
        return list(
            Response.objects.order_by("invitation__order_id").values_list(
                "invitation__order_id", "recommend_score", "product_score", "service_score", "comment"
            )
        )

    seed_feedback(seed=5)
    first = answers()
    Invitation.objects.all().delete()
    InvitationSkip.objects.all().delete()
    ChurnSignal.objects.all().delete()
    seed_feedback(seed=5)
    assert answers() == first


def test_reports_show_the_seeded_answers(seeded: str, client_for: ClientFor) -> None:
    response = client_for(Role.OWNER).get(reverse("feedback:reports"), {"period": "month"})
    assert response.status_code == 200
    assert response.context["totals"]["answered"] > 0
    follow_ups = client_for(Role.MANAGER).get(reverse("feedback:follow_ups"))
    assert follow_ups.status_code == 200
