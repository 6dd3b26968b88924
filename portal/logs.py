"""Request IDs and log formatting (JSON lines in production)."""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

# Fields a log record may never carry (a last line of defence: code never logs them).
_REDACT = ("password", "otp", "code", "secret", "token", "account_number", "csrf")
REDACTED = "[REDACTED]"

# A name is sensitive when one of its _- separated parts is a word above (or its plural):
# new_password, csrf_token, otp_secret, card_codes, account_number. Whole parts only, so
# "barcode" or "encoded" stay readable; "status_code" is redacted too, a cheap mistake.
_WORDS = "|".join(re.escape(word) for word in _REDACT)
_NAME = rf"(?:[a-z0-9]+[_-])*(?:{_WORDS})s?(?:[_-][a-z0-9]+)*"
_SENSITIVE_NAME = re.compile(_NAME, re.IGNORECASE)
# In text: the name, then = or : (perhaps after a closing quote, as in JSON or a dict's
# repr), then the value: quoted, or up to a space or a delimiter of URLs and reprs.
_SENSITIVE_PAIR = re.compile(
    rf"(?<![a-z0-9_-])(?P<name>{_NAME})(?![a-z0-9_-])"
    r"(?P<sep>[\"']?\s*[:=]\s*)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;&'\"()\[\]{}]+)",
    re.IGNORECASE,
)
# Attributes every record has; anything else came in through ``extra=``.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}
_TRACEBACKS = logging.Formatter()


def redact_text(text: str) -> str:
    """``text`` with the value of every ``secret_name=value`` pair replaced."""

    def replace(match: re.Match) -> str:
        value = match.group("value")
        quote = value[0] if value[0] in "'\"" else ""
        return f"{match.group('name')}{match.group('sep')}{quote}{REDACTED}{quote}"

    return _SENSITIVE_PAIR.sub(replace, text)


def _redact_value(value: object) -> object:
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if isinstance(key, str) and _SENSITIVE_NAME.fullmatch(key)
            else _redact_value(item)
            for key, item in value.items()
        }
    if type(value) in (list, tuple):  # exactly: a named tuple cannot be rebuilt like this
        return type(value)(_redact_value(item) for item in value)
    return value


class RedactFilter(logging.Filter):
    """Replaces secrets in a record's arguments, ``extra`` fields, message and traceback.

    Code never logs secrets on purpose; this catches the accident (a form dict, a URL with
    a token, an exception quoting its input). Values are matched by the name they come
    with, so a secret passed bare (``log("%s", password)``) cannot be recognised.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping | tuple):
            record.args = _redact_value(record.args)
        for name, value in list(vars(record).items()):
            if name in _RECORD_FIELDS:
                continue
            if _SENSITIVE_NAME.fullmatch(name):
                setattr(record, name, REDACTED)
            else:
                setattr(record, name, _redact_value(value))
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed call: logging reports it itself, as it always did
        record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (or ``-`` outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id", "-")
        elif not hasattr(record, "request_id"):
            # A request served before Flask (portal.frontcache) passes its own id.
            record.request_id = "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["method"] = request.method
            # As in the request line: a password-reset link's secret stays out of the logs.
            entry["path"] = loggable_path()
        elif hasattr(record, "http"):
            entry["method"], entry["path"] = record.http
        if record.exc_info:
            # exc_text is the traceback as RedactFilter left it.
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def new_request_id() -> str:
    return secrets.token_hex(8)


TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def loggable_path() -> str:
    """The request's path, with a URL variable named ``token`` (a password-reset link's
    secret) written as the rule's placeholder: a link still valid must not sit in the logs."""
    rule = request.url_rule
    if rule is not None and "<token>" in rule.rule:
        return rule.rule
    return request.path


def configure_logging(app: Flask) -> None:
    """Route the app's and werkzeug's logs through one handler with the request id."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactFilter())
    if app.config.get("JSON_LOGS"):
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(logging.INFO)
    app.logger.propagate = False

    @app.before_request
    def assign_request_id() -> None:
        # Always our own random id: a client-chosen X-Request-ID could forge log lines.
        g.request_id = new_request_id()

    @app.after_request
    def log_request(response):
        if not request.path.startswith("/static/"):
            # The path only, never the query string: nothing secret rides in URLs, but a
            # mistyped link must not put personal data into the logs either.
            app.logger.info("%s %s %s", request.method, loggable_path(), response.status_code)
        return response


def log_request_line(app: Flask, method: str, path: str, status: int, request_id: str) -> None:
    """The request line of a response sent without a Flask request (portal.frontcache):
    the same line, with the id and the method and path passed in."""
    app.logger.info(
        "%s %s %s", method, path, status, extra={"request_id": request_id, "http": (method, path)}
    )
