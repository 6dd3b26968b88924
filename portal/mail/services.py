"""The outbox (PRODUCT.md, mail): a message is rendered and written in the transaction of the
change that causes it, so a change that rolls back sends nothing and a crash after the commit
loses nothing; ``flask mail deliver`` sends what is pending (:mod:`portal.mail.delivery`).

Links are joined to PORTAL_BASE_URL, never to the Host header of the request that caused the
mail: a forged Host would otherwise put an attacker's address in a reset link.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import quote

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale, get_locale
from sqlalchemy import insert

from portal.dbtypes import KST, utcnow
from portal.extensions import db
from portal.mail import messages as m
from portal.mail.models import PRIORITY_BULK, PRIORITY_TRANSACTIONAL, OutboxMessage
from portal.security import decrypt, encrypt

LANGUAGES = ("ko", "en")
# Bulk mailings are inserted this many rows per statement.
BULK_CHUNK = 500


def request_language() -> str:
    """The language of the mail a request causes: the page's language (the customer reads the
    portal in it), else Korean, the portal's first language (commands, staff work)."""
    if has_request_context():
        locale = str(get_locale() or "ko")
        if locale in LANGUAGES:
            return locale
    return "ko"


def portal_link(path: str) -> str:
    """An absolute link to ``path`` on the canonical address (PORTAL_BASE_URL)."""
    return current_app.config["PORTAL_BASE_URL"].rstrip("/") + path


def kst_time(when: datetime) -> str:
    """A moment as mail shows it: ``2026-03-01 14:05 (KST)``."""
    return when.astimezone(KST).strftime("%Y-%m-%d %H:%M") + " (KST)"


def render(kind: str, *, language: str, context: dict) -> dict[str, str]:
    """Subject, text and HTML of one message, in ``language``.

    :raises UnknownKind: no such kind.
    """
    spec = m.kind(kind)
    language = language if language in LANGUAGES else "ko"
    # The customer centre of every page's footer (portal/business.py), not a copy of it.
    values = {
        "centre": current_app.config["PORTAL_BUSINESS"].cs_phone,
        "when": kst_time(utcnow()),
        **context,
    }
    with force_locale(language):
        for key, labels in spec.labels.items():
            if key in values:
                values[key] = str(labels.get(values[key], values[key]))
        paragraphs = [str(p % values) for p in spec.paragraphs]
        link = None
        if spec.link_path:
            quoted = {k: quote(str(v), safe="") for k, v in values.items()}
            link = {"label": str(spec.link_label), "url": portal_link(spec.link_path % quoted)}
        page = {
            "subject": f"{m.SUBJECT_PREFIX} {spec.subject}",
            "greeting": str(
                m.GREETING % {"name": values["name"]}
                if values.get("name")
                else m.GREETING_ANONYMOUS
            ),
            "paragraphs": paragraphs,
            "link": link,
            "not_you": str(m.NOT_YOU % values) if spec.warn else None,
            "link_fallback": str(m.LINK_FALLBACK),
            "footer": str(m.FOOTER % values),
            "language": language,
        }
        text = render_template("mail/message.txt", **page)
        html = render_template("mail/message.html", **page)
    return {"subject": page["subject"], "text": text, "html": html}


def _content(to: str, rendered: dict[str, str]) -> bytes:
    return encrypt(json.dumps({"to": to, **rendered}, ensure_ascii=False))


def content_of(message: OutboxMessage) -> dict[str, str] | None:
    """The decrypted envelope (``to``, ``subject``, ``text``, ``html``); None once erased."""
    if message.content_encrypted is None:
        return None
    return json.loads(decrypt(message.content_encrypted))


def enqueue(
    kind: str,
    *,
    to: str,
    customer_id: int | None,
    language: str | None = None,
    priority: int = PRIORITY_TRANSACTIONAL,
    **context,
) -> OutboxMessage:
    """Render a message and add it to the outbox in the current transaction (flush only).

    :raises UnknownKind: no such kind.
    """
    language = language or request_language()
    rendered = render(kind, language=language, context=context)
    row = OutboxMessage(
        customer_id=customer_id,
        kind=kind,
        language=language,
        priority=priority,
        content_encrypted=_content(to, rendered),
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
        last_error="",
        created_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return row


def rehearse(kind: str, **context) -> None:
    """The work of :func:`enqueue` without the row: the forgot-password and forgot-ID pages
    do it for unknown accounts, so the answer takes as long as for a known one."""
    rendered = render(kind, language=request_language(), context=context)
    _content("nobody@invalid", rendered)


def alert(customer, kind: str, *, language: str | None = None, **context) -> OutboxMessage:
    """A notice to a customer about their own account (to the address on file).

    :raises UnknownKind: no such kind.
    """
    return enqueue(
        kind,
        to=customer.email,
        customer_id=customer.id,
        language=language,
        name=customer.username or customer.name,
        **context,
    )


def enqueue_bulk(
    kind: str, recipients: Iterable[tuple[int, str, str]], *, language: str = "ko", **context
) -> int:
    """One message per ``(customer_id, email, name)``, at bulk priority; returns how many.

    The text is rendered once (a mailing says the same to everyone, so it is addressed to no
    name), then inserted ``BULK_CHUNK`` rows per statement: a revision announced to a hundred
    thousand customers is a few hundred statements, not a hundred thousand renders.

    :raises UnknownKind: no such kind.
    """
    rendered = render(kind, language=language, context=context)
    now = utcnow()
    count = 0
    chunk: list[dict] = []
    for customer_id, email, _name in recipients:
        chunk.append(
            {
                "customer_id": customer_id,
                "kind": kind,
                "language": language,
                "priority": PRIORITY_BULK,
                "content_encrypted": _content(email, rendered),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": "",
                "created_at": now,
            }
        )
        if len(chunk) >= BULK_CHUNK:
            db.session.execute(insert(OutboxMessage), chunk)
            count += len(chunk)
            chunk = []
    if chunk:
        db.session.execute(insert(OutboxMessage), chunk)
        count += len(chunk)
    return count
