"""Configuration classes, read from the environment (names in REFERENCE.md).

Secrets come only from the environment or from files under ``instance/``; there is no
fallback string in code. Development makes its own secrets once and keeps them in
``instance/`` so that sessions and encrypted data survive a restart.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from portal.business import BusinessConfigError, BusinessDetails, from_environment


class ConfigError(RuntimeError):
    """The configuration is incomplete or unsafe; the message is one line for operators."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _env_flag(name: str) -> bool:
    raw = os.environ.get(name, "").strip()
    if raw not in ("", "0", "1"):
        raise ConfigError(f"{name} must be 0 or 1, got {raw!r}")
    return raw == "1"


def _env_list(name: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]


def _normalise_db_url(url: str) -> str:
    # Operators paste ``postgres://`` or ``postgresql://`` URLs; we drive PostgreSQL with
    # psycopg 3, whose SQLAlchemy dialect name must be spelled out.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def validate_data_keys(keys: list[str], source: str) -> list[str]:
    """Check each data key is a Fernet key (url-safe base64 of 32 bytes)."""
    for index, key in enumerate(keys):
        try:
            Fernet(key.encode())
        except ValueError as exc:
            raise ConfigError(
                f"{source}: key #{index + 1} is not a url-safe base64 32-byte key"
            ) from exc
    return keys


PEPPER_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,16}")
PEPPER_MIN_LENGTH = 32
# Rows hashed before peppers existed record no pepper id: they were keyed with SECRET_KEY.
# They are checked with the pepper listed under this id when there is one (the old
# SECRET_KEY, once SECRET_KEY has been changed), else with SECRET_KEY itself.
LEGACY_PEPPER_ID = "legacy"


def parse_hash_peppers(raw: str, source: str) -> list[tuple[str, str]]:
    """``id:secret,id:secret`` (newest first) into ``[(id, secret), ...]``.

    Each id names its pepper in the rows hashed with it, so ids must be unique and may never
    be reused for another secret; secrets are at least 32 characters.
    """
    peppers: list[tuple[str, str]] = []
    for index, item in enumerate(part.strip() for part in raw.split(",")):
        if not item:
            continue
        pepper_id, sep, secret = item.partition(":")
        if not sep or not PEPPER_ID_RE.fullmatch(pepper_id):
            raise ConfigError(
                f"{source}: entry #{index + 1} must be ID:SECRET, the ID 1-16 of A-Z a-z 0-9 _ -"
            )
        if len(secret) < PEPPER_MIN_LENGTH:
            raise ConfigError(
                f"{source}: pepper {pepper_id!r} must be at least {PEPPER_MIN_LENGTH} characters"
            )
        if any(pepper_id == seen for seen, _ in peppers):
            raise ConfigError(f"{source}: pepper id {pepper_id!r} is listed twice")
        peppers.append((pepper_id, secret))
    return peppers


def format_hash_peppers(peppers: list[tuple[str, str]]) -> str:
    """The PORTAL_HASH_PEPPERS value of ``peppers`` (to hand to another process)."""
    return ",".join(f"{pepper_id}:{secret}" for pepper_id, secret in peppers)


