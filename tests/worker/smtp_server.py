"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the e-mail tests.

A test module makes its fixture from ``serving``.
"""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Inbox:
    """What the server received, parsed; ``to(address)`` filters by recipient."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    """An aiosmtpd server on a fixed loopback port that a test may stop and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serving(monkeypatch) -> Iterator[SmtpServer]:
    """A running SMTP server while the generator lives; APPROUTE_SMTP_* point the e-mail job at it."""
    server = SmtpServer(_free_port())
    server.start()
    monkeypatch.setenv("APPROUTE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("APPROUTE_SMTP_PORT", str(server.port))
    monkeypatch.setenv("APPROUTE_BASE_URL", "https://hr.example.test")
    try:
        yield server
    finally:
        server.stop()
