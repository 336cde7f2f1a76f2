"""Sending the outbox at most once, in batches.

The contract, which the stale-claim sweep below relies on:

1. A batch is claimed with one committed UPDATE (rows chosen with ``SELECT … FOR UPDATE SKIP LOCKED``, so parallel
   senders take different rows); every row of the batch gets the same ``claim`` token, no ``attempted_at``, and the
   database server's start time (``claimed_on``). This commit waits for the disk, as every other write here does.
2. The worker sends the batch in ``SENDING_ORDER`` (emails one by one over one connection, then SMS in the
   provider's groups). Just before each group's provider call, one transaction — one statement with the kinds'
   SQL settles, plus any Python settle hooks' statements — records the previous group's outcomes and sets
   ``attempted_at`` on this group's rows: only on rows still claimed by this batch and, for marketing, only where the
   customer's consent on the channel holds at that moment (the rest are cancelled just after). It commits without waiting for the disk (``messaging.services.recording``):
   visible to all and kept when the worker dies, lost only if PostgreSQL itself crashes within a fraction of a second.
3. So when a worker dies, only the group in flight is attempted and not settled (one email, or one provider call of
   SMS): those rows become "unknown" for a person to check, or go out again with the same client id where the
   provider drops a second copy (``messaging.backends``). Rows without ``attempted_at`` never left and go back to
   "due" — unless the claim was made under an earlier run of the database server, whose crash may have lost
   attempts: then every row the claim still held is treated as one that may have left.
"""

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.db.models import DateTimeField, F, Func, Q
from django.utils import timezone

from messaging.backends import email_deduplicates, sms_deduplicates
from messaging.kinds import Outcome, kinds_settle
from messaging.models import Channel, Message, MessageState
from messaging.reasons import MessageReason, failure_reason, reason_store
from messaging.services.capping import messages_over_cap
from messaging.services.delivery import Sender
from messaging.services.recording import Recorder

logger = logging.getLogger(__name__)

# A "sending" row older than this belongs to a worker that died (the task's hard time limit is 10 minutes).
CLAIM_TIMEOUT = timedelta(minutes=10)
MAX_ATTEMPTS = 4
BATCH_SIZE = 500
SENDING_ORDER = ("channel", "pk")
_SENDING_FIELDS = (
    "id",
    "customer_id",
    "channel",
    "purpose",
    "address",
    "language",
    "kind",
    "source",
    "subject",
    "body",
    "html",
    "context",
    "attempts",
    "max_attempts",
    "claim",
)


def _deduplicating_channels() -> list[str]:
    return [
        channel
        for channel, deduplicates in ((Channel.EMAIL, email_deduplicates()), (Channel.SMS, sms_deduplicates()))
        if deduplicates
    ]


def messages_claim(
    *, limit: int = BATCH_SIZE, now: datetime | None = None, ids: Sequence[int] | None = None, early: bool = False
) -> list[Message]:
    """Claim up to ``limit`` due messages (of ``ids`` if given; with ``early``, waiting ones before their hour too)
    with one committed UPDATE; returns them in ``SENDING_ORDER``. Locks the chosen rows with SKIP LOCKED only for
    the claim's own short transaction."""
    now = now or timezone.now()
    token = uuid.uuid4()
    due = Message.objects.filter(state=MessageState.DUE) if early else Message.objects.due(now)
    if ids is not None:
        due = due.filter(pk__in=ids)
    with transaction.atomic():
        chosen = list(due.select_for_update(skip_locked=True).order_by("due_at").values_list("id", flat=True)[:limit])
        if not chosen:
            return []
        over_cap = messages_over_cap(chosen, now=now)
        Message.objects.filter(pk__in=chosen).exclude(pk__in=over_cap).update(
            state=MessageState.SENDING, claim=token, claimed_at=now, claimed_on=_server_started(), attempted_at=None
        )
    return list(Message.objects.filter(pk__in=chosen, claim=token).only(*_SENDING_FIELDS).order_by(*SENDING_ORDER))