def _new_pepper(pepper_id: str = "1") -> str:
    return f"{pepper_id}:{secrets.token_hex(32)}"


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY: str | None = None
    PORTAL_DATA_KEYS: tuple[str, ...] | list[str] = ()
    # Keys of the stored hashes that must outlive SECRET_KEY (recovery codes, the retention
    # store's subject keys): (id, secret), newest first; each row records its pepper's id.
    # SECRET_KEY only signs cookies and keys short-lived tokens.
    PORTAL_HASH_PEPPERS: list[tuple[str, str]] | tuple[()] = ()
    PORTAL_BUSINESS: BusinessDetails = BusinessDetails()

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS: dict | None = None

    SESSION_COOKIE_NAME = "portal_session"
    # Staff sign in with their own cookie and session table: a customer's session opens
    # nothing under /admin, and signing out of one never touches the other.
    PORTAL_STAFF_COOKIE_NAME = "portal_staff"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PREFERRED_URL_SCHEME = "http"
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 512 * 1024

    WTF_CSRF_ENABLED = True
    # The CSRF token lives as long as the session; the server-side session has its own limits.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = True

    BABEL_DEFAULT_LOCALE = "ko"
    BABEL_DEFAULT_TIMEZONE = "Asia/Seoul"
    PORTAL_LANGUAGES = ("ko", "en")

    # Stated, not left to the default: Flask-Limiter's shared extension object takes an
    # unset value from the last app it served, so one app built with limits off (a test)
    # would switch them off for every app made after it in the same process.
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STRATEGY = "fixed-window"
    RATELIMIT_LOGIN = "10 per minute"
    # Forgotten password / login ID, per login ID or address typed (besides RATELIMIT_LOGIN
    # per IP): a mailbox is not to be flooded, nor an account's links churned.
    RATELIMIT_FORGOT_ACCOUNT = "5 per hour"
    # When the shared storage (Redis) stops answering, count in each process's memory
    # instead of failing every limited request with a 500: sign-in keeps working and stays
    # limited, only per worker (N workers let N times the limit through), and the lockout
    # counted in the database still holds. The limiter returns to Redis once it answers
    # again; /healthz says "degraded" meanwhile (still 200). Swallowing the errors instead
    # would drop the limits altogether.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True

    JSON_LOGS = False
    HSTS = False

    def __init__(self) -> None:
        # Read at instantiation, not import, so tests and processes can set the environment.
        self.SQLALCHEMY_DATABASE_URI = _normalise_db_url(
            os.environ.get("DATABASE_URL", "") or self.default_database_url()
        )
        self.RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
        # The operator's word that one process serves (memory:// limits are then exact).
        self.PORTAL_SINGLE_PROCESS = _env_flag("PORTAL_SINGLE_PROCESS")
        self.BCRYPT_ROUNDS = _env_int("BCRYPT_ROUNDS", 12)
        self.TRUSTED_HOSTS = _env_list("PORTAL_TRUSTED_HOSTS") or None
        # How many reverse proxies in front of us append to X-Forwarded-*; create_app then
        # installs ProxyFix for exactly that many hops. 0 (no proxy) ignores those headers,
        # which any client can forge.
        self.PORTAL_TRUSTED_PROXIES = _env_int("PORTAL_TRUSTED_PROXIES", 0)
        if self.PORTAL_TRUSTED_PROXIES < 0:
            raise ConfigError("PORTAL_TRUSTED_PROXIES must be 0 or more")
        self.PORTAL_SESSION_IDLE_SECONDS = _env_int("PORTAL_SESSION_IDLE_SECONDS", 1800)
        self.PORTAL_SESSION_ABSOLUTE_SECONDS = _env_int("PORTAL_SESSION_ABSOLUTE_SECONDS", 43200)
        self.PORTAL_LOGIN_MAX_FAILURES = _env_int("PORTAL_LOGIN_MAX_FAILURES", 5)
        self.PORTAL_LOCKOUT_SECONDS = _env_int("PORTAL_LOCKOUT_SECONDS", 1800)
        # A password someone else set (registration, import, a staff reset) is a letter in
        # the post: it must be replaced within this many days or it stops working.
        self.PORTAL_TEMPORARY_PASSWORD_DAYS = _env_int("PORTAL_TEMPORARY_PASSWORD_DAYS", 14)
        self.PORTAL_REAUTH_SECONDS = _env_int("PORTAL_REAUTH_SECONDS", 300)
        self.PORTAL_CARD_CODES = _env_int("PORTAL_CARD_CODES", 35)
        self.PORTAL_CARD_MAX_FAILURES = _env_int("PORTAL_CARD_MAX_FAILURES", 5)
        self.PORTAL_OTP_MAX_FAILURES = _env_int("PORTAL_OTP_MAX_FAILURES", 5)
        self.PORTAL_OTP_LOCK_SECONDS = _env_int("PORTAL_OTP_LOCK_SECONDS", 900)
        self.PORTAL_STEP2_SECONDS = _env_int("PORTAL_STEP2_SECONDS", 300)
        # Rejected new passwords (first login) before a pending sign-in is dropped.
        self.PORTAL_STEP2_MAX_FAILURES = _env_int("PORTAL_STEP2_MAX_FAILURES", 5)
        self.PORTAL_OTP_ENROL_SECONDS = _env_int("PORTAL_OTP_ENROL_SECONDS", 600)
        self.PORTAL_BANNER_CACHE_SECONDS = _env_int("PORTAL_BANNER_CACHE_SECONDS", 30)
        # Rows one customer import may hold (flask customers import, the import screen):
        # every row is kept until all are checked, and each is a bcrypt hash to write.
        self.PORTAL_IMPORT_MAX_ROWS = _env_int("PORTAL_IMPORT_MAX_ROWS", 10_000)
        # On screen each row's bcrypt hash runs inside one request: a smaller cap.
        self.PORTAL_IMPORT_SCREEN_MAX_ROWS = _env_int("PORTAL_IMPORT_SCREEN_MAX_ROWS", 200)
        if self.PORTAL_IMPORT_MAX_ROWS < 1:
            raise ConfigError("PORTAL_IMPORT_MAX_ROWS must be 1 or more")
        # How long before the idle timeout the page warns and offers "연장" (at most half
        # the idle timeout, so a short timeout still leaves time to read the warning).
        self.PORTAL_IDLE_WARNING_SECONDS = _env_int("PORTAL_IDLE_WARNING_SECONDS", 120)
        # How long a worker trusts its copy of the shared content version (portal.pagecache)
        # before re-reading it: a change made on another host shows within this many seconds.
        self.PORTAL_CONTENT_VERSION_SECONDS = _env_int("PORTAL_CONTENT_VERSION_SECONDS", 2)
        # Staff (PRODUCT.md §7): a shorter idle timeout than customers', a working day at
        # most, passwords renewed every 90 days and none of the last five again.
        self.PORTAL_STAFF_IDLE_SECONDS = _env_int("PORTAL_STAFF_IDLE_SECONDS", 900)
        self.PORTAL_STAFF_ABSOLUTE_SECONDS = _env_int("PORTAL_STAFF_ABSOLUTE_SECONDS", 28800)
        self.PORTAL_STAFF_PASSWORD_DAYS = _env_int("PORTAL_STAFF_PASSWORD_DAYS", 90)
        self.PORTAL_STAFF_PASSWORD_HISTORY = _env_int("PORTAL_STAFF_PASSWORD_HISTORY", 5)
        # The monthly access review flags a staff member who looked at more customers than
        # this in one day.
        self.PORTAL_ACCESS_REVIEW_DAILY_CUSTOMERS = _env_int(
            "PORTAL_ACCESS_REVIEW_DAILY_CUSTOMERS", 50
        )
        self.PERMANENT_SESSION_LIFETIME = self.PORTAL_SESSION_ABSOLUTE_SECONDS
        self.SQLALCHEMY_ENGINE_OPTIONS = self.engine_options(self.SQLALCHEMY_DATABASE_URI)
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or None
        keys = _env_list("PORTAL_DATA_KEYS")
        self.PORTAL_DATA_KEYS = validate_data_keys(keys, "PORTAL_DATA_KEYS") if keys else []
        self.PORTAL_HASH_PEPPERS = parse_hash_peppers(
            os.environ.get("PORTAL_HASH_PEPPERS") or "", "PORTAL_HASH_PEPPERS"
        )
        self.read_mail_settings()
        try:
            # 상호, 대표자, 사업자등록번호, customer centre...: footer, errors, documents, mail.
            self.PORTAL_BUSINESS = from_environment()
        except BusinessConfigError as exc:
            raise ConfigError(str(exc)) from exc

    def read_mail_settings(self) -> None:
        """The outbox's delivery settings and the canonical address of links in mail."""
        # Links that leave the site (mail) are built from this, never from the Host header
        # of whichever request caused the mail.
        self.PORTAL_BASE_URL = (os.environ.get("PORTAL_BASE_URL") or "").strip().rstrip("/")
        if self.PORTAL_BASE_URL and not re.fullmatch(
            r"https?://[^/\s?#]+(/[^\s?#]*)?", (self.PORTAL_BASE_URL)
        ):
            raise ConfigError(
                f"PORTAL_BASE_URL must be an http(s):// address, got {self.PORTAL_BASE_URL!r}"
            )
        # No MAIL_SERVER: messages go to the console (or to MAIL_FOLDER as .eml files).
        self.MAIL_SERVER = (os.environ.get("MAIL_SERVER") or "").strip() or None
        self.MAIL_PORT = _env_int("MAIL_PORT", 25)
        self.MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
        self.MAIL_USE_TLS = _env_flag("MAIL_USE_TLS")
        self.MAIL_FROM = (os.environ.get("MAIL_FROM") or "").strip() or (
            "AnyTrack 고객포털 <no-reply@localhost>"
        )
        self.MAIL_FOLDER = (os.environ.get("MAIL_FOLDER") or "").strip() or None
        self.MAIL_TIMEOUT_SECONDS = _env_int("MAIL_TIMEOUT_SECONDS", 20)
        self.MAIL_MAX_ATTEMPTS = _env_int("MAIL_MAX_ATTEMPTS", 8)
        # First retry after this many seconds, doubling with each failure (capped at 6 hours).
        self.MAIL_RETRY_SECONDS = _env_int("MAIL_RETRY_SECONDS", 60)
        self.PORTAL_RESET_SECONDS = _env_int("PORTAL_RESET_SECONDS", 1800)

    def base_url(self) -> str:
        """PORTAL_BASE_URL, or the first trusted host over HTTPS, or the development address."""
        if self.PORTAL_BASE_URL:
            return self.PORTAL_BASE_URL
        if self.TRUSTED_HOSTS:
            return f"{self.PREFERRED_URL_SCHEME}://{self.TRUSTED_HOSTS[0]}"
        return "http://127.0.0.1:5000"

    def default_database_url(self) -> str:
        return "sqlite:///" + str(instance_path() / "portal.sqlite3")

    @staticmethod
    def engine_options(url: str) -> dict:
        if url.startswith("sqlite"):
            # One connection per thread; busy_timeout (set per connection) waits for writers.
            return {"connect_args": {"timeout": 10}}
        # No pool_pre_ping: it costs a round trip on every request; a dead connection is
        # caught at its first statement instead (portal.database, portal.errors: 503).
        return {"pool_recycle": 1800}

    def finalise(self, instance: Path) -> None:
        """Fill in or check the secrets once the instance folder is known."""
        if not self.SECRET_KEY or not self.PORTAL_DATA_KEYS or not self.PORTAL_HASH_PEPPERS:
            raise ConfigError("SECRET_KEY, PORTAL_DATA_KEYS and PORTAL_HASH_PEPPERS must be set")


