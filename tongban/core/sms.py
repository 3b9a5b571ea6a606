"""Text-message backends. The gateway is the only thing that leaves the machine, so it is pluggable.

A backend is a class with `send(mobile: str, text: str) -> None`, chosen by the `SMS_BACKEND`
setting. The default writes the message to the log, which is enough for a demo and for development.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("tongban.sms")


class SmsBackend(Protocol):
    def send(self, mobile: str, text: str) -> None: ...


class LogBackend:
    """Writes each message to the `tongban.sms` log instead of sending it."""

    def send(self, mobile: str, text: str) -> None:
        logger.info("短信 → %s：%s", mobile, text)


@dataclass(frozen=True)
class SentMessage:
    mobile: str
    text: str


class MemoryBackend:
    """Keeps messages in `MemoryBackend.outbox`, for tests."""

    outbox: list[SentMessage] = []

    def send(self, mobile: str, text: str) -> None:
        MemoryBackend.outbox.append(SentMessage(mobile=mobile, text=text))


def send_sms(*, mobile: str, text: str) -> None:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    backend.send(mobile, text)
