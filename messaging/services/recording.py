"""Recording a sending batch as it goes: the previous group's outcomes and the next group's attempt in one statement,
committed (without waiting for the disk) just before the group's provider call.

Why the commit does not wait for the disk: the promise is about a worker that dies. A committed row is visible to
every other session and kept when the worker's process is killed, whether or not PostgreSQL has flushed it to the
write-ahead log yet, so ``synchronous_commit`` is turned off for these transactions only (``SET LOCAL``, through
``set_config`` inside the statement, so it costs no round trip). Waiting for the flush cost one fdatasync per message
(about 2 ms on this machine's disk, 8 ms under load) and was most of the sending time.

What it gives up: if PostgreSQL itself crashes (or the machine loses power), the transactions committed in the last
moments before — at most three times ``wal_writer_delay``, 0.6 s by default — may be lost. The claim that puts rows
into "sending" is committed normally and records which server run it was made under (``Message.claimed_on``:
``pg_postmaster_start_time()``); the sweep treats every row of a claim made before the server's last start as one
that may have left (see ``messaging.services.sending.messages_mark_stale_claims``), so even then nothing is sent
twice — those rows become "unknown" for a person to check, or leave again with the same client id where the
provider deduplicates."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from customers.models import Customer
from messaging.kinds import Outcome, kinds_settle
from messaging.models import Channel, Message, MessageState, Purpose
from messaging.reasons import MessageReason, reason_store

# One statement: the outcomes (each already decided in Python: its state after, error, next due time, provider id)
# on rows this batch still holds, and the attempt of the next group on the rows still claimed by this batch whose
# customer is not erased and, for marketing, still has the channel's consent; it answers which rows were attempted.
# Prepared once per database session (``_prepared``): planning it took longer than running it. The state is
# compared as ``state || ''`` on purpose: written plainly, it matches the partial index of rows being sent, which the
# statistics (taken when hardly any row is being sent) make look free, and PostgreSQL then scanned all of a batch's
# rows in that index for each message (10-25 ms a message) instead of looking the rows up by id.
_RECORD = "messaging_record"
_RECORD_SQL = f"""
PREPARE {_RECORD} (bigint[], text[], text[], timestamptz[], text[], bigint[], uuid, timestamptz) AS
WITH outcome AS (
    UPDATE {Message._meta.db_table} AS m
    SET state = v.state,
        error = v.error,
        due_at = COALESCE(v.due_at, m.due_at),
        sent_at = CASE WHEN v.state = '{MessageState.SENT}' THEN $8 ELSE m.sent_at END,
        provider_id = CASE WHEN v.provider_id = '' THEN m.provider_id ELSE v.provider_id END
    FROM unnest($1, $2, $3, $4, $5) AS v(id, state, error, due_at, provider_id)
    WHERE m.id = v.id AND m.state || '' = '{MessageState.SENDING}'
), attempt AS (
    UPDATE {Message._meta.db_table} AS m
    SET attempted_at = $8, attempts = m.attempts + 1
    FROM {Customer._meta.db_table} AS c
    WHERE m.id = ANY($6) AND m.claim = $7 AND m.state || '' = '{MessageState.SENDING}'
      AND c.id = m.customer_id AND c.erased_at IS NULL
      AND (m.purpose = '{Purpose.SERVICE}'
           OR (m.channel = '{Channel.EMAIL}' AND c.email_consent) OR (m.channel = '{Channel.SMS}' AND c.sms_consent))
    RETURNING m.id
)
SELECT set_config('synchronous_commit', 'off', true), ARRAY(SELECT id FROM attempt)
"""  # noqa: S608 -- our own table names and constants; the values are parameters


def _prepared(cursor: Any) -> None:
    """Prepare the recording statement on this database session unless it already is (a session keeps it until
    it closes; a rolled-back transaction does not undo it)."""
    cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [_RECORD])
    if cursor.fetchone() is None:
        cursor.execute(_RECORD_SQL)


class Recorder:
    """Outcomes waiting to be recorded: written with the next group's attempt, in one transaction."""

    def __init__(self) -> None:
        # message, state after, error, provider id
        self.pending: list[tuple[Message, str, str, str]] = []
        self.prepared = False

    def add(self, message: Message, state: str, error: str = "", *, provider_id: str = "") -> None:
        """A message's outcome: "sent", "due" (a retry: "failed" once its attempts are spent), "unknown" or
        "cancelled"."""
        if state == MessageState.DUE and message.attempts >= message.max_attempts:
            state = MessageState.FAILED
        self.pending.append((message, state, error, provider_id[:80]))

    def write(self, *, group: Sequence[Message] = (), now: datetime | None = None) -> set[int]:
        """Record what is pending and mark ``group`` attempted, inside the caller's transaction, which then commits
        without waiting for the disk; the kinds' settle hooks run in it too. Returns the ids of ``group`` attempted."""
        if not self.pending and not group:
            return set()
        now = now or timezone.now()
        pending, self.pending = self.pending, []
        params: list[Any] = [
            [message.pk for message, *_rest in pending],
            [state for _message, state, _error, _provider in pending],
            [error for _message, _state, error, _provider in pending],
            [
                now + timedelta(minutes=2**message.attempts) if state == MessageState.DUE else None
                for message, state, _error, _provider in pending
            ],
            [provider for *_rest, provider in pending],
            [message.pk for message in group],
            group[0].claim if group else None,
            now,
        ]
        with connection.cursor() as cursor:
            if not self.prepared:
                _prepared(cursor)
                self.prepared = True
            cursor.execute(
                f"EXECUTE {_RECORD} (%s::bigint[], %s::text[], %s::text[], %s::timestamptz[], %s::text[], "
                "%s::bigint[], %s::uuid, %s)",
                params,
            )
            attempted = set(cursor.fetchone()[1])
        recorded: dict[str, list[Outcome]] = {}
        for message, state, error, _provider in pending:
            recorded.setdefault(message.kind, []).append(Outcome(message.pk, state, error))
        kinds_settle(recorded, now)
        return attempted

    def attempt(self, group: list[Message], now: datetime) -> list[Message]:
        """Record what is pending and mark ``group`` attempted, in one committed transaction; returns the rows of
        the group that may leave (still claimed by this batch, consent holding). The rows of the group still held
        whose consent no longer holds are cancelled in the same transaction."""
        with transaction.atomic():
            attempted = self.write(group=group, now=now)
            if len(attempted) < len(group):
                refused = [message.pk for message in group if message.pk not in attempted]
                held = set(
                    Message.objects.filter(
                        pk__in=refused, claim=group[0].claim, state=MessageState.SENDING
                    ).values_list("pk", flat=True)
                )
                for message in group:
                    if message.pk in held:
                        self.add(message, MessageState.CANCELLED, reason_store(MessageReason.NO_CONSENT))
                self.write(now=now)
        leaving = [message for message in group if message.pk in attempted]
        for message in leaving:
            message.attempts += 1
        return leaving
