"""Survey invitations and reminders as messages: queued through messaging's outbox, rendered by feedback when they
leave, and settled back onto the invitation in the transaction that records the outcome.

Messaging holds the guarantees (claim before send, each attempt committed before its call, retries, "unknown"
after a dead worker, never resent): see ``messaging.services.sending``. What stays here is the survey's own: its
links (signed when the message leaves, so a link's lifetime counts from sending), its words, its unsubscribe, and
the invitation's state that the reports and the card read."""

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from feedback.links import public_token_sign, survey_path, unsubscribe_path
from feedback.models import Invitation, InvitationChannel, InvitationState, Unsubscribe
from messaging.kinds import SETTLE_NOW, SETTLE_OUTCOMES, MessageKind, Outcome, Rendered, kinds_settle
from messaging.links import base_url
from messaging.models import Message, MessageState, Purpose
from messaging.reasons import MessageReason
from messaging.services import BATCH_SIZE, MessageData, message_send, messages_enqueue, messages_send_now
from shop.models import ShopSettings

logger = logging.getLogger(__name__)

INVITATION_KIND = "survey.invitation"
REMINDER_KIND = "survey.reminder"


def survey_url(invitation: Invitation) -> str:
    return f"{base_url()}{survey_path(invitation)}"


def unsubscribe_url(invitation: Invitation) -> str:
    return f"{base_url()}{unsubscribe_path(invitation)}"


def message_source(order_id: int) -> str:
    """The outbox's name for an order's survey (one invitation and one reminder at most per order)."""
    return f"order:{order_id}"


def invitation_message(invitation: Invitation, *, order_number: str) -> MessageData:
    """The outbox row of an invitation; its text is rendered when it leaves."""
    return MessageData(
        customer_id=invitation.customer_id,
        channel=invitation.channel,
        purpose=Purpose.SERVICE,
        address=invitation.address,
        language=invitation.language,
        kind=INVITATION_KIND,
        source=message_source(invitation.order_id),
        due_at=invitation.due_at,
        context={"token": invitation.public_token, "order_number": order_number},
    )


class _Links:
    """The survey and unsubscribe addresses of many invitations: the URLs are resolved once, then only the signed
    token changes (``reverse`` per message cost more than signing)."""

    SLOT = "SIGNED-TOKEN"

    def __init__(self) -> None:
        base = base_url()
        self.survey = base + reverse("feedback:survey", args=[self.SLOT])
        self.unsubscribe = base + reverse("feedback:unsubscribe", args=[self.SLOT])

    def of(self, token: str) -> tuple[str, str]:
        signed = public_token_sign(token)
        return self.survey.replace(self.SLOT, signed), self.unsubscribe.replace(self.SLOT, signed)


class SurveyRenderer:
    """The email's plain text and HTML, rendered once per language and kind (invitation or reminder) with markers
    where the per-message values go; each message then only puts its own values in (escaped in the HTML).

    The templates must show ``survey_url``, ``unsubscribe_url`` and ``order_number`` as they are (no filters, no
    conditions on them): they see the markers, not the values."""

    MARKERS: ClassVar = {
        "survey_url": "\x1fsurvey_url\x1f",
        "unsubscribe_url": "\x1funsubscribe_url\x1f",
        "order_number": "\x1forder_number\x1f",
    }

    def __init__(self) -> None:
        self.shop_name = ShopSettings.load().name
        self.links = _Links()
        self.text_template = get_template("feedback/email/invitation.txt")
        self.html_template = get_template("feedback/email/invitation.html")
        self.rendered: dict[tuple[str | None, bool], tuple[str, str]] = {}

    def render(self, message: Message) -> Rendered:
        url, unsubscribe = self.links.of(message.context["token"])
        if message.channel == InvitationChannel.SMS:
            return Rendered(text=_("%(shop)s: how was your order? %(url)s") % {"shop": self.shop_name, "url": url})
        reminder = message.kind == REMINDER_KIND
        key = (translation.get_language(), reminder)
        if key not in self.rendered:
            context = {"shop_name": self.shop_name, "reminder": reminder, **self.MARKERS}
            self.rendered[key] = (self.text_template.render(context), self.html_template.render(context))
        text, html = self.rendered[key]
        values = {"survey_url": url, "unsubscribe_url": unsubscribe, "order_number": message.context["order_number"]}
        for name, marker in self.MARKERS.items():
            text, html = text.replace(marker, values[name]), html.replace(marker, escape(values[name]))
        return Rendered(
            text=text,
            html=html,
            subject=_("How was your order from %(shop)s?") % {"shop": self.shop_name},
            # RFC 8058: mail clients offer a one-click unsubscribe (from surveys) that posts to this address.
            headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        )


