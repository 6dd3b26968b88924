"""Error pages: Korean first, a reference id, never a stack trace, SQL or secret."""

from __future__ import annotations

import contextlib

from flask import Flask, current_app, g, render_template, request
from flask.globals import request_ctx
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.database import RETRY_KEY
from portal.extensions import db

TITLES = {
    400: _l("잘못된 요청입니다"),
    403: _l("접근 권한이 없습니다"),
    404: _l("페이지를 찾을 수 없습니다"),
    405: _l("허용되지 않는 요청 방식입니다"),
    409: _l("다른 곳에서 먼저 변경되었습니다"),
    413: _l("보낸 내용이 너무 큽니다"),
    429: _l("요청이 너무 많습니다"),
    500: _l("일시적인 오류가 발생했습니다"),
    503: _l("서비스를 잠시 이용할 수 없습니다"),
}

MESSAGES = {
    400: _l("요청을 처리할 수 없습니다. 입력 내용을 확인한 뒤 다시 시도해 주세요."),
    403: _l("이 페이지를 볼 수 있는 권한이 없습니다."),
    404: _l("주소가 바뀌었거나 없는 페이지입니다. 주소를 다시 확인해 주세요."),
    405: _l("이 주소는 해당 방식의 요청을 받지 않습니다."),
    409: _l("화면을 연 뒤 정보가 바뀌었습니다. 최신 내용을 확인한 뒤 다시 저장해 주세요."),
    413: _l("보낸 내용이 너무 큽니다. 내용을 줄여 다시 시도해 주세요."),
    429: _l("짧은 시간에 요청이 너무 많았습니다. 잠시 후 다시 시도해 주세요."),
    500: _l("잠시 후 다시 시도해 주세요. 문제가 계속되면 고객센터에 참조 번호를 알려 주세요."),
    503: _l("일시적인 장애로 요청을 처리하지 못했습니다. 잠시 후 다시 시도해 주세요."),
}
# SQLite's full disk: nothing of the request was kept (the transaction went whole).
STORAGE_FULL_MESSAGE = _l(
    "지금은 저장할 수 없어 아무것도 바뀌지 않았습니다. 잠시 후 다시 시도해 주세요."
)

# Seconds a client is asked to wait after a 503: a database restart takes a few.
RETRY_AFTER_SECONDS = 5

CSRF_MESSAGE = _l(
    "보안 확인 정보가 없거나 만료되었습니다. 페이지를 새로 고친 뒤 다시 시도해 주세요."
)


def render_error(code: int, message: str | None = None, **context):
    """Render the error page for ``code`` with the request's reference id."""
    code = code if code in TITLES else 500
    # A request with an untrusted Host header has no URL adapter: the full layout cannot
    # build its links, so such requests get a bare page (and no link shaped by that host).
    template = "errors/error.html" if request_ctx.url_adapter is not None else "errors/bare.html"
    body = render_template(
        template,
        code=code,
        title=TITLES[code],
        message=message or MESSAGES[code],
        reference=g.get("request_id", "-"),
        **context,
    )
    return body, code


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        current_app.logger.warning("CSRF refused: %s", exc.description)
        return render_error(400, str(CSRF_MESSAGE))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        # An exception after the view (the request's commit) arrives wrapped in a 500.
        if database_unreachable(getattr(exc, "original_exception", None)):
            return database_unavailable(exc.original_exception)
        if code == 500 and _is_disk_full(getattr(exc, "original_exception", None)):
            # Raised by the commit at the end of the request (an after_request hook), which
            # Flask hands over as a 500 wrapping it.
            return storage_full(exc.original_exception)
        if code >= 500:
            current_app.logger.error("HTTP %s on %s", code, request.path)
            # A 500 may come from a failed commit: the page must render whatever the session
            # holds (render_without_database if even that fails).
            _rollback_quietly()
            response_body, status = _render_or_bare(code)
        else:
            response_body, status = render_error(code)
        response = current_app.make_response((response_body, code if code in TITLES else status))
        if code == 429:
            retry = getattr(exc, "retry_after", None) or _retry_after_from(exc)
            if retry:
                response.headers["Retry-After"] = str(retry)
        if code == 405 and exc.get_headers():
            for name, value in exc.get_headers():
                if name.lower() == "allow":
                    response.headers["Allow"] = value
        return response

    @app.errorhandler(Exception)
    def unhandled(exc: Exception):
        if isinstance(exc, HTTPException):  # pragma: no cover - handled above
            return http_error(exc)
        if database_unreachable(exc):
            return database_unavailable(exc)
        if _is_disk_full(exc):
            return storage_full(exc)
        # The traceback goes to the log (with the request id), never to the page.
        current_app.logger.exception("Unhandled error on %s", request.path)
        _rollback_quietly()
        return render_error(InternalServerError.code)


