"""Recording a sending batch as it goes: the previous group's outcomes, the kinds' SQL settles of them and the next
group's attempt in one statement, committed (without waiting for the disk) just before the group's provider call —
on its own, one round trip, unless a pending outcome's kind settles in Python.

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

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from customers.models import Customer
from messaging.kinds import KINDS, MessageKind, Outcome, kinds_settle, settle_sql_of
from messaging.models import Channel, Message, MessageState, Purpose
from messaging.reasons import MessageReason, reason_store

# One statement: the outcomes (each already decided in Python: its state after, error, next due time, provider id)
# on rows this batch still holds, the attempt of the next group on the rows still claimed by this batch whose
# customer is not erased and, for marketing, still has the channel's consent, and the kinds' ``settle_sql``
# (``messaging.kinds``) over their outcomes; it answers which rows were attempted.
# Prepared once per database session (``_prepared``) and run with its generic plan: planning it took longer than
# running it. The attempt looks each row up by its id and its customer by a sub-select on the customer's key, so the
# generic plan is index lookups whatever the tables' statistics (a join to the customers was planned, on tables never
# analyzed, as a scan of all customers). The state is
# compared as ``state || ''`` on purpose: written plainly, it matches the partial index of rows being sent, which the
# statistics (taken when hardly any row is being sent) make look free, and PostgreSQL then scanned all of a batch's
# rows in that index for each message (10-25 ms a message) instead of looking the rows up by id.
_RECORD_SQL = f"""
PREPARE {{name}} (bigint[], text[], text[], timestamptz[], text[], bigint[], uuid, timestamptz, text[]) AS
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
    FROM unnest($6) AS a(id)
    WHERE m.id = a.id AND m.claim = $7 AND m.state || '' = '{MessageState.SENDING}'
      AND (SELECT c.erased_at IS NULL
                  AND (m.purpose = '{Purpose.SERVICE}' OR (m.channel = '{Channel.EMAIL}' AND c.email_consent)
                       OR (m.channel = '{Channel.SMS}' AND c.sms_consent))
           FROM {Customer._meta.db_table} AS c WHERE c.id = m.customer_id)
    RETURNING m.id
){{settles}}
SELECT set_config('synchronous_commit', 'off', true), ARRAY(SELECT id FROM attempt)
"""  # noqa: S608 -- our own table names and constants; the values are parameters


def _record_sql() -> tuple[str, str]:
    """The recording statement for the kinds registered now, and its name (which changes with them)."""
    settling = sorted((kind for kind in KINDS.values() if kind.settle_sql), key=_name)
    settles = "".join(f", settle_{number} AS ({_settle_cte(kind)})" for number, kind in enumerate(settling))
    sql = _RECORD_SQL.replace("{settles}", settles)
    name = f"messaging_record_{hashlib.sha1(sql.encode()).hexdigest()[:12]}"  # noqa: S324 -- a name, not a secret
    return name, sql.replace("{name}", name)


def _settle_cte(kind: MessageKind) -> str:
    """A kind's ``settle_sql`` over its outcomes among the statement's ($1 ids, $2 states, $3 errors, $9 kinds)."""
    outcomes = "(SELECT v.id, v.state, v.error FROM unnest($1, $2, $3, $9) AS v(id, state, error, kind) WHERE v.kind = "
    return settle_sql_of(kind.settle_sql, outcomes=f"{outcomes}{_literal(kind.name)})", now="$8")


def _name(kind: MessageKind) -> str:
    return kind.name


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _prepared(cursor: Any) -> str:
    """Prepare the recording statement on this database session unless it already is (a session keeps it until
    it closes; a rolled-back transaction does not undo it); returns its name."""
    name, sql = _record_sql()
    cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [name])
    if cursor.fetchone() is None:
        cursor.execute(sql)
    return name


def _settled_in_python(kind: str) -> bool:
    registered = KINDS.get(kind)
    return registered is not None and registered.settle is not None


class Recorder:
    """Outcomes waiting to be recorded: written with the next group's attempt, in one transaction."""

    def __init__(self) -> None:
        # message, state after, error, provider id
        self.pending: list[tuple[Message, str, str, str]] = []
        self.statement = ""

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
            [message.kind for message, *_rest in pending],
        ]
        with connection.cursor() as cursor:
            if not self.statement:
                self.statement = _prepared(cursor)
            cursor.execute(
                # The generic plan, planned once per session (every row is found by its key, whatever the
                # statistics say); PostgreSQL would otherwise plan it afresh for each message (0.3-0.6 ms, more
                # than running it), as it guesses ten array elements for the generic plan and one for a custom one.
                # SET LOCAL: for this transaction only (the statement's own one in autocommit), in the same round trip.
                "SET LOCAL plan_cache_mode TO force_generic_plan; "
                f"EXECUTE {self.statement} (%s::bigint[], %s::text[], %s::text[], %s::timestamptz[], %s::text[], "
                "%s::bigint[], %s::uuid, %s, %s::text[])",
                params,
            )
            attempted = set(cursor.fetchone()[1])
        recorded: dict[str, list[Outcome]] = {}
        for message, state, error, _provider in pending:
            if _settled_in_python(message.kind):
                recorded.setdefault(message.kind, []).append(Outcome(message.pk, state, error))
        kinds_settle(recorded, now)
        return attempted

    def one_statement(self) -> bool:
        """Whether recording what is pending is the one statement alone (no kind settles in Python): it is then its
        own transaction, with no BEGIN and COMMIT round trips around it."""
        return not any(_settled_in_python(message.kind) for message, *_rest in self.pending)

    def attempt(self, group: list[Message], now: datetime) -> list[Message]:
        """Record what is pending and mark ``group`` attempted, in one committed transaction; returns the rows of
        the group that may leave (still claimed by this batch, consent holding). The rows of the group still held
        whose consent no longer holds are cancelled right after, in a transaction of their own (until then they
        are claimed and not attempted, which a dead worker's sweep gives back to the outbox: they never left).

        When no kind of the pending outcomes settles in Python (surveys, or messages of no kind), the recording is
        one statement committed on its own: one round trip per message instead of four (BEGIN, the statement, the
        settle, COMMIT). On a quiet machine each round trip costs a wake-up of the other process on the other core,
        which was most of the sending time."""
        if self.one_statement():
            attempted = self.write(group=group, now=now)
        else:
            with transaction.atomic():
                attempted = self.write(group=group, now=now)
        if len(attempted) < len(group):
            with transaction.atomic():
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
