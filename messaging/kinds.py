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


@dataclass(frozen=True)
class MessageKind:
    name: str
    renderer: Callable[[], Renderer] | None = None
    # Runs inside the transaction that records the outcomes, so the app's rows never disagree with the outbox.
    settle: Settle | None = None


KINDS: dict[str, MessageKind] = {}


def kinds_settle(recorded: Mapping[str, Sequence[Outcome]], now: datetime) -> None:
    """Tell each kind's app the outcomes of its messages (inside the caller's transaction)."""
    for kind, outcomes in recorded.items():
        registered = KINDS.get(kind)
        if registered is not None and registered.settle is not None:
            registered.settle(outcomes, now)


def message_kind_register(kind: MessageKind) -> None:
    KINDS[kind.name] = kind


class QueuedRenderer:
    """The message as it was queued."""

    def render(self, message: "Message") -> Rendered:
        return Rendered(text=message.body, subject=message.subject, html=message.html)