def database_unreachable(exc: BaseException | None) -> bool:
    """The database connection was lost or cannot be opened (``portal.database`` marks a
    refused connection as a disconnect too): an outage, not a bug."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def database_unavailable(exc: DBAPIError):
    """503 with the error page while the database cannot be reached.

    SQLAlchemy has already invalidated the pool, so the next request opens new connections
    and the portal recovers by itself when the database is back. A GET is first served again
    once (``portal.database.RetryReadAfterDisconnect``); this page is what is left when that
    failed too, or for a POST.
    """
    # For the operator: the driver's first line says why (refused, terminated, password).
    reason = str(exc.orig).strip().splitlines()[:1]
    current_app.logger.warning(
        "database unavailable on %s %s: %s: %s",
        request.method,
        request.path,
        type(exc.orig).__name__,
        reason[0] if reason else "",
    )
    ask_for_retry()
    _rollback_quietly()
    _forget_database_state()
    body, code = _render_or_bare(503)
    response = current_app.make_response((body, code))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def ask_for_retry() -> None:
    """A GET or HEAD met a lost connection: serve it once more (portal.database)."""
    if request.environ.get(RETRY_KEY) == "armed":
        request.environ[RETRY_KEY] = "wanted"


def _forget_database_state() -> None:
    # The page must not reach for the database: no signed-in menu (the customer cannot be
    # loaded, and a loaded one is expired by the rollback; Flask-Login keeps the user in
    # g._login_user), and no policy banner (base.html asks for it through g.policy_banner).
    g._login_user = current_app.login_manager.anonymous_user()
    g.policy_banner = None


def _render_or_bare(code: int):
    try:
        return render_error(code)
    except Exception:
        # The layout still needed the database: without it, then the bare page.
        _rollback_quietly()
        _forget_database_state()
    try:
        return render_error(code)
    except Exception:
        _rollback_quietly()
        body = render_template(
            "errors/bare.html",
            code=code,
            title=TITLES[code],
            message=MESSAGES[code],
            reference=g.get("request_id", "-"),
        )
        return body, code


def _is_disk_full(exc: BaseException | None) -> bool:
    """SQLite's SQLITE_FULL: the disk (or its quota) holding the database is full."""
    return isinstance(exc, OperationalError) and "database or disk is full" in str(exc.orig)


def storage_full(exc: BaseException):
    """503, not 500: nothing is wrong with the request, and nothing of it was kept (the
    transaction is rolled back whole; SQLite never leaves half of one). One log line for
    operators, no traceback on the page."""
    current_app.logger.error("Database storage full on %s: %s", request.path, exc)
    _rollback_quietly()
    body, status = render_error(503, str(STORAGE_FULL_MESSAGE))
    response = current_app.make_response((body, status))
    response.headers["Retry-After"] = "60"
    return response


def _retry_after_from(exc: HTTPException) -> int | None:
    response = getattr(exc, "response", None)
    if response is not None and response.headers.get("Retry-After"):
        return response.headers["Retry-After"]
    return None


def _rollback_quietly() -> None:
    # The page must render even if the database itself is what failed.
    with contextlib.suppress(Exception):
        db.session.rollback()
