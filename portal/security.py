"""Response headers, safe redirects, the data-key crypto helpers, and private files."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, abort, current_app, g, request
from flask_login import current_user

from portal.config import LEGACY_PEPPER_ID
from portal.extensions import db

# No inline script or style anywhere (templates use static files), so the policy needs no
# 'unsafe-inline'. Inline SVG (OTP QR codes) is markup, not script, and is allowed.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ]
)

# Pages under these prefixes carry forms with CSRF tokens or personal data: never cached.
PRIVATE_PREFIXES = ("/account", "/billing", "/admin", "/login", "/reauth", "/logout")


def set_security_headers(response):
    """Attach the baseline headers of PRODUCT.md §8 to every response."""
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if current_app.config.get("HSTS"):
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if _is_private_response():
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    request_id = getattr(g, "request_id", None)
    if request_id:
        headers["X-Request-ID"] = request_id
    return response


def _is_private_response() -> bool:
    if request.path.startswith(PRIVATE_PREFIXES):
        return True
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:
        # The session could not be looked up (the database went away mid-request): leave
        # the session clean for the request's end, and treat the page as private.
        with contextlib.suppress(Exception):
            db.session.rollback()
        return True


def reject_nul_bytes() -> None:
    """Refuse a NUL character in the path or query string with a clear 400.

    No URL of the portal needs one, and PostgreSQL refuses NUL inside text, so one reaching
    a query would surface as a 500. Form fields are left to their own validation, which
    answers with a message next to the field and keeps what the user typed.
    """
    if "\x00" in request.path or any("\x00" in value for value in request.args.values()):
        abort(400)


def refuse_oversized_streams() -> None:
    """Refuse a body sent without ``Content-Length`` (chunked) past ``MAX_CONTENT_LENGTH``.

    A declared length over the limit is refused by Werkzeug before anything is read; a
    chunked body is not: Werkzeug reads it only up to the limit and parses the truncated
    form as if it were whole, so an oversized post reached the CSRF check and the view cut
    short instead of getting the 413 page. Read it here (the limit bounds the memory), keep
    it for the form parser, and look one byte further: past the limit, the stream raises 413.
    """
    if request.content_length is not None or not request.max_content_length:
        return
    if "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return
    request.get_data(cache=True)
    request.stream.read(1)


def register_security(app: Flask) -> None:
    app.before_request(reject_nul_bytes)
    # Before the CSRF check, which would otherwise parse the truncated form first.
    funcs = app.before_request_funcs.setdefault(None, [])
    csrf_at = next((i for i, f in enumerate(funcs) if f.__name__ == "csrf_protect"), 0)
    funcs.insert(csrf_at, refuse_oversized_streams)
    app.after_request(set_security_headers)


def safe_next_url(target: str | None, default: str = "/account") -> str:
    """Return ``target`` only if it is a local path on this site, else ``default``.

    Refuses scheme-relative (``//evil``), backslash tricks (``/\\evil``, which browsers
    normalise to ``//``), any scheme (``javascript:``), control characters, and anything
    that does not start with a single slash.
    """
    if not target or len(target) > 2000:
        return default
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return default
    if "\\" in target:
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


# --- data-key crypto ---------------------------------------------------------------


def _fernet() -> MultiFernet:
    # Newest key first: it encrypts; every key decrypts, so old keys keep working until a
    # rotation (MultiFernet.rotate, for billing's `keys rotate`) re-encrypts under the newest.
    keys = current_app.config["PORTAL_DATA_KEYS"]
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def encrypt(plaintext: str) -> bytes:
    """Encrypt a string with the newest data key."""
    return _fernet().encrypt(plaintext.encode("utf-8"))


def decrypt(token: bytes) -> str:
    """Decrypt a value written by :func:`encrypt` with any configured data key.

    :raises InvalidToken: when no configured key opens it.
    """
    return _fernet().decrypt(bytes(token)).decode("utf-8")


def is_current(token: bytes) -> bool:
    """True when ``token`` was written under the newest data key (nothing to rotate)."""
    keys = current_app.config["PORTAL_DATA_KEYS"]
    newest = keys[0]
    try:
        Fernet(newest.encode() if isinstance(newest, str) else newest).decrypt(bytes(token))
    except InvalidToken:
        return False
    return True


def rotate(token: bytes) -> bytes:
    """Re-encrypt ``token`` under the newest data key (``MultiFernet.rotate``).

    :raises InvalidToken: when no configured key opens it.
    """
    return _fernet().rotate(bytes(token))


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of ``value`` under the secret key, for short-lived tokens only (sessions,
    pending sign-ins, reset links): changing SECRET_KEY voids them, which is the point.
    Hashes that must outlive a SECRET_KEY change use :func:`peppered_hash`."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


# --- versioned peppers (PORTAL_HASH_PEPPERS) --------------------------------------


def newest_pepper_id() -> str:
    """The id of the pepper new hashes are made with (the first of PORTAL_HASH_PEPPERS)."""
    return current_app.config["PORTAL_HASH_PEPPERS"][0][0]


def _pepper(pepper_id: str | None) -> str | None:
    peppers = dict(current_app.config["PORTAL_HASH_PEPPERS"])
    if pepper_id is None:
        # Rows from before peppers existed were keyed with SECRET_KEY (migration 0013); the
        # operator who changes SECRET_KEY lists the old one as the "legacy" pepper.
        return peppers.get(LEGACY_PEPPER_ID) or current_app.config["SECRET_KEY"]
    return peppers.get(pepper_id)


def peppered_hash(value: str, pepper_id: str | None) -> str | None:
    """HMAC-SHA256 of ``value`` under the pepper ``pepper_id`` (None: a pre-pepper row).

    None when that pepper is no longer configured: nothing can match it then.
    """
    pepper = _pepper(pepper_id)
    if pepper is None:
        return None
    return hmac.new(pepper.encode(), value.encode("utf-8"), hashlib.sha256).hexdigest()


def peppered_candidates(value: str) -> list[tuple[str | None, str]]:
    """``(pepper id, hash)`` of ``value`` under every configured pepper and the pre-pepper
    key: a stored row matches only the pair of the pepper it records."""
    ids: list[str | None] = [
        pepper_id for pepper_id, _ in current_app.config["PORTAL_HASH_PEPPERS"]
    ]
    ids.append(None)
    return [(pepper_id, peppered_hash(value, pepper_id)) for pepper_id in ids]  # type: ignore[misc]


def mask(value: str | None, visible: int = 4) -> str:
    """Mask all but the last ``visible`` characters: ``*******1234``."""
    if not value:
        return ""
    if len(value) <= visible:
        return "*" * len(value)
    return "*" * (len(value) - visible) + value[-visible:]


def mask_name(value: str | None) -> str:
    """A name with its middle hidden, as Korean notices print it: ``홍길동`` → ``홍*동``,
    ``남궁길동`` → ``남**동``, ``홍길`` → ``홍*``. Enough for staff to tell two results apart,
    not enough to learn who a customer is."""
    text = (value or "").strip()
    if len(text) <= 1:
        return "*" * len(text)
    if len(text) == 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


def mask_email(value: str | None) -> str:
    """``hong@example.com`` → ``ho***@example.com``: the domain and two letters stay; the
    stars are always three, so the length of the mailbox name is not given away either."""
    if not value or "@" not in value:
        return mask(value)
    local, _, domain = value.rpartition("@")
    return local[: 2 if len(local) > 2 else 1] + "***@" + domain


_PHONE_GROUPS = re.compile(r"[- ]")


def mask_phone(shown: str | None) -> str:
    """A phone number *as shown* (``010-1234-5678``, ``+1 202-555-0123``) with every group
    but the first and the last hidden: ``010-****-5678``. Without separators, all but the
    last four digits."""
    if not shown:
        return ""
    groups = _PHONE_GROUPS.split(shown)
    if len(groups) < 3:
        return mask(shown)
    separators = _PHONE_GROUPS.findall(shown)
    middle = ["*" * len(group) for group in groups[1:-1]]
    parts = [groups[0], *middle, groups[-1]]
    out = parts[0]
    for separator, part in zip(separators, parts[1:], strict=True):
        out += separator + part
    return out


__all__ = [
    "CSP",
    "InvalidToken",
    "decrypt",
    "encrypt",
    "is_current",
    "keyed_hash",
    "mask",
    "mask_email",
    "mask_name",
    "mask_phone",
    "newest_pepper_id",
    "peppered_candidates",
    "peppered_hash",
    "register_security",
    "rotate",
    "safe_next_url",
    "set_security_headers",
]


def create_private_file(path: str | os.PathLike) -> int:
    """Create ``path`` for writing, readable by its owner only (mode 0600); a file descriptor.

    For files that hold personal data or secrets (backups, the one-time sheet of an import).
    ``O_EXCL`` refuses a path that exists, a symbolic link included, so nothing is
    overwritten and no link planted there redirects the write; the mode is set at creation,
    so there is no moment when others could open the file.

    :raises OSError: ``FileExistsError`` when the path exists, or the directory is unwritable.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    # The umask can only take bits away from 0600; set it exactly all the same.
    os.fchmod(fd, 0o600)
    return fd
