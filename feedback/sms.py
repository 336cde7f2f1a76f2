"""A small SMS provider interface: a file backend for development and tests, and an HTTP gateway (SMS.ru)."""

import json
import os
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from django.conf import settings


class SmsBackend(Protocol):
    def send(self, *, phone: str, text: str, message_id: str) -> None: ...


class FileSmsBackend:
    """One line per message in a file: what the development demo shows and what tests count."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def send(self, *, phone: str, text: str, message_id: str) -> None:
        # A delay that tests use to kill a worker in the middle of a batch.
        delay = float(os.environ.get("FEEDBACK_TEST_SEND_DELAY", "0") or 0)
        if delay:
            time.sleep(delay)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(f"{message_id}\t{phone}\t{text.replace(chr(10), ' ')}\n")


class SmsRuBackend:
    """SMS.ru's HTTP API, configured from SMS_RU_API_ID; short timeouts so a slow gateway cannot hold a worker."""

    URL = "https://sms.ru/sms/send"

    def __init__(self, api_id: str) -> None:
        self.api_id = api_id

    def send(self, *, phone: str, text: str, message_id: str) -> None:
        payload = urlencode({"api_id": self.api_id, "to": phone.lstrip("+"), "msg": text, "json": 1}).encode()
        # A short timeout: a slow gateway must not hold the worker; the caller retries with backoff.
        with urlopen(Request(self.URL, data=payload, method="POST"), timeout=10) as response:  # noqa: S310
            body = json.loads(response.read().decode())
        if body.get("status") != "OK":
            raise RuntimeError(f"SMS gateway refused: {body.get('status_text', body)}")


def sms_backend() -> SmsBackend:
    api_id = getattr(settings, "SMS_RU_API_ID", "") or os.environ.get("SMS_RU_API_ID", "")
    if api_id:
        return SmsRuBackend(api_id)
    path = os.environ.get("FEEDBACK_SMS_FILE") or str(Path(settings.BASE_DIR) / "var" / "sms.log")
    return FileSmsBackend(path)