class DevelopmentConfig(Config):
    """A developer's machine: makes and keeps its own secrets under ``instance/``."""

    ENV_NAME = "development"
    BCRYPT_ROUNDS_DEFAULT = 12

    def finalise(self, instance: Path) -> None:
        instance.mkdir(parents=True, exist_ok=True)
        if not self.SECRET_KEY:
            self.SECRET_KEY = _read_or_create(instance / "secret_key", secrets.token_hex(32))
        if not self.PORTAL_DATA_KEYS:
            key = _read_or_create(instance / "data_keys", Fernet.generate_key().decode())
            self.PORTAL_DATA_KEYS = validate_data_keys(
                [k.strip() for k in key.split(",") if k.strip()], str(instance / "data_keys")
            )
        if not self.PORTAL_HASH_PEPPERS:
            path = instance / "hash_peppers"
            self.PORTAL_HASH_PEPPERS = parse_hash_peppers(
                _read_or_create(path, _new_pepper()), str(path)
            )


class ProductionConfig(Config):
    """Production: refuses to start without real secrets, serves HTTPS-only cookies."""

    ENV_NAME = "production"
    # The __Host- prefix makes browsers keep the cookie only if it is Secure, for Path=/ and
    # without Domain: no other subdomain, and no plain-http page, can plant or overwrite it.
    SESSION_COOKIE_NAME = "__Host-portal_session"
    PORTAL_STAFF_COOKIE_NAME = "__Host-portal_staff"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    JSON_LOGS = True
    HSTS = True

    def default_database_url(self) -> str:
        raise ConfigError("DATABASE_URL must be set in production")

    def finalise(self, instance: Path) -> None:
        missing = [
            name
            for name, value in (
                ("SECRET_KEY", self.SECRET_KEY),
                ("PORTAL_DATA_KEYS", self.PORTAL_DATA_KEYS),
                ("PORTAL_HASH_PEPPERS", self.PORTAL_HASH_PEPPERS),
            )
            if not value
        ]
        if missing:
            names = " and ".join(
                [", ".join(missing[:-1]), missing[-1]] if missing[:-1] else missing
            )
            raise ConfigError(f"production needs {names} in the environment; refusing to start")
        if len(self.SECRET_KEY or "") < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production")
        if not self.TRUSTED_HOSTS:
            # Without it any Host header is accepted, and links and redirects built from it
            # could point at a host the attacker chose.
            raise ConfigError(
                "production needs PORTAL_TRUSTED_HOSTS (the site's host names, comma-separated);"
                " refusing to start"
            )
        if self.RATELIMIT_STORAGE_URI.startswith("memory://") and not self.PORTAL_SINGLE_PROCESS:
            # memory:// counts in each worker apart, so N workers let N times the limit
            # through (a review saw 21 sign-in tries a minute instead of 10 with 4 workers).
            raise ConfigError(
                "production with RATELIMIT_STORAGE_URI=memory:// limits each process apart;"
                " set a redis:// URI, or PORTAL_SINGLE_PROCESS=1 if only one process serves;"
                " refusing to start"
            )


