"""Sending survey invitations and reminders at most once, in batches.

The contract, which the stale-claim sweep below relies on:

1. A batch is claimed with one committed UPDATE (rows chosen with ``SELECT … FOR UPDATE SKIP LOCKED``, so parallel
   senders take different rows); every row of the batch gets the same ``claim`` token. Committed before any
   message leaves, so a worker killed after the outside call can never leave its row claimable again.
2. The worker sends the batch's rows in ``SENDING_ORDER`` (emails one by one over one connection, then SMS in the
   provider's batches), and records the outcomes (sent, retry later, failed) with one transaction per
   ``MARK_EVERY`` messages (sooner if a second has passed). PostgreSQL pays a WAL flush per commit; one per
   message cost more than the sending itself. What is in flight plus what is not yet recorded never exceeds
   ``MARK_EVERY``.
3. So when a worker dies, at most ``MARK_EVERY`` rows of its claim were attempted and not recorded, and they are
   the first rows still "sending" in ``SENDING_ORDER``: those become "unknown" for a person to check (they may have
   reached the customer); the rows after them were never attempted and go back to "due". Lowering
   ``MARK_EVERY`` while an old claim is still in flight would break this; raising it is always safe.
"""

import contextlib
import logging
import smtplib
import time as clock
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from feedback.links import survey_path, token_sign, unsubscribe_path
from feedback.models import Invitation, InvitationChannel, InvitationState, Unsubscribe
from feedback.sms import SmsBackend, SmsMessage, sms_backend
from shop.models import ShopSettings

logger = logging.getLogger(__name__)

# A "sending" row older than this belongs to a worker that died (the task's hard time limit is 10 minutes).
CLAIM_TIMEOUT = timedelta(minutes=10)
MAX_ATTEMPTS = 4
BATCH_SIZE = 500
# Outcomes are recorded every this many messages (see the module's contract before lowering it).
MARK_EVERY = 50
MARK_SECONDS = 1.0
SENDING_ORDER = ("channel", "pk")
_SENDING_FIELDS = ("id", "order__external_id", "channel", "address", "language", "public_token", "attempts")


def _base_url() -> str:
    return str(getattr(settings, "PUBLIC_BASE_URL", "http://localhost:8000")).rstrip("/")


def survey_url(invitation: Invitation) -> str:
    return f"{_base_url()}{survey_path(invitation)}"


def unsubscribe_url(invitation: Invitation) -> str:
    return f"{_base_url()}{unsubscribe_path(invitation)}"


class _Links:
    """The survey and unsubscribe addresses of many invitations: the URLs are resolved once, then only the signed
    token changes (``reverse`` per message cost more than signing)."""

    SLOT = "SIGNED-TOKEN"

    def __init__(self) -> None:
        base = _base_url()
        self.survey = base + reverse("feedback:survey", args=[self.SLOT])
        self.unsubscribe = base + reverse("feedback:unsubscribe", args=[self.SLOT])

    def of(self, invitation: Invitation) -> tuple[str, str]:
        signed = token_sign(invitation)
        return self.survey.replace(self.SLOT, signed), self.unsubscribe.replace(self.SLOT, signed)


class _Bodies:
    """The email's plain text and HTML, rendered once per language and kind (invitation or reminder) with markers
    where the per-message values go; each message then only puts its own values in (escaped in the HTML).

    The templates must show ``survey_url``, ``unsubscribe_url`` and ``order_number`` as they are (no filters, no
    conditions on them): they see the markers, not the values."""

    MARKERS: ClassVar = {
        "survey_url": "\x1fsurvey_url\x1f",
        "unsubscribe_url": "\x1funsubscribe_url\x1f",
        "order_number": "\x1forder_number\x1f",
    }

    def __init__(self, shop_name: str) -> None:
        self.shop_name = shop_name
        self.text_template = get_template("feedback/email/invitation.txt")
        self.html_template = get_template("feedback/email/invitation.html")
        self.rendered: dict[tuple[str, bool], tuple[str, str]] = {}

    def render(self, *, reminder: bool, values: dict[str, str]) -> tuple[str, str]:
        key = (translation.get_language(), reminder)
        if key not in self.rendered:
            context = {"shop_name": self.shop_name, "reminder": reminder, **self.MARKERS}
            self.rendered[key] = (self.text_template.render(context), self.html_template.render(context))
        text, html = self.rendered[key]
        for name, marker in self.MARKERS.items():
            text, html = text.replace(marker, values[name]), html.replace(marker, escape(values[name]))
        return text, html


