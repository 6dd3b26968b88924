"""Helpers of the web-layer groups (CSRF, redirects, headers, access control, fuzzing).

They read the live server from outside, as an auditor would: the URL map of an application
built in this process with the server's own production environment (the rules are the
server's, the process is not), and the server's SQLite file opened read-only to see whether
a request changed anything.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from tests.security.live import Browser, LiveServer, Reply

# <converter(args):name> in a rule's text.
ARGUMENT_RE = re.compile(r"<(?:(?P<conv>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_PAGE = "보안 확인 정보가 없거나 만료되었습니다"
EVIL = "evil.example"

# Tables whose rows a request may add without changing state: logs of what happened.
LOG_TABLES = frozenset({"security_events", "access_records", "access_chain"})
# Columns a request may touch without changing state: "last seen" of the session it used.
TOUCH_COLUMNS = frozenset({"last_seen_at"})


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


_apps: dict[int, object] = {}


def production_app(live: LiveServer):
    """The application exactly as the server builds it (same environment), in this process."""
    if id(live) not in _apps:
        from portal import create_app

        with environment(live.env):
            _apps[id(live)] = create_app()
    return _apps[id(live)]


def rules(live: LiveServer) -> list:
    app = production_app(live)
    return sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)


def build(rule, values: dict[str, object]) -> str:
    """The path of ``rule`` with its arguments from ``values``; fails on an unknown argument,
    so a new ID-bearing route is never skipped silently."""
    names = [match["name"] for match in ARGUMENT_RE.finditer(rule.rule)]
    missing = [name for name in names if name not in values]
    assert not missing, f"no value for {missing} of {rule.rule}: teach the test one"
    path = rule.rule
    for match in ARGUMENT_RE.finditer(rule.rule):
        path = path.replace(match[0], str(values[match["name"]]), 1)
    return path


# --- the database, read from outside -----------------------------------------------------


def database_file(live: LiveServer) -> Path:
    return live.directory / "portal.sqlite3"


def query(live: LiveServer, sql: str, params: Iterable = ()) -> list[tuple]:
    conn = sqlite3.connect(f"file:{database_file(live)}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, tuple(params)).fetchall()
    finally:
        conn.close()


def snapshot(live: LiveServer, *, logs: bool = False) -> dict[str, dict[object, dict]]:
    """Every row of every table (keyed by its first column), as committed; without the log
    tables and the "last seen" columns unless ``logs``."""
    conn = sqlite3.connect(f"file:{database_file(live)}?mode=ro", uri=True, timeout=10)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        out: dict[str, dict[object, dict]] = {}
        for table in tables:
            if table in LOG_TABLES and not logs:
                continue
            cursor = conn.execute(f'SELECT * FROM "{table}"')  # table names come from sqlite_master
            columns = [d[0] for d in cursor.description]
            rows = {}
            for number, row in enumerate(cursor):
                record = {c: v for c, v in zip(columns, row, strict=True) if c not in TOUCH_COLUMNS}
                rows[row[0] if columns[0] == "id" else number] = record
            out[table] = rows
        return out
    finally:
        conn.close()


def changes(before: dict, after: dict) -> set[tuple[str, object, str]]:
    """(table, row key, column) of every difference; column ``+`` / ``-`` for a row added or
    removed."""
    found: set[tuple[str, object, str]] = set()
    for table in before.keys() | after.keys():
        old, new = before.get(table, {}), after.get(table, {})
        for key in old.keys() - new.keys():
            found.add((table, key, "-"))
        for key in new.keys() - old.keys():
            found.add((table, key, "+"))
        for key in old.keys() & new.keys():
            for column in old[key].keys() | new[key].keys():
                if old[key].get(column) != new[key].get(column):
                    found.add((table, key, column))
    return found


# --- replies ------------------------------------------------------------------------------


def assert_local(location: str, what: str) -> None:
    """A Location that stays on this site: a single-slash path, no scheme, no host, nothing a
    browser would read as a slash (a backslash) or strip (a control character or space)."""
    parts = urlsplit(location)
    assert location, f"{what}: no Location"
    assert not parts.scheme and not parts.netloc, f"{what}: Location {location!r} leaves the site"
    assert location.startswith("/") and not location.startswith(("//", "/\\")), (
        f"{what}: Location {location!r} is not a plain local path"
    )
    assert not re.search(r"[\\\x00-\x20\x7f]", location), f"{what}: Location {location!r}"
    assert urlsplit(urljoin("https://portal.test/a/b", location)).netloc == "portal.test", what


LINK_RE = re.compile(r'\b(?:href|action|src|formaction)="([^"]*)"')


def assert_no_offsite_links(body: str, what: str) -> None:
    """No link, form or resource of the page points at the attacker's host or a script URL
    (a payload may sit *inside* a local link's query, quoted, which is harmless)."""
    for raw in LINK_RE.findall(body):
        link = html.unescape(raw)
        target = urlsplit(urljoin("https://portal.test/a/b", link))
        assert target.netloc == "portal.test" or EVIL not in target.netloc, f"{what}: {link!r}"
        assert target.scheme in ("https", "http", "mailto", "tel", ""), f"{what}: {link!r}"


def oversized_post(browser: Browser, path: str, size: int = 3 * 1024 * 1024) -> Reply:
    """A form post that declares ``size`` bytes but sends only the first 64 KB: the server
    must answer from the declared length alone, and the client never races the server's
    close while still sending (which made a full upload flaky)."""
    conn = browser.connection()
    try:
        conn.putrequest("POST", path, skip_host=True)
        sent = {
            "Host": browser.server.host,
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(size),
        }
        if browser.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        for name, value in sent.items():
            conn.putheader(name, value)
        conn.endheaders()
        with contextlib.suppress(OSError):
            conn.send(b"body=" + b"x" * 65536)
        response = conn.getresponse()
        raw = response.read()
        return Reply(response.status, response.headers, raw.decode("utf-8", "replace"), raw)
    finally:
        conn.close()


def signed_in(browser: Browser) -> bool:
    return browser.get("/account").status == 200


def staff_signed_in(browser: Browser) -> bool:
    return browser.get("/admin/").status == 200


def fresh_staff(live: LiveServer) -> dict[str, dict]:
    """One new staff member per role. Signing the same staff member in twice within one TOTP
    step fails (the step is single-use), so tests that sign staff in take their own."""
    return live.seed(0)["staff"]
