"""A small SMS provider interface: a file backend for development and tests, and an HTTP gateway (SMS.ru).

A backend sends a group of messages in one call (``send_many``) and answers per message: ``None`` when the
provider accepted it, or the provider's reason when it refused. An exception means the whole call failed.
``batch_size`` is how many messages one call may carry; the sender never gives a backend more.

``deduplicates`` says whether the provider drops a second message with the same client id: only then may a
message left "unknown" by a dead worker be sent again (with the same id). SMS.ru's ``sms/send`` takes no client
message id (its ``partner_id`` names a partner programme, not a message), so it does not; the file backend does
when ``MESSAGING_SMS_FILE_DEDUPLICATES`` is set (what a test of the resend needs)."""

import http.client
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

from django.conf import settings

from messaging.reasons import MessageReason, ProviderRefusal


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    message_id: str


class SmsBackend(Protocol):
    batch_size: int
    deduplicates: bool

    def send_many(self, messages: Sequence[SmsMessage]) -> list[str | None]: ...

    def close(self) -> None: ...


class FileSmsBackend:
    """One line per message in a file: what the development demo shows and what tests count. No batches: each line
    is written and flushed on its own, as a gateway would receive them one by one."""

    batch_size = 1

    def __init__(self, path: str, *, deduplicates: bool = False) -> None:
        self.path = Path(path)
        self.deduplicates = deduplicates
        self._seen: set[str] | None = None

    def send_many(self, messages: Sequence[SmsMessage]) -> list[str | None]:
        for message in messages:
            if self.deduplicates and message.message_id in self._received():
                continue  # The provider already has it: a second copy is dropped, as a deduplicating gateway does.
            self.send(phone=message.phone, text=message.text, message_id=message.message_id)
            if self._seen is not None:
                self._seen.add(message.message_id)
        return [None] * len(messages)

    def _received(self) -> set[str]:
        if self._seen is None:
            lines = self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []
            self._seen = {line.split("\t", 1)[0] for line in lines if line}
        return self._seen

    def send(self, *, phone: str, text: str, message_id: str) -> None:
        # A delay that tests use to kill a worker in the middle of a batch.
        delay = float(os.environ.get("MESSAGING_TEST_SEND_DELAY", "0") or 0)
        if delay:
            time.sleep(delay)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(f"{message_id}\t{phone}\t{text.replace(chr(10), ' ')}\n")

    def close(self) -> None:
        return None


class SmsRuBackend:
    """SMS.ru's HTTP API, configured from SMS_RU_API_ID. Up to 50 different messages per request (its ``multi``
    form takes 100, keyed by phone, so one request never carries two messages to the same phone), over one kept-alive
    HTTPS connection, with a short timeout so a slow gateway cannot hold a worker."""

    HOST = "sms.ru"
    PATH = "/sms/send"
    batch_size = 50
    timeout = 10
    deduplicates = False

    def __init__(self, api_id: str) -> None:
        self.api_id = api_id
        self._connection: http.client.HTTPSConnection | None = None
        # The gateway's own id of each accepted message (its "sms_id"), by our message id, for the last call.
        self.provider_ids: dict[str, str] = {}

    def send_many(self, messages: Sequence[SmsMessage]) -> list[str | None]:
        results: list[str | None] = [None] * len(messages)
        self.provider_ids = {}
        for request in _distinct_phones(messages):
            fields = {"api_id": self.api_id, "json": "1"}
            fields.update({f"multi[{messages[index].phone.lstrip('+')}]": messages[index].text for index in request})
            body = self._post(fields)
            if body.get("status") != "OK":
                detail = str(body.get("status_text", body))
                raise ProviderRefusal(f"SMS gateway refused: {detail}", code=MessageReason.PROVIDER, detail=detail)
            answers = body.get("sms", {})
            for index in request:
                answer = answers.get(messages[index].phone.lstrip("+"), {})
                results[index] = None if answer.get("status") == "OK" else str(answer.get("status_text", answer))
                if results[index] is None and answer.get("sms_id"):
                    self.provider_ids[messages[index].message_id] = str(answer["sms_id"])
        return results

    def _post(self, fields: dict[str, str]) -> dict[str, Any]:
        if self._connection is None:
            self._connection = http.client.HTTPSConnection(self.HOST, timeout=self.timeout)
        try:
            self._connection.request(
                "POST",
                self.PATH,
                body=urlencode(fields).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            response = self._connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.status != 200:
            raise ProviderRefusal(
                f"SMS gateway answered HTTP {response.status}", code=MessageReason.GATEWAY_HTTP, status=response.status
            )
        answer: dict[str, Any] = json.loads(payload.decode())
        return answer

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _distinct_phones(messages: Sequence[SmsMessage]) -> list[list[int]]:
    """Positions of the messages split into requests in which no phone repeats."""
    requests: list[tuple[set[str], list[int]]] = []
    for index, message in enumerate(messages):
        for phones, request in requests:
            if message.phone not in phones:
                phones.add(message.phone)
                request.append(index)
                break
        else:
            requests.append(({message.phone}, [index]))
    return [request for _phones, request in requests]


def sms_backend() -> SmsBackend:
    api_id = getattr(settings, "SMS_RU_API_ID", "") or os.environ.get("SMS_RU_API_ID", "")
    if api_id:
        return SmsRuBackend(api_id)
    return FileSmsBackend(str(sms_file_path()), deduplicates=bool(os.environ.get("MESSAGING_SMS_FILE_DEDUPLICATES")))


def sms_file_path() -> Path:
    """Where the file backend writes (and the demo's outbox page reads): ``MESSAGING_SMS_FILE``, else the older
    ``FEEDBACK_SMS_FILE`` (the demo script still sets it), else var/sms.log."""
    named = os.environ.get("MESSAGING_SMS_FILE") or os.environ.get("FEEDBACK_SMS_FILE")
    return Path(named or Path(settings.BASE_DIR) / "var" / "sms.log")


def sms_deduplicates() -> bool:
    """Whether the configured SMS provider drops a second message with the same client id."""
    return bool(sms_backend().deduplicates)


def email_deduplicates() -> bool:
    """Whether the shop's mail provider drops a second message with the same Message-ID. SMTP itself does not
    (some mailboxes fold copies with one Message-ID, which is no promise), so it is off unless the owner's provider
    says otherwise (``MESSAGING_EMAIL_DEDUPLICATES``)."""
    return bool(getattr(settings, "MESSAGING_EMAIL_DEDUPLICATES", False))
