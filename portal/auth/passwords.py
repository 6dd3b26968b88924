"""Password hashing and the password rules of PRODUCT.md §2."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

import bcrypt
from flask import current_app

from portal.auth import messages as m

MIN_LENGTH = 8
MAX_LENGTH = 128
ZXCVBN_MAX_LENGTH = 72

# bcrypt reads at most 72 bytes and bcrypt 5 raises beyond them; one Korean syllable is 3
# bytes in UTF-8, so a 25-syllable passphrase would already be cut. We therefore never give
# bcrypt the password itself: we NFKC-normalise it (so the same text typed on different
# keyboards or systems matches), take HMAC-SHA256 under a fixed, versioned label, and hand
# bcrypt the 44-byte base64 of that digest. Every byte of the password counts, the input
# is ASCII without NUL bytes, and the label keeps these hashes apart from plain SHA-256
# digests leaked elsewhere ("password shucking"). Changing the label needs a rehash on login.
_PREHASH_LABEL = b"anytrack-portal/password/v1"


def _prehash(password: str) -> bytes:
    normalised = unicodedata.normalize("NFKC", password).encode("utf-8")
    digest = hmac.new(_PREHASH_LABEL, normalised, hashlib.sha256).digest()
    return base64.b64encode(digest)


def hash_password(password: str, rounds: int | None = None) -> str:
    """bcrypt hash of ``password`` at the configured cost."""
    cost = rounds or current_app.config["BCRYPT_ROUNDS"]
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds=cost)).decode("ascii")


def check_password(password: str, password_hash: str) -> bool:
    """Constant-time check of ``password`` against a stored bcrypt hash."""
    if len(password) > MAX_LENGTH:
        # Still do the work, so a long guess costs and times the same as any other.
        dummy_check()
        return False
    try:
        return bcrypt.checkpw(_prehash(password), password_hash.encode("ascii"))
    except ValueError:
        return False


@functools.lru_cache(maxsize=8)
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"dummy-password-for-unknown-ids", bcrypt.gensalt(rounds=rounds))


def unmatchable_hash() -> str:
    """A stored-hash stand-in no password matches (a random secret's, at today's cost)."""
    return _unmatchable(current_app.config["BCRYPT_ROUNDS"])


@functools.lru_cache(maxsize=4)
def _unmatchable(rounds: int) -> str:
    return bcrypt.hashpw(secrets.token_bytes(32), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def dummy_check() -> None:
    """Spend one bcrypt check's time, for unknown login IDs (no timing oracle)."""
    bcrypt.checkpw(b"not-the-password", _dummy_hash(current_app.config["BCRYPT_ROUNDS"]))


def password_problems(
    password: str, *, login_id: str = "", extra: tuple[str, ...] = ()
) -> list[str]:
    """Every rule ``password`` breaks, as message keys (empty when acceptable).

    Rules (PRODUCT.md §2): 8–128 characters; at least 10 with 2 character classes or 8 with 3;
    not containing the login ID; not a common password (zxcvbn score below 2, or letters
    that are only keyboard walks and Korean words of ``common_passwords_ko.txt``).
    """
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(m.PASSWORD_TOO_SHORT)
        return problems
    if len(password) > MAX_LENGTH:
        problems.append(m.PASSWORD_TOO_LONG)
        return problems
    classes = _character_classes(password)
    if not ((len(password) >= 10 and classes >= 2) or classes >= 3):
        problems.append(m.PASSWORD_CLASSES)
    lowered = password.casefold()
    if login_id and login_id.casefold() in lowered:
        problems.append(m.PASSWORD_CONTAINS_ID)
    # zxcvbn knows common English passwords, keyboard walks, dates and words, not Korea's:
    # "Qwer1234!@#$" or 안녕하세요 typed in English mode ("dkssudgktpdy1!") passed. Those
    # come from a list kept as data (common_passwords_ko.txt), checked on the password's
    # letters alone and handed to zxcvbn as known words too.
    if not problems and _made_of_common_korean_patterns(password):
        problems.append(m.PASSWORD_COMMON)
    # zxcvbn knows common passwords, keyboard walks, dates and dictionary words. It refuses
    # more than 72 characters (ValueError: its matching grows fast with length), while
    # PRODUCT.md §2 allows 128; so it judges the first 72, plenty for spotting "password123!".
    # A weak start is then refused even if the tail is strong, the safe way round.
    if not problems:
        # Imported here, not at module level: zxcvbn's dictionaries hold ~12 MB per worker and
        # only the few password-setting requests need them (a third-party module, so the
        # layer rule on function-level imports of the portal does not apply).
        from zxcvbn import zxcvbn

        result = zxcvbn(
            password[:ZXCVBN_MAX_LENGTH],
            user_inputs=[*(v for v in (login_id, *extra) if v), *common_korean_patterns()],
        )
        if result["score"] < 2:
            problems.append(m.PASSWORD_COMMON)
    return problems


