"""Request IDs and log formatting (JSON lines in production)."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

# Fields a log record may never carry (a last line of defence: code never logs them).
_REDACT = ("password", "otp", "code", "secret", "token", "account_number", "csrf")


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (or ``-`` outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
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
            entry["path"] = request.path
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def configure_logging(app: Flask) -> None:
    """Route the app's and werkzeug's logs through one handler with the request id."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
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
        g.request_id = secrets.token_hex(8)

    @app.after_request
    def log_request(response):
        if not request.path.startswith("/static/"):
            # The path only, never the query string: nothing secret rides in URLs, but a
            # mistyped link must not put personal data into the logs either.
            app.logger.info("%s %s %s", request.method, request.path, response.status_code)
        return response
