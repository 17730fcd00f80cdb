"""Helpers for the summary tests: a real SMTP server on loopback, crashing mail backends, races."""
from __future__ import annotations

import email
import email.policy
import threading
from contextlib import contextmanager

from aiosmtpd.controller import Controller
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import override_settings

from tests.support.processes import free_port


class Sink:
    """aiosmtpd handler keeping every received message; can be told to refuse them."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.refuse: str | None = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse:
            return self.refuse
        with self.lock:
            self.raw.append(envelope.content)
        return "250 OK"

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        """Received messages, parsed on demand (parsing in the server thread slows senders)."""
        with self.lock:
            raw = list(self.raw)
        return [email.message_from_bytes(r, policy=email.policy.default) for r in raw]

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@contextmanager
def smtp_sink():
    """A real SMTP server on a free loopback port, with Django's SMTP backend pointed at it."""
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1", EMAIL_PORT=port, EMAIL_USE_TLS=False, EMAIL_USE_SSL=False,
            EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD="", EMAIL_TIMEOUT=10,
        ):
            yield sink
    finally:
        controller.stop()


class Crash(BaseException):
    """Stands for the process dying (not an exception anyone would catch)."""


class CrashAfterSendBackend(LocmemBackend):
    """Delivers like locmem, then 'dies' before the caller can record it (first call only)."""

    crashed = False

    def send_messages(self, messages):
        count = super().send_messages(messages)
        if not CrashAfterSendBackend.crashed:
            CrashAfterSendBackend.crashed = True
            raise Crash()
        return count


def race(step, racers: int = 3) -> list[BaseException]:
    """Run `step` in `racers` threads released together (each closes its own database
    connection); the exceptions they raised, for the caller to assert on."""
    from django.db import connection

    barrier = threading.Barrier(racers)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            step()
        except BaseException as exc:  # surfaced by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors
