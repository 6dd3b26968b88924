"""Log redaction: a last line of defence for secrets that reach a log call anyway."""

from __future__ import annotations

import io
import json
import logging

import pytest

SECRET = "Hunter2-Secret!"


@pytest.fixture
def log_output(app):
    """What the app's log handler writes, as text."""
    stream = io.StringIO()
    app.logger.handlers[0].setStream(stream)
    return stream


@pytest.mark.parametrize(
    ("message", "args"),
    [
        ("sign-in failed for %s with password=%s", ("kim_minsu", SECRET)),
        ("sign-in failed for %s with new_password: %s", ("kim_minsu", SECRET)),
        ("form for %s: %s", ("kim_minsu", {"login_id": "kim", "password": SECRET})),
        ("form for %s: %s", ("kim_minsu", '{"login_id": "kim", "csrf_token": "' + SECRET + '"}')),
        ("reset link for %s: /login/reset?token=%s&lang=ko", ("kim_minsu", SECRET)),
        ("otp %(otp)s for %(login_id)s", {"otp": SECRET, "login_id": "kim_minsu"}),
        ("card for %s, codes='%s'", ("kim_minsu", SECRET + " 1234 5678")),
        ("account_number=%s for %s", (SECRET, "kim_minsu")),
    ],
)
def test_secrets_in_log_messages_are_redacted(app, log_output, message, args):
    app.logger.warning(message, *([args] if isinstance(args, dict) else args))
    written = log_output.getvalue()
    assert "kim_minsu" in written  # the rest of the line survives
    assert "[REDACTED]" in written
    assert "Hunter2" not in written and "5678" not in written


def test_secrets_in_extra_fields_are_redacted(app):
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record)

    app.logger.addHandler(Keep())  # after the portal's handler, as a log shipper would be
    app.logger.info(
        "card issued",
        extra={"login_id": "kim_minsu", "otp_secret": SECRET, "form": {"password": SECRET}},
    )
    (record,) = seen
    assert record.login_id == "kim_minsu"
    assert record.otp_secret == "[REDACTED]"
    assert record.form == {"password": "[REDACTED]"}


def test_secrets_in_exception_text_are_redacted(app, log_output):
    try:
        raise ValueError(f"could not parse token={SECRET}")
    except ValueError:
        app.logger.exception("unhandled error on %s", "/login")
    written = log_output.getvalue()
    assert "token=[REDACTED]" in written and SECRET not in written
    assert "Traceback" in written  # the traceback itself is kept


def test_production_json_lines_are_redacted(app, log_output):
    from portal.logs import JsonFormatter

    app.logger.handlers[0].setFormatter(JsonFormatter())
    try:
        raise ValueError(f"secret: {SECRET}")
    except ValueError:
        app.logger.exception("password=%s", SECRET)
    entry = json.loads(log_output.getvalue().splitlines()[-1])
    assert entry["message"] == "password=[REDACTED]"
    assert "secret: [REDACTED]" in entry["exception"] and SECRET not in entry["exception"]


@pytest.mark.parametrize(
    "message",
    [
        "GET /login 200",
        "CSRF refused: The CSRF token is missing.",
        "HTTP 500 on /account/inquiries/7",
        "barcode=8801234 encoded=abc postal_code_hint 04524",
    ],
)
def test_ordinary_lines_are_left_alone(app, log_output, message):
    app.logger.info(message)
    assert log_output.getvalue().rstrip("\n").endswith(message)