class _Sender:
    """Everything a batch needs once: the shop's name, the compiled templates, one email connection (opened on the
    first email) and the SMS backend. Use as a context manager so the connection is closed."""

    def __init__(self) -> None:
        self.shop_name = ShopSettings.load().name
        self.bodies = _Bodies(self.shop_name)
        self.connection = get_connection()
        self.links = _Links()
        self._sms: SmsBackend | None = None
        self._opened = False

    def __enter__(self) -> "_Sender":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._opened:
            self.connection.close()
        if self._sms is not None:
            self._sms.close()

    @property
    def sms(self) -> SmsBackend:
        if self._sms is None:
            self._sms = sms_backend()
        return self._sms

    def groups(self, invitations: Sequence[Invitation]) -> Iterator[list[Invitation]]:
        """The invitations (already in sending order) as the groups that go out in one call each: an email alone,
        consecutive SMS up to the provider's batch size (never more than ``MARK_EVERY``)."""
        size = max(1, min(self.sms.batch_size, MARK_EVERY))
        group: list[Invitation] = []
        for invitation in invitations:
            if invitation.channel == InvitationChannel.SMS and len(group) < size:
                group.append(invitation)
                continue
            if group:
                yield group
                group = []
            if invitation.channel == InvitationChannel.SMS:
                group.append(invitation)
            else:
                yield [invitation]
        if group:
            yield group

    def deliver(self, group: Sequence[Invitation], *, reminder: bool) -> list[str | None]:
        """Send one group; per invitation None when it left, else the provider's reason. Raises when the whole
        call failed."""
        if group[0].channel == InvitationChannel.EMAIL:
            (invitation,) = group
            with translation.override(invitation.language or "ru"):
                url, unsubscribe = self.links.of(invitation)
                self._email(invitation, url=url, unsubscribe=unsubscribe, reminder=reminder)
            return [None]
        messages = []
        for invitation in group:
            with translation.override(invitation.language or "ru"):
                url, _unsubscribe = self.links.of(invitation)
                text = _("%(shop)s: how was your order? %(url)s") % {"shop": self.shop_name, "url": url}
            messages.append(
                SmsMessage(phone=invitation.address, text=text, message_id=f"{invitation.pk}-{int(reminder)}")
            )
        return self.sms.send_many(messages)

    def _email(self, invitation: Invitation, *, url: str, unsubscribe: str, reminder: bool) -> None:
        text, html = self.bodies.render(
            reminder=reminder,
            values={"survey_url": url, "unsubscribe_url": unsubscribe, "order_number": invitation.order.external_id},
        )
        message = EmailMultiAlternatives(
            subject=_("How was your order from %(shop)s?") % {"shop": self.shop_name},
            body=text,
            to=[invitation.address],
            headers={
                "Message-ID": f"<feedback-{invitation.public_token}-{int(reminder)}@retain>",
                # RFC 8058: mail clients offer a one-click unsubscribe that posts to this address.
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
            connection=self.connection,
        )
        message.attach_alternative(html, "text/html")
        if not self._opened:
            self.connection.open()
            self._opened = True
        # One message per call over the open connection, so each message has its own outcome.
        try:
            sent = self.connection.send_messages([message])
        except Exception:
            # A dropped SMTP session fails every later call on it: the next email opens a fresh one.
            self._close_connection()
            raise
        if sent != 1:
            raise RuntimeError("The email backend did not accept the message.")

    def _close_connection(self) -> None:
        # Saying goodbye on a broken session may fail in turn; the session is being dropped either way.
        with contextlib.suppress(OSError, smtplib.SMTPException):
            self.connection.close()
        self._opened = False


@dataclass
class _Outcomes:
    """Outcomes waiting to be recorded; written in one transaction by :meth:`flush`."""

    sent: list[int] = field(default_factory=list)
    retry: list[tuple[int, int, str]] = field(default_factory=list)  # id, attempts, error
    unknown: list[int] = field(default_factory=list)
    flushed_at: float = field(default_factory=clock.monotonic)

    def __len__(self) -> int:
        return len(self.sent) + len(self.retry) + len(self.unknown)

    def due(self) -> bool:
        return len(self) >= MARK_EVERY or (len(self) > 0 and clock.monotonic() - self.flushed_at >= MARK_SECONDS)

    def flush(self) -> None:
        now = timezone.now()
        with transaction.atomic():
            if self.sent:
                Invitation.objects.filter(pk__in=self.sent, state=InvitationState.SENDING).update(
                    state=InvitationState.SENT, sent_at=now, error=""
                )
            for pk, attempts, error in self.retry:
                if attempts >= MAX_ATTEMPTS:
                    Invitation.objects.filter(pk=pk).update(state=InvitationState.FAILED, error=error)
                else:
                    Invitation.objects.filter(pk=pk).update(
                        state=InvitationState.DUE, due_at=now + timedelta(minutes=2**attempts), error=error
                    )
            if self.unknown:
                Invitation.objects.filter(pk__in=self.unknown, state=InvitationState.SENDING).update(
                    state=InvitationState.UNKNOWN, error=_("The send was interrupted; the message may have left.")
                )
        self.sent, self.retry, self.unknown = [], [], []
        self.flushed_at = clock.monotonic()


def invitations_claim(*, limit: int = BATCH_SIZE, now: datetime | None = None) -> list[Invitation]:
    """Claim up to ``limit`` due invitations with one committed UPDATE; returns them in ``SENDING_ORDER``.

    Locks the chosen rows with SKIP LOCKED only for the claim's own short transaction."""
    now = now or timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            Invitation.objects.due(now)
            .select_for_update(skip_locked=True)
            .order_by("due_at")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        Invitation.objects.filter(pk__in=ids).update(
            state=InvitationState.SENDING, claim=token, claimed_at=now, attempts=F("attempts") + 1
        )
    return list(
        Invitation.objects.filter(pk__in=ids, claim=token)
        .select_related("order")
        .only(*_SENDING_FIELDS)
        .order_by(*SENDING_ORDER)
    )


def invitations_send(invitations: Sequence[Invitation]) -> dict[str, int]:
    """Send claimed invitations (in ``SENDING_ORDER``) and record their outcomes every ``MARK_EVERY`` messages.

    A backend error puts the row back to due with a backoff of 2^attempts minutes, or marks it failed with the
    error after ``MAX_ATTEMPTS``. A soft time limit in the middle marks the message in flight unknown, gives the
    rows not attempted back, and re-raises. Returns the counts by outcome."""
    counts = {"sent": 0, "retry": 0}
    outcomes = _Outcomes()
    done = 0
    with _Sender() as sender:
        for group in sender.groups(invitations):
            # What is in flight plus what is not yet recorded never exceeds MARK_EVERY (the sweep relies on it).
            if len(outcomes) + len(group) > MARK_EVERY:
                outcomes.flush()
            try:
                errors = sender.deliver(group, reminder=False)
            except SoftTimeLimitExceeded:
                outcomes.unknown.extend(invitation.pk for invitation in group)
                outcomes.flush()
                _release([invitation.pk for invitation in invitations[done + len(group) :]])
                raise
            except Exception as error:  # Any backend error is recorded on the rows, never lost.
                errors = [str(error)] * len(group)
            for invitation, problem in zip(group, errors, strict=True):
                if problem is None:
                    outcomes.sent.append(invitation.pk)
                    counts["sent"] += 1
                else:
                    logger.warning("survey invitation %s not sent: %s", invitation.pk, problem)
                    outcomes.retry.append((invitation.pk, invitation.attempts, problem[:2000]))
                    counts["retry"] += 1
            done += len(group)
            if outcomes.due():
                outcomes.flush()
        outcomes.flush()
    return counts


def _release(ids: list[int]) -> int:
    """Give claimed rows that were never attempted back to the outbox, without counting an attempt."""
    return Invitation.objects.filter(pk__in=ids, state=InvitationState.SENDING).update(
        state=InvitationState.DUE, claim=None, claimed_at=None, attempts=F("attempts") - 1
    )


def invitations_send_batch(*, limit: int = BATCH_SIZE) -> int:
    """Claim one batch and send it; returns how many rows the batch had (a full batch means more may wait)."""
    batch = invitations_claim(limit=limit)
    if batch:
        invitations_send(batch)
    return len(batch)


def invitation_send(*, invitation_id: int) -> str:
    """Send one due invitation now (claimed like a batch of one); returns its state after, or "skipped" when it was
    not due or someone else holds it."""
    with transaction.atomic():
        due = Invitation.objects.select_for_update(skip_locked=True).filter(pk=invitation_id, state=InvitationState.DUE)
        if not due.exists():
            return "skipped"
        token = uuid.uuid4()
        due.update(state=InvitationState.SENDING, claim=token, claimed_at=timezone.now(), attempts=F("attempts") + 1)
    invitations_send(list(Invitation.objects.select_related("order").only(*_SENDING_FIELDS).filter(pk=invitation_id)))
    return str(Invitation.objects.values_list("state", flat=True).get(pk=invitation_id))


def invitations_mark_stale_claims(*, now: datetime | None = None) -> int:
    """Settle the claims of workers that died: per claim older than ``CLAIM_TIMEOUT``, the first ``MARK_EVERY`` rows
    still "sending" (in ``SENDING_ORDER``) may have left and become "unknown" (never resent, at most once as promised); the rows after
    them were never attempted and go back to "due". Returns how many became unknown."""
    now = now or timezone.now()
    stale = (
        Invitation.objects.filter(state=InvitationState.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
        .order_by("claim", *SENDING_ORDER)
        .values_list("pk", "claim")
    )
    uncertain: list[int] = []
    untouched: list[int] = []
    seen: dict[Any, int] = {}
    for pk, claim in stale:
        seen[claim] = seen.get(claim, 0) + 1
        # A row claimed before claims had tokens (claim is None) is treated as possibly sent.
        (uncertain if claim is None or seen[claim] <= MARK_EVERY else untouched).append(pk)
    with transaction.atomic():
        unknown = Invitation.objects.filter(pk__in=uncertain, state=InvitationState.SENDING).update(
            state=InvitationState.UNKNOWN, error=_("The worker stopped while sending; the message may have left.")
        )
        _release(untouched)
    return unknown


def reminders_send(*, limit: int = BATCH_SIZE) -> int:
    """One reminder for sent, unanswered invitations whose reminder is due and whose customer did not unsubscribe.

    Claimed with one committed UPDATE of ``reminder_sent_at`` before sending, so a reminder goes at most once;
    a reminder that fails is not retried (it is a courtesy, and a second message risks annoying)."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Invitation.objects.filter(
                state=InvitationState.SENT, reminder_sent_at__isnull=True, reminder_due_at__lte=now
            )
            .exclude(Exists(Unsubscribe.objects.filter(customer_id=OuterRef("customer_id"))))
            .select_for_update(skip_locked=True)
            .order_by("reminder_due_at")
            .values_list("id", flat=True)[:limit]
        )
        Invitation.objects.filter(pk__in=ids).update(reminder_sent_at=now)
    sent = 0
    with _Sender() as sender:
        for group in sender.groups(list(_in_sending_order(ids))):
            try:
                errors = sender.deliver(group, reminder=True)
            except Exception as error:  # A reminder is a courtesy; its claim already stops a second one.
                errors = [str(error)] * len(group)
            for invitation, problem in zip(group, errors, strict=True):
                if problem is None:
                    sent += 1
                else:
                    logger.warning("survey reminder %s not sent: %s", invitation.pk, problem)
    return sent


def _in_sending_order(ids: list[int]) -> Iterator[Invitation]:
    yield from (
        Invitation.objects.filter(pk__in=ids).select_related("order").only(*_SENDING_FIELDS).order_by(*SENDING_ORDER)
    )
