"""Handing rendered messages to the email connection and the SMS provider: what one sending batch needs once."""

import contextlib
import smtplib
from collections.abc import Iterator, Sequence

from django.core.mail import get_connection
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from messaging.backends import SmsBackend, SmsMessage, sms_backend
from messaging.kinds import KINDS, QueuedRenderer, Rendered, Renderer
from messaging.links import unsubscribe_url
from messaging.mail import BatchEmail, batch_boundary
from messaging.models import Channel, Message, Purpose
from messaging.reasons import MessageReason, ProviderRefusal

# At most this many SMS in one provider call whatever the provider takes: what a dead worker may leave in doubt.
MAX_GROUP = 50


class Sender:
    """The kinds' renderers, one email connection (opened on the first email) and the SMS backend for one batch.
    Use as a context manager so the connection is closed."""

    def __init__(self) -> None:
        self.connection = get_connection()
        self.renderers: dict[str, Renderer] = {}
        self._sms: SmsBackend | None = None
        self._opened = False
        self._boundary = batch_boundary()

    def __enter__(self) -> "Sender":
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

    def groups(self, messages: Sequence[Message]) -> Iterator[list[Message]]:
        """The messages (already in sending order) as the groups that go out in one call each: an email alone,
        consecutive SMS up to the provider's batch size."""
        size = max(1, min(self.sms.batch_size, MAX_GROUP))
        group: list[Message] = []
        for message in messages:
            if message.channel == Channel.SMS and len(group) < size:
                group.append(message)
                continue
            if group:
                yield group
                group = []
            if message.channel == Channel.SMS:
                group.append(message)
            else:
                yield [message]
        if group:
            yield group

    def _renderer(self, kind: str) -> Renderer:
        if kind not in self.renderers:
            registered = KINDS.get(kind)
            self.renderers[kind] = registered.renderer() if registered and registered.renderer else QueuedRenderer()
        return self.renderers[kind]

    def render(self, message: Message) -> Rendered:
        with translation.override(message.language or "ru"):
            rendered = self._renderer(message.kind).render(message)
            if message.purpose == Purpose.MARKETING:
                rendered = _with_unsubscribe(message, rendered)
        return rendered

    def provider_id(self, message: Message) -> str:
        """The provider's own id of a message it just accepted, where it gives one (SMS.ru does)."""
        if message.channel != Channel.SMS:
            return ""
        return str(getattr(self.sms, "provider_ids", {}).get(message.client_id, ""))

    def deliver(self, group: Sequence[Message]) -> list[str | None]:
        """Send one group; per message None when it left, else the provider's reason. Raises when the whole call
        failed."""
        if group[0].channel == Channel.EMAIL:
            (message,) = group
            self._email(message, self.render(message))
            return [None]
        return self.sms.send_many(
            [
                SmsMessage(phone=message.address, text=self.render(message).text, message_id=message.client_id)
                for message in group
            ]
        )

    def _email(self, message: Message, rendered: Rendered) -> None:
        email = BatchEmail(
            boundary=self._boundary,
            subject=rendered.subject,
            body=rendered.text,
            to=[message.address],
            headers={"Message-ID": f"<{message.client_id}@retain>", **rendered.headers},
            connection=self.connection,
        )
        if rendered.html:
            email.attach_alternative(rendered.html, "text/html")
        if not self._opened:
            self.connection.open()
            self._opened = True
        # One message per call over the open connection, so each message has its own outcome.
        try:
            sent = self.connection.send_messages([email])
        except Exception:
            # A dropped SMTP session fails every later call on it: the next email opens a fresh one.
            self._close_connection()
            raise
        if sent != 1:
            raise ProviderRefusal("The email backend did not accept the message.", code=MessageReason.NOT_ACCEPTED)

    def _close_connection(self) -> None:
        # Saying goodbye on a broken session may fail in turn; the session is being dropped either way.
        with contextlib.suppress(OSError, smtplib.SMTPException):
            self.connection.close()
        self._opened = False


def _with_unsubscribe(message: Message, rendered: Rendered) -> Rendered:
    """Every marketing message carries its one-click unsubscribe, whatever its template says: RFC 8058's headers
    and a line in the email, a short link in the SMS (the law asks that sending stop at once on request)."""
    url = unsubscribe_url(message.pk)
    if message.channel == Channel.SMS:
        return Rendered(text=f"{rendered.text} " + _("Stop: %(url)s") % {"url": url})
    line = _("To stop receiving offers: %(url)s") % {"url": url}
    html = rendered.html
    if html:
        link = f'<p><a href="{escape(url)}">{escape(_("Unsubscribe from offers"))}</a></p>'
        html = html.replace("</body>", f"{link}</body>") if "</body>" in html else html + link
    return Rendered(
        text=f"{rendered.text}\n\n{line}\n",
        subject=rendered.subject,
        html=html,
        headers={
            **rendered.headers,
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
