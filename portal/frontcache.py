"""Anonymous public pages replayed whole, before Flask: the page cache's last step.

portal.pagecache renders a public page once per content version and language, but the
request handling around that copy (contexts, the cookie session, the locale, the CSRF
check, the headers, the log) still cost a few times the lookup itself. For a visitor
without a session cookie, the whole response of such a page depends only on the request:
its path and query, its cookies (language, popups hidden today), the validators it sends
(``If-None-Match``, ``If-Modified-Since``), the host and scheme; and on the content key
(content version, KST date). This middleware keeps each such response as Flask sent it,
under exactly those inputs, and sends it again to the next identical request while this
worker's content key is still fresh and unchanged, with a new request id and its own
request line in the log.

Flask decides what may be kept, not this module: a view calls :func:`pagecache.share` only
for the shared copy of a page (nobody signed in, no flash waiting), and a response is kept
only if it is a 200 or a 304 that sets no cookie (a page whose form made a CSRF token sets
one). A request with a session or remember-me cookie, a body, or any method but GET always
goes to Flask. When the worker's copy of the version is stale, the request goes to Flask,
which re-reads the version (and drops every kept response when it has changed).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask

from portal import pagecache
from portal.logs import log_request_line, new_request_id

# Bounds a worker's kept responses when visitors vary their cookies or query at will: the
# oldest go first. In bytes too, since the policy page alone is tens of kilobytes.
MAX_RESPONSES = 256
MAX_BYTES = 4 * 1024 * 1024
# Everything in the environ a shared page's response can depend on, besides the content.
_KEY = (
    "PATH_INFO",
    "QUERY_STRING",
    "HTTP_COOKIE",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_HOST",
    "SCRIPT_NAME",
    "wsgi.url_scheme",
)


@dataclass(frozen=True, slots=True)
class _Kept:
    content_key: tuple[int, str]
    status: str
    headers: list[tuple[str, str]]  # without X-Request-ID
    body: bytes
    log_path: str


class FrontCache:
    """WSGI middleware replaying kept public responses (see the module docstring)."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.private_cookies = tuple(
            f"{name}="
            for name in (
                app.config["SESSION_COOKIE_NAME"],
                app.config.get("REMEMBER_COOKIE_NAME", "remember_token"),
            )
        )

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not self._may_share(environ):
            return self.wsgi_app(environ, start_response)
        key = tuple(environ.get(name, "") for name in _KEY)
        worker = self.app.extensions.get("pagecache")
        kept = worker.responses.get(key) if worker is not None else None
        if kept is not None and kept.content_key == worker.fresh_key(self._ttl()):
            return self._replay(kept, start_response)
        return self._pass(key, environ, start_response)

    def _ttl(self) -> float:
        return self.app.config.get("PORTAL_CONTENT_VERSION_SECONDS", 0)

    def _may_share(self, environ: dict) -> bool:
        if environ.get("REQUEST_METHOD") != "GET":
            return False
        if environ.get("CONTENT_LENGTH", "") not in ("", "0"):
            return False
        if "HTTP_TRANSFER_ENCODING" in environ:  # a chunked body
            return False
        cookies = environ.get("HTTP_COOKIE", "")
        # A substring test errs towards Flask: a name merely containing one goes there too.
        return not any(name in cookies for name in self.private_cookies)

    def _replay(self, kept: _Kept, start_response: Callable) -> list[bytes]:
        request_id = new_request_id()
        start_response(kept.status, [*kept.headers, ("X-Request-ID", request_id)])
        log_request_line(self.app, "GET", kept.log_path, int(kept.status[:3]), request_id)
        return [kept.body]

    def _pass(self, key: tuple, environ: dict, start_response: Callable) -> Iterable[bytes]:
        sent: list = []

        def remember(status, headers, exc_info=None):
            sent[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, remember)
        shared = environ.get(pagecache.SHARED)
        if shared is None or not sent or sent[0][:3] not in ("200", "304"):
            return body
        status, headers = sent
        if any(name.lower() == "set-cookie" for name, _ in headers):
            return body
        try:
            data = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        content_key, log_path = shared
        kept = _Kept(
            content_key=content_key,
            status=status,
            headers=[(n, v) for n, v in headers if n.lower() != "x-request-id"],
            body=data,
            log_path=log_path,
        )
        worker = self.app.extensions.get("pagecache")
        # Kept only if the version it was made under is still this worker's (a change
        # committed during the request has already dropped it).
        if worker is not None and worker.fresh_key(self._ttl()) == content_key:
            _keep(worker.responses, key, kept, worker.lock)
        return [data]


def _keep(responses: OrderedDict, key: tuple, kept: _Kept, lock) -> None:
    with lock:
        responses.pop(key, None)
        responses[key] = kept
        size = sum(len(k.body) for k in responses.values())
        while len(responses) > MAX_RESPONSES or size > MAX_BYTES:
            _, oldest = responses.popitem(last=False)
            size -= len(oldest.body)


def register(app: Flask) -> None:
    app.wsgi_app = FrontCache(app, app.wsgi_app)
