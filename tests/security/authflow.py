"""Helpers of the authentication and session tests, beside the shared harness (``live.py``):
reading cookies and error lines off a reply, the recovery-code step, signing out, and a
read-only look into the live server's database (the mail outbox, the session rows).
"""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import urlsplit

from tests.security.live import CHALLENGE_RE, Browser, LiveServer, Reply

ERROR_RE = re.compile(r'<p class="flash flash-error" role="alert"[^>]*>(.*?)</p>', re.S)
FLASH_RE = re.compile(r'<p class="flash flash-\w+" role="\w+"[^>]*>(.*?)</p>', re.S)
# Values that differ on every response by design: the CSRF token, the request id.
VOLATILE_RE = re.compile(r'(name="csrf_token" value=")[^"]+(")|(data-request-id=")[^"]+(")')


def cookie_attributes(reply: Reply) -> dict[str, dict[str, str | bool]]:
    """The cookies a reply sets, by name, each with its attributes as sent (lower-case keys;
    flags such as ``secure`` and ``httponly`` as True). Parsed by hand rather than with
    SimpleCookie, which drops what it does not know."""
    found: dict[str, dict[str, str | bool]] = {}
    for line in reply.set_cookies:
        name_value, *parts = (part.strip() for part in line.split(";"))
        name, _, value = name_value.partition("=")
        attrs: dict[str, str | bool] = {"value": value}
        for part in parts:
            if not part:
                continue
            key, has_value, val = part.partition("=")
            attrs[key.strip().lower()] = val.strip() if has_value else True
        found[name.strip()] = attrs
    return found


def cookie_shape(reply: Reply) -> dict[str, dict[str, str | bool]]:
    """The cookies a reply sets with their attributes, values and expiry times left out:
    what must not differ between two answers that should tell nothing apart."""
    return {
        name: {k: v for k, v in attrs.items() if k not in ("value", "expires", "max-age")}
        for name, attrs in cookie_attributes(reply).items()
    }


def error_text(reply: Reply) -> str:
    """The form's error line(s), as plain text."""
    return " ".join(_plain(m) for m in ERROR_RE.findall(reply.body))


def flashes(reply: Reply) -> str:
    """Every flashed or form message on the page, as plain text."""
    return " ".join(_plain(m) for m in FLASH_RE.findall(reply.body))


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def comparable(reply: Reply, *typed: str) -> str:
    """The body with per-response values (CSRF token, request id) and what the visitor typed
    (echoed back into the form) blanked, for comparing two answers."""
    body = VOLATILE_RE.sub(lambda m: (m[1] or m[3]) + "…" + (m[2] or m[4]), reply.body)
    for text in typed:
        body = body.replace(text, "<typed>")
    return body


def path_of(reply: Reply) -> str:
    return urlsplit(reply.location).path


def challenge(page: Reply) -> tuple[int, int]:
    """The card pair a /login/verify page asks for (code numbers from 1)."""
    match = CHALLENGE_RE.search(page.body)
    assert match, f"no card challenge on a {page.status} page"
    return int(match[1]), int(match[2])


def card_answer(account: dict, pair: tuple[int, int]) -> tuple[str, str]:
    codes = account["card_codes"]
    return codes[pair[0] - 1][:2], codes[pair[1] - 1][2:]


def answer_card(browser: Browser, answer: tuple[str, str], **extra: str) -> Reply:
    """POST one card answer on this browser's pending login, whatever pair it is for."""
    return browser.post(
        "/login/verify",
        {
            "csrf_token": browser.get("/login/verify").csrf(),
            "code_first": answer[0],
            "code_last": answer[1],
            **extra,
        },
    )


def recovery_step(browser: Browser, code: str) -> Reply:
    return browser.submit("/login/recovery", {"recovery_code": code})


def sign_out(browser: Browser) -> Reply:
    """POST /logout with a CSRF token of the signed-in dashboard."""
    return browser.submit("/logout", {}, page="/account")


def session_cookie(browser: Browser, name: str) -> str:
    value = browser.cookies.get(name)
    assert value, f"no {name} cookie in the jar: {sorted(browser.cookies)}"
    return value


def sql(server: LiveServer, query: str, *params) -> list[tuple]:
    """Read the live server's SQLite database (a second, read-only connection)."""
    path = server.env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute(query, params).fetchall()