def messages_send(messages: Sequence[Message]) -> dict[str, int]:
    """Send claimed messages (in ``SENDING_ORDER``), each group's attempt committed just before its call.

    A backend error puts the row back to due with a backoff of 2^attempts minutes, or marks it failed with the
    error after its ``max_attempts``. A soft time limit in the middle settles the group in flight like a dead
    worker's (unknown, or due again where the provider deduplicates), gives the rows not attempted back, and
    re-raises. Returns the counts by outcome."""
    counts = {"sent": 0, "retry": 0, "cancelled": 0}
    if not messages:
        return counts
    outcomes = Recorder()
    with Sender() as sender:
        for group in sender.groups(messages):
            leaving = outcomes.attempt(group, timezone.now())
            counts["cancelled"] += len(group) - len(leaving)
            if not leaving:
                continue
            try:
                errors = sender.deliver(leaving)
            except SoftTimeLimitExceeded:
                resend = leaving[0].channel in _deduplicating_channels()
                for message in leaving:
                    if resend:
                        outcomes.add(message, MessageState.DUE, reason_store(MessageReason.INTERRUPTED_RESENT))
                    else:
                        outcomes.add(message, MessageState.UNKNOWN, reason_store(MessageReason.INTERRUPTED))
                with transaction.atomic():
                    outcomes.write()
                    _release(claim=messages[0].claim)
                raise
            except Exception as error:  # Any backend error is recorded on the rows, never lost.
                errors = [failure_reason(error)] * len(leaving)
            else:
                errors = [
                    None if problem is None else reason_store(MessageReason.PROVIDER, detail=problem)
                    for problem in errors
                ]
            for message, problem in zip(leaving, errors, strict=True):
                if problem is None:
                    outcomes.add(message, MessageState.SENT, provider_id=sender.provider_id(message))
                    counts["sent"] += 1
                else:
                    logger.warning("message %s not sent: %s", message.pk, problem)
                    outcomes.add(message, MessageState.DUE, problem)
                    counts["retry"] += 1
        with transaction.atomic():
            outcomes.write()
    return counts


def _release(*, claim: uuid.UUID | None) -> int:
    """Give a claim's rows that were never attempted back to the outbox."""
    return Message.objects.filter(claim=claim, state=MessageState.SENDING, attempted_at__isnull=True).update(
        state=MessageState.DUE, claim=None, claimed_at=None
    )


def messages_send_batch(*, limit: int = BATCH_SIZE) -> int:
    """Claim one batch and send it; returns how many rows the batch had (a full batch means more may wait)."""
    batch = messages_claim(limit=limit)
    if batch:
        messages_send(batch)
    return len(batch)


def messages_send_now(*, ids: Sequence[int]) -> dict[str, int]:
    """Claim the given messages that are due and send them at once (claimed like any batch)."""
    batch = messages_claim(limit=max(len(ids), 1), ids=ids)
    return messages_send(batch)


def message_send(*, message_id: int, early: bool = False) -> str:
    """Send one due message now (with ``early``, also one whose hour has not come); returns its state after, or
    "skipped" when it was not waiting or someone else holds it. Claimed like a batch: at most once."""
    if not messages_claim(limit=1, ids=[message_id], early=early):
        return "skipped"
    messages_send(list(Message.objects.only(*_SENDING_FIELDS).filter(pk=message_id)))
    return str(Message.objects.values_list("state", flat=True).get(pk=message_id))


def _server_started() -> Func:
    """The current PostgreSQL server's start time, read in SQL (see ``Message.claimed_on``)."""
    return Func(function="pg_postmaster_start_time", output_field=DateTimeField())


def may_have_left() -> Q:
    """Of a dead worker's claimed rows, those that may have reached the customer: attempted within the claim, or
    claimed under an earlier run of the database server — a server crash may have lost their attempts, which are
    committed without waiting for the disk (``messaging.services.recording``)."""
    return Q(attempted_at__isnull=False) | (Q(claimed_on__isnull=False) & ~Q(claimed_on=_server_started()))


def messages_mark_stale_claims(*, now: datetime | None = None) -> int:
    """Settle the claims of workers that died (claimed longer than ``CLAIM_TIMEOUT`` ago): rows that may have left
    (:func:`may_have_left`) become "unknown" (never resent: at most once, as promised), or go out again with the
    same client id where the channel's provider drops a second copy; the others never left and go back to "due".
    Returns how many became unknown."""
    now = now or timezone.now()
    stale = Message.objects.filter(state=MessageState.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)
    uncertain = stale.filter(may_have_left())
    resend = uncertain.filter(channel__in=_deduplicating_channels(), attempts__lt=F("max_attempts"))
    with transaction.atomic():
        resend_ids = list(resend.select_for_update().values_list("pk", flat=True))
        Message.objects.filter(pk__in=resend_ids).update(
            # Its due time is unchanged (already past): it goes with the next batch.
            state=MessageState.DUE,
            claim=None,
            claimed_at=None,
            claimed_on=None,
            attempted_at=None,
            error=reason_store(MessageReason.WORKER_STOPPED_RESENT),
        )
        rows = list(uncertain.exclude(pk__in=resend_ids).select_for_update().values_list("pk", "kind", "attempted_at"))
        errors = {
            True: reason_store(MessageReason.WORKER_STOPPED),
            False: reason_store(MessageReason.DATABASE_RESTARTED),
        }
        for attempted, error in errors.items():
            ids = [pk for pk, _kind, attempted_at in rows if (attempted_at is not None) == attempted]
            Message.objects.filter(pk__in=ids).update(state=MessageState.UNKNOWN, error=error)
        stale.update(state=MessageState.DUE, claim=None, claimed_at=None, claimed_on=None)
        recorded: dict[str, list[Outcome]] = {}
        for pk, kind, attempted_at in rows:
            recorded.setdefault(kind, []).append(Outcome(pk, MessageState.UNKNOWN, errors[attempted_at is not None]))
        kinds_settle(recorded, now)
    return len(rows)
