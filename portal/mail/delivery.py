"""Delivering the outbox: over SMTP, or to the console or a folder on a development machine.

At least once, never lost: a message is *claimed* first (its attempt counted and its next try
pushed past a lease, committed before anything is sent), so parallel deliverers never send
the same message twice at once and a crash mid-send leaves it to be retried when the lease
runs out. A failure is kept with its reason and retried after a doubling delay; after
MAIL_MAX_ATTEMPTS tries the message is marked failed, reason kept, and never sent.
"""

from __future__ import annotations

import smtplib
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol, TextIO

from flask import current_app
from sqlalchemy import select, update

from portal.dbtypes import utcnow
from portal.extensions import db
from portal.mail.errors import DeliveryFailed
from portal.mail.models import OutboxMessage
from portal.mail.services import content_of

# A claimed message is retried after this long if its deliverer never reports back (a crash).
LEASE = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=6)
BATCH_SIZE = 100


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class SmtpTransport:
    """One SMTP connection, opened on the first message and reused for the batch."""

    def __init__(self, config) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        smtp = smtplib.SMTP(
            cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT_SECONDS"]
        )
        try:
            if cfg["MAIL_USE_TLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryFailed(_reason(exc)) from exc

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


class ConsoleTransport:
    """Development without an SMTP server: the text part is printed (links readable)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, message: EmailMessage) -> None:
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        self.stream.write(
            f"----- mail to {message['To']} -----\nSubject: {message['Subject']}\n\n{text}"
            "----- end of mail -----\n"
        )
        self.stream.flush()

    def close(self) -> None:
        return None


class FolderTransport:
    """Development: each message becomes an ``.eml`` file in MAIL_FOLDER."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = message["X-Outbox-Id"] or make_msgid().strip("<>")
            (self.folder / f"{name}.eml").write_bytes(message.as_bytes())
        except OSError as exc:
            raise DeliveryFailed(_reason(exc)) from exc

    def close(self) -> None:
        return None


def transport_for(config) -> Transport:
    """SMTP when MAIL_SERVER is set; else MAIL_FOLDER's files; else the console."""
    if config.get("MAIL_SERVER"):
        return SmtpTransport(config)
    if config.get("MAIL_FOLDER"):
        return FolderTransport(config["MAIL_FOLDER"])
    return ConsoleTransport()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error.decode("utf-8", "replace") if exc.smtp_error else ""
        return f"SMTP {exc.smtp_code} {detail}"[:500]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [
            f"{code} {text.decode('utf-8', 'replace')}" for code, text in exc.recipients.values()
        ]
        return ("recipient refused: " + "; ".join(codes))[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


def build_email(message: OutboxMessage, content: dict[str, str]) -> EmailMessage:
    """The MIME message: plain text first, HTML as the alternative."""
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = content["to"]
    email["Subject"] = content["subject"]
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(idstring=f"outbox{message.id}")
    email["X-Outbox-Id"] = str(message.id)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(content["text"])
    email.add_alternative(content["html"], subtype="html")
    return email


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: MAIL_RETRY_SECONDS, doubling, at most 6 h."""
    base = current_app.config["MAIL_RETRY_SECONDS"]
    return min(timedelta(seconds=base * 2 ** max(0, attempts - 1)), MAX_BACKOFF)


@dataclass
class Report:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def _claim(message_id: int, now: datetime) -> int | None:
    """Count an attempt and push the next one past the lease; None when another deliverer
    claimed it first (the conditional UPDATE's row count says who won)."""
    row = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
        )
        .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + LEASE)
        .returning(OutboxMessage.attempts)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    return None if row is None else row[0]


def due_ids(now: datetime, limit: int) -> list[int]:
    """Pending messages whose time has come, transactional before bulk, oldest first."""
    return list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.priority, OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    )


def deliver_due(
    *,
    commit: Callable[[], None],
    transport: Transport | None = None,
    now: datetime | None = None,
    limit: int = BATCH_SIZE,
) -> Report:
    """Send up to ``limit`` due messages; ``commit`` is called after each claim and result
    (the command passes the session's commit), so nothing done is ever undone.

    A connection failure stops the batch: the server is down, and the rest would only fail
    too; they stay pending and unclaimed.
    """
    now = now or utcnow()
    transport = transport or transport_for(current_app.config)
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    report = Report()
    try:
        for message_id in due_ids(now, limit):
            attempts = _claim(message_id, now)
            commit()
            if attempts is None:
                continue
            message = db.session.get(OutboxMessage, message_id, populate_existing=True)
            if message is None:  # deleted meanwhile (the customer withdrew)
                continue
            content = content_of(message)
            try:
                if content is None:
                    raise DeliveryFailed("content erased before delivery", permanent=True)
                try:
                    email = build_email(message, content)
                except (ValueError, TypeError) as exc:  # an address no header can carry
                    raise DeliveryFailed(_reason(exc), permanent=True) from exc
                transport.send(email)
            except DeliveryFailed as exc:
                message.last_error = exc.reason
                if exc.permanent or attempts >= max_attempts:
                    message.status = "failed"
                    report.failed += 1
                else:
                    message.next_attempt_at = now + backoff(attempts)
                    report.retrying += 1
                commit()
                if not exc.permanent:
                    break
                continue
            message.status = "sent"
            message.sent_at = utcnow()
            message.last_error = ""
            if message.customer_id is None:
                # Nobody's account any more (the withdrawal notice): once it is out, the
                # address and text go; the row stays until the purge, as a record it was sent.
                message.content_encrypted = None
            report.sent += 1
            commit()
    finally:
        transport.close()
    return report
