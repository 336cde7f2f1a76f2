"""Why a message did not leave, or left in doubt: stored as a code, read in the reader's language.

The outbox (``Message.error``) and the rows that follow it (a survey's ``Invitation.error``) store a reason code,
never a sentence: the worker that records it speaks whatever language it had active, and the manager who reads it
may speak the other one. Where the reason needs figures or the provider's own words, they follow the code as JSON
(``capped {"days": 7, "n": 3}``, ``provider {"detail": "550 Mailbox unavailable"}``): a provider's text is data, shown
verbatim under a label in the reader's language. :func:`reason_text` is the one reading; text that is not a known
code (written before the codes, or by hand) is shown as stored under the label of :attr:`MessageReason.OTHER`."""

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from shop.reasons import StoredReasons


class MessageReason(models.TextChoices):
    CANCELLED = "cancelled", _("Cancelled.")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed from offers before sending.")
    SURVEYS_UNSUBSCRIBED = "surveys_unsubscribed", _("Unsubscribed before sending.")
    ERASED = "erased", _("Personal data erased before sending.")
    NO_CONSENT = "no_consent", _("No consent to marketing on this channel.")
    CAPPED = "capped", _("Not sent: the customer already had %(n)d messages in %(days)d days.")
    INTERRUPTED_RESENT = "interrupted_resent", _("Interrupted; sent again with the same id.")
    INTERRUPTED = "interrupted", _("The send was interrupted; it may have left.")
    WORKER_STOPPED_RESENT = (
        "worker_stopped_resent",
        _("The worker stopped while sending; sent again with the same id, which the provider deduplicates."),
    )
    WORKER_STOPPED = "worker_stopped", _("The worker stopped while sending; the message may have left.")
    DATABASE_RESTARTED = (
        "database_restarted",
        _("The database restarted while this was being sent; the message may have left."),
    )
    NOT_ACCEPTED = "not_accepted", _("The email server did not accept the message.")
    GATEWAY_HTTP = "gateway_http", _("The SMS gateway answered HTTP %(status)s.")
    PROVIDER = "provider", _("The provider refused: %(detail)s")
    OTHER = "other", _("Recorded as: %(detail)s")


_READING = StoredReasons(MessageReason, MessageReason.OTHER)


def reason_store(code: str, **params: Any) -> str:
    """The stored form of a reason: its code, followed by its parameters as JSON when it has any."""
    return _READING.store(code, **params)


def reason_parse(stored: str) -> tuple[str, dict[str, Any]]:
    """The code and parameters of a stored reason; ``("", {})`` for none; text that is not a stored reason is
    :attr:`MessageReason.OTHER` with the text as its detail."""
    return _READING.parse(stored)


def reason_text(stored: str) -> str:
    """The reason in the active language (the reader's): its label, with its figures or the provider's words."""
    return _READING.text(stored)


class ProviderRefusal(RuntimeError):
    """A whole provider call refused, with its reason: the message (English, for the log) and the code and
    parameters the outbox stores (:func:`failure_reason`)."""

    def __init__(self, message: str, *, code: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def failure_reason(error: BaseException) -> str:
    """The stored reason of a provider call that raised: a refusal's own code, else the exception's text (the
    provider's or the network's words) as the provider's detail."""
    if isinstance(error, ProviderRefusal):
        return reason_store(error.code, **error.params)
    return reason_store(MessageReason.PROVIDER, detail=str(error))
