"""What the apps above messaging tell it about their kinds of message: how to render one at sending time and what
to do in their own tables when its outcome is recorded.

An app registers its kinds from its ``AppConfig.ready`` (feedback: the survey invitation and its reminder), so
messaging renders and settles them without importing the app. A message of an unregistered kind is sent as it
was queued (its ``subject``, ``body`` and ``html``)."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from messaging.models import Message


@dataclass(frozen=True)
class Rendered:
    """A message ready to leave. ``text`` is the SMS or the email's plain text; ``headers`` are the email's own
    (messaging adds its Message-ID and, to marketing, the unsubscribe headers)."""

    text: str
    subject: str = ""
    html: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


class Renderer(Protocol):
    """Made once per sending batch (it may compile templates once) and asked for each message in turn, with the
    message's language active."""

    def render(self, message: "Message") -> Rendered: ...


@dataclass(frozen=True)
class Outcome:
    """A recorded outcome: the message's state after it ("sent", "due" for a retry, "failed", "unknown",
    "cancelled") and the error, if any."""

    message_id: int
    state: str
    error: str = ""


Settle = Callable[[Sequence[Outcome], datetime], None]

# Where a ``settle_sql`` statement reads the outcomes from and the time they were recorded at.
SETTLE_OUTCOMES = "{outcomes}"
SETTLE_NOW = "{now}"


@dataclass(frozen=True)
class MessageKind:
    """A kind of message and what its app does with it. Its outcomes are settled onto the app's rows inside the
    transaction that records them, so those rows never disagree with the outbox: by ``settle`` (Python, its own
    statements), or by ``settle_sql`` — one SQL statement that the sending loop runs *inside* its recording
    statement, costing the message no round trip of its own. ``settle_sql`` reads ``{outcomes}``, a relation of
    this kind's outcomes with the columns ``id`` (the message's), ``state`` and ``error``, and ``{now}``, the
    recording time (a timestamptz); it must contain no ``%`` (it is also run with parameters, by
    :func:`kinds_settle`)."""

    name: str
    renderer: Callable[[], Renderer] | None = None
    settle: Settle | None = None
    settle_sql: str = ""

    def __post_init__(self) -> None:
        if self.settle is not None and self.settle_sql:
            raise ValueError(f"Message kind {self.name}: settle or settle_sql, not both.")
        if self.settle_sql and (SETTLE_OUTCOMES not in self.settle_sql or "%" in self.settle_sql):
            raise ValueError(f"Message kind {self.name}: settle_sql reads {SETTLE_OUTCOMES} and has no %.")


def settle_sql_of(sql: str, *, outcomes: str, now: str) -> str:
    """A kind's ``settle_sql`` with its outcomes relation and time filled in."""
    return sql.replace(SETTLE_OUTCOMES, outcomes).replace(SETTLE_NOW, now)


KINDS: dict[str, MessageKind] = {}


def kinds_settle(recorded: Mapping[str, Sequence[Outcome]], now: datetime) -> None:
    """Tell each kind's app the outcomes of its messages (inside the caller's transaction)."""
    for kind, outcomes in recorded.items():
        registered = KINDS.get(kind)
        if registered is None or not outcomes:
            continue
        if registered.settle is not None:
            registered.settle(outcomes, now)
        elif registered.settle_sql:
            _settle_sql_run(registered.settle_sql, outcomes, now)


def _settle_sql_run(sql: str, outcomes: Sequence[Outcome], now: datetime) -> None:
    from django.db import connection

    statement = settle_sql_of(
        sql,
        outcomes="(SELECT * FROM unnest(%(ids)s::bigint[], %(states)s::text[], %(errors)s::text[]) "
        "AS o(id, state, error))",
        now="%(now)s::timestamptz",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            statement,
            {
                "ids": [outcome.message_id for outcome in outcomes],
                "states": [outcome.state for outcome in outcomes],
                "errors": [outcome.error for outcome in outcomes],
                "now": now,
            },
        )


def message_kind_register(kind: MessageKind) -> None:
    KINDS[kind.name] = kind


class QueuedRenderer:
    """The message as it was queued."""

    def render(self, message: "Message") -> Rendered:
        return Rendered(text=message.body, subject=message.subject, html=message.html)