class TestingConfig(Config):
    """The test suite: fast bcrypt, CSRF still on (tests go through the real forms)."""

    ENV_NAME = "testing"
    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.BCRYPT_ROUNDS = _env_int("BCRYPT_ROUNDS", 4)
        # Tests announce and check at once, across several apps in one process.
        self.PORTAL_BANNER_CACHE_SECONDS = 0
        self.SECRET_KEY = self.SECRET_KEY or secrets.token_hex(32)
        self.PORTAL_DATA_KEYS = self.PORTAL_DATA_KEYS or [Fernet.generate_key().decode()]
        self.PORTAL_HASH_PEPPERS = self.PORTAL_HASH_PEPPERS or parse_hash_peppers(
            _new_pepper("t1"), "testing"
        )

    def finalise(self, instance: Path) -> None:
        return None


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def instance_path() -> Path:
    """The instance folder: ``PORTAL_INSTANCE_PATH`` or ``instance/`` at the project root."""
    configured = os.environ.get("PORTAL_INSTANCE_PATH")
    if configured:
        return Path(configured).resolve()
    return Path(__file__).resolve().parent.parent / "instance"


def load_config(config: object = None) -> Config:
    """Build the config object: an explicit one, a name, or ``PORTAL_ENV``."""
    if isinstance(config, Config):
        return config
    if isinstance(config, type) and issubclass(config, Config):
        return config()
    name = config if isinstance(config, str) else os.environ.get("PORTAL_ENV", "development")
    try:
        cls = CONFIGS[name]
    except KeyError as exc:
        raise ConfigError(f"PORTAL_ENV must be one of {', '.join(CONFIGS)}, got {name!r}") from exc
    return cls()


def _read_or_create(path: Path, fresh: str) -> str:
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    # Written with owner-only permissions: these are the keys to every session and card.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(fresh + "\n")
    return fresh