# The invitation follows its message: sent; failed when it failed or was cancelled, unknown when it may have left
# (both only while it was still due, with the message's reason; in doubt without one, "the worker stopped"); a retry
# leaves it due with the reason. One statement
# that messaging runs inside the statement recording the outcomes (``MessageKind.settle_sql``): no round trip of its
# own per message, and the invitation never disagrees with its message.
INVITATIONS_SETTLE_SQL = f"""
UPDATE {Invitation._meta.db_table} AS i
SET state = CASE o.state WHEN '{MessageState.SENT}' THEN '{InvitationState.SENT}'
                         WHEN '{MessageState.DUE}' THEN i.state
                         WHEN '{MessageState.UNKNOWN}' THEN '{InvitationState.UNKNOWN}'
                         ELSE '{InvitationState.FAILED}' END,
    sent_at = CASE WHEN o.state = '{MessageState.SENT}' THEN {SETTLE_NOW} ELSE i.sent_at END,
    error = CASE WHEN o.state = '{MessageState.SENT}' THEN ''
                 WHEN o.state = '{MessageState.UNKNOWN}' THEN COALESCE(NULLIF(o.error, ''), '{MessageReason.WORKER_STOPPED}')
                 ELSE o.error END
FROM {SETTLE_OUTCOMES} AS o
WHERE i.message_id = o.id
  AND (o.state IN ('{MessageState.SENT}', '{MessageState.DUE}')
       OR (o.state IN ('{MessageState.FAILED}', '{MessageState.CANCELLED}', '{MessageState.UNKNOWN}')
           AND i.state = '{InvitationState.DUE}'))
"""  # noqa: S608 -- our own table name and constants; the values are the outcomes


def invitations_settle(outcomes: Sequence[Outcome], now: datetime) -> None:
    """Settle outcomes onto the invitations outside the sending loop (which runs ``INVITATIONS_SETTLE_SQL`` inside
    its own statement), in the caller's transaction."""
    kinds_settle({INVITATION_KIND: outcomes}, now)


KINDS = (
    MessageKind(INVITATION_KIND, renderer=SurveyRenderer, settle_sql=INVITATIONS_SETTLE_SQL),
    MessageKind(REMINDER_KIND, renderer=SurveyRenderer),
)


def invitation_send(*, invitation_id: int) -> str:
    """Send one waiting invitation's message now, even before its hour (the demo's "send the next survey"),
    through the outbox's claim, so at most once; returns the invitation's state after, or "skipped" when its
    message is not waiting or someone else holds it."""
    message_id = Invitation.objects.filter(pk=invitation_id).values_list("message_id", flat=True).first()
    if message_id is None or message_send(message_id=message_id, early=True) == "skipped":
        return "skipped"
    return str(Invitation.objects.values_list("state", flat=True).get(pk=invitation_id))


def reminders_send(*, limit: int = BATCH_SIZE) -> int:
    """One reminder for sent, unanswered invitations whose reminder is due and whose customer did not unsubscribe;
    returns how many left.

    Claimed with one committed UPDATE of ``reminder_sent_at`` that also queues each reminder (one attempt: a
    reminder is a courtesy, and a second message risks annoying), then sent through the outbox at once."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Invitation.objects.filter(
                state=InvitationState.SENT, reminder_sent_at__isnull=True, reminder_due_at__lte=now
            )
            .exclude(Exists(Unsubscribe.objects.filter(customer_id=OuterRef("customer_id"))))
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("order")
            .only(*_REMINDER_FIELDS)
            .order_by("reminder_due_at")[:limit]
        )
        if not due:
            return 0
        Invitation.objects.filter(pk__in=[invitation.pk for invitation in due]).update(reminder_sent_at=now)
        queued = messages_enqueue(
            items=[
                MessageData(
                    **{
                        **invitation_message(invitation, order_number=invitation.order.external_id).__dict__,
                        "kind": REMINDER_KIND,
                        "due_at": now,
                        "max_attempts": 1,
                    }
                )
                for invitation in due
            ]
        )
    return messages_send_now(ids=list(queued.values()))["sent"]


_REMINDER_FIELDS = (
    "id",
    "order_id",
    "order__external_id",
    "customer_id",
    "channel",
    "address",
    "language",
    "public_token",
    "due_at",
)