@functools.cache
def common_korean_patterns() -> tuple[str, ...]:
    """The entries of ``common_passwords_ko.txt``, lower-cased, in file order."""
    text = Path(__file__).with_name("common_passwords_ko.txt").read_text(encoding="utf-8")
    entries: list[str] = []
    for line in text.splitlines():
        if not line.lstrip().startswith("#"):
            entries.extend(word.casefold() for word in line.split())
    return tuple(dict.fromkeys(entries))


def _made_of_common_korean_patterns(password: str) -> bool:
    """Whether the password's letters alone are one list entry or a run of entries."""
    core = "".join(ch for ch in unicodedata.normalize("NFKC", password).casefold() if ch.isalpha())
    patterns = frozenset(common_korean_patterns())
    longest = max(map(len, patterns))
    # made[i]: the first i letters split into entries ("qwerasdf" = qwer + asdf).
    made = [True] + [False] * len(core)
    for end in range(1, len(core) + 1):
        made[end] = any(
            made[start] and core[start:end] in patterns
            for start in range(max(0, end - longest), end)
        )
    return bool(core) and made[-1]


def _character_classes(password: str) -> int:
    lower = any(ch.islower() for ch in password)
    upper = any(ch.isupper() for ch in password)
    digit = any(ch.isdigit() for ch in password)
    # Hangul and other letters without case count as their own class, like symbols do.
    other = any(not (ch.isascii() and ch.isalnum()) and not ch.isspace() for ch in password)
    other = other or any(ch.isspace() for ch in password)
    return sum((lower, upper, digit, other))


# A temporary password is read off paper and typed once: no look-alikes (0/O, 1/l/I).
_TEMPORARY_ALPHABETS = ("ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789")


def temporary_password(*, login_id: str = "") -> str:
    """A first password for an account staff register (``Kp7w-mT3x-9aRe``): 12 random
    characters of three classes, about 70 bits, that pass :func:`password_problems`. The
    customer replaces it at the first sign-in (the account starts at that step)."""
    pool = "".join(_TEMPORARY_ALPHABETS)
    while True:
        chars = [secrets.choice(alphabet) for alphabet in _TEMPORARY_ALPHABETS]
        chars += [secrets.choice(pool) for _ in range(12 - len(chars))]
        secrets.SystemRandom().shuffle(chars)
        text = "".join(chars)
        candidate = f"{text[:4]}-{text[4:8]}-{text[8:]}"
        if not password_problems(candidate, login_id=login_id):
            return candidate


def temporary_password_expired(set_at: datetime, now: datetime) -> bool:
    """A password someone else set (staff registration, import, a staff reset) older than
    ``PORTAL_TEMPORARY_PASSWORD_DAYS``: it travelled on paper or by phone, so it must not
    stay a working password for an account nobody has taken up.
    """
    days = current_app.config["PORTAL_TEMPORARY_PASSWORD_DAYS"]
    return now - set_at > timedelta(days=days)
