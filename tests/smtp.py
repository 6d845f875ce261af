"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

import asyncio
import socket
import threading
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailSink:
    def __init__(self, port: int | None = None):
        self.messages = []
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.controller = Controller(self, hostname=self.host, port=self.port)
        self.holding = False
        self.held = threading.Event()  # set when a message arrived while holding

    async def handle_DATA(self, server, session, envelope):
        if self.holding:
            # Stall before accepting, as a slow server does: the sender waits for the reply.
            # A message held this way is never accepted (its sender has gone by the release).
            self.held.set()
            while self.holding:
                await asyncio.sleep(0.05)
            return "451 4.3.0 Try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def hold(self) -> None:
        """Stall every message from now on until release()."""
        self.held.clear()
        self.holding = True

    def release(self) -> None:
        self.holding = False

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.holding = False
        self.controller.stop()
