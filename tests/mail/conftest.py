"""A real SMTP server (aiosmtpd) on a free port, and helpers to deliver and read mail."""

from __future__ import annotations

import email
import re
import socket
from email.message import Message
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

BASE_URL = "https://portal.example.kr"


class Inbox:
    """What the SMTP server received; ``refuse`` makes it answer 451 to every message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """Start and stop at will: a server that is down, then comes back on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def config(config, smtp_server):
    """Every mail test's app sends to ``smtp_server`` (running or not) and links to a
    canonical address that no test request uses as its Host."""
    config.MAIL_SERVER = "127.0.0.1"
    config.MAIL_PORT = smtp_server.port
    config.MAIL_TIMEOUT_SECONDS = 5
    config.MAIL_FROM = "AnyTrack <no-reply@portal.example.kr>"
    config.PORTAL_BASE_URL = BASE_URL
    return config


@pytest.fixture
def smtp(smtp_server):
    """The SMTP server, running."""
    smtp_server.start()
    return smtp_server


def text_of(message: Message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message: Message) -> str:
    return message.get_body(("html",)).get_content()


LINK_RE = re.compile(r"https?://[^\s<>\"]+")


def links_in(message: Message) -> list[str]:
    return LINK_RE.findall(text_of(message)) + LINK_RE.findall(html_of(message))


def deliver(runner) -> str:
    result = runner.invoke(args=["mail", "deliver"])
    assert result.exit_code == 0, result.output
    return result.output
