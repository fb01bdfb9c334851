"""Configuration read from the environment.

`create_app()` picks the class from `MARKETPLACE_ENV` (development, test, production).
Production has no secret defaults and refuses to start without them.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _default_ocds_dir() -> str | None:
    shared = BASE_DIR.parent / "shared" / "ocds"
    return str(shared) if shared.is_dir() else None


def _database_url(default: str | None) -> str | None:
    url = _env("DATABASE_URL", default)
    if url and url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def check_base_url(url: str | None, scheme: str | None = None) -> None:
    """BASE_URL, when given, is an address like https://marketplace.kent.gov.uk (a path prefix is allowed)."""
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise RuntimeError("BASE_URL must be the service's address, like https://marketplace.kent.gov.uk, "
                           f"not {url!r}.")
    if scheme and parts.scheme != scheme:
        raise RuntimeError(f"BASE_URL must start {scheme}:// in this environment.")


class Config:
    SERVICE_NAME = "Kent Commissioning Marketplace"
    SECRET_KEY = _env("SECRET_KEY")
    # The service's public address, for absolute links in emails, feeds and open data, whether built in a request,
    # a command or a job worker (marketplace/links.py). Production needs it; elsewhere links follow the request.
    # MARKETPLACE_BASE_URL is the name the send-alerts and ocds-export commands read before this setting.
    BASE_URL = _env("BASE_URL", _env("MARKETPLACE_BASE_URL"))
    SQLALCHEMY_DATABASE_URI = _database_url(None)  # None: SQLite in the instance folder
    # No ping before every checkout (a round trip per request): connections are replaced after
    # DATABASE_POOL_RECYCLE seconds, before a server or proxy idle timeout can cut them, and a connection found
    # dead mid-request invalidates the pool, so only that request fails. Set DATABASE_PRE_PING=true where
    # connections are cut unpredictably (a database restarted under a running app, a proxy with a short timeout).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_recycle": int(_env("DATABASE_POOL_RECYCLE", "1800")),
                                       "pool_pre_ping": _env("DATABASE_PRE_PING", "false") == "true"}
    MAX_CONTENT_LENGTH = int(_env("MAX_CONTENT_LENGTH", str(20 * 1024 * 1024)))
    MAX_DOCUMENT_BYTES = int(_env("MAX_DOCUMENT_BYTES", str(15 * 1024 * 1024)))
    DOCUMENT_STORE = _env("DOCUMENT_STORE")  # default: instance/documents
    WTF_CSRF_TIME_LIMIT = 4 * 3600
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    # A signed-in session is permanent (its cookie outlives the browser for PERMANENT_SESSION_LIFETIME). Flask would
    # sign it again and send a new cookie on every response to move that expiry on; it moves on whenever the session
    # changes instead, which for a user who is active is at least once a minute (marketplace.web.LAST_SEEN_STEP).
    SESSION_REFRESH_EACH_REQUEST = False
    # Signed out after this long without a request (long enough to write a bid answer without saving).
    SESSION_IDLE_MINUTES = int(_env("SESSION_IDLE_MINUTES", "120"))
    # One JSON line per request on stderr, with its request id (gunicorn collects it).
    REQUEST_LOG = _env("REQUEST_LOG", "false") == "true"
    # Redis for shared state across processes in production: rate limits and the job queue. None: in-process.
    REDIS_URL = _env("REDIS_URL")
    # "inline": email and large PDFs in the web process (the default); "rq": queued in Redis for `flask jobs-worker`.
    JOB_QUEUE = _env("JOB_QUEUE", "inline")
    # Award reports of tenders with more counting bids than this are rendered to PDF by a job, not in the request.
    AWARD_REPORT_INLINE_MAX_BIDS = int(_env("AWARD_REPORT_INLINE_MAX_BIDS", "25"))
    # How many proxies in front of the app set X-Forwarded-For/-Proto (0: none, the app faces clients).
    PROXY_HOPS = int(_env("PROXY_HOPS", "0"))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # Rate limits: memory by default, Redis when RATELIMIT_STORAGE_URI is set.
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", _env("REDIS_URL", "memory://"))
    RATELIMIT_HEADERS_ENABLED = True
    # Said outright: Flask-Limiter's one extension object otherwise keeps the last app's value, so an app made after
    # one with limits off (as the security sweeps' is) would start with them off too.
    RATELIMIT_ENABLED = True
    SIGN_IN_RATE_LIMIT = _env("SIGN_IN_RATE_LIMIT", "10 per minute; 50 per hour")
    # Lock an account for LOCKOUT_MINUTES after LOCKOUT_ATTEMPTS wrong passwords in a row.
    LOCKOUT_ATTEMPTS = int(_env("LOCKOUT_ATTEMPTS", "5"))
    LOCKOUT_MINUTES = int(_env("LOCKOUT_MINUTES", "15"))

    # Signed links
    EMAIL_VERIFY_MAX_AGE = 3 * 24 * 3600
    PASSWORD_RESET_MAX_AGE = 3600
    INVITATION_MAX_AGE = 7 * 24 * 3600

    # Email: "smtp", "console" or "file"
    MAIL_BACKEND = _env("MAIL_BACKEND", "console")
    MAIL_SERVER = _env("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = int(_env("MAIL_PORT", "25"))
    MAIL_USE_TLS = _env("MAIL_USE_TLS", "false") == "true"
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "Kent Commissioning Marketplace <no-reply@marketplace.kent.example>")
    MAIL_FILE_DIR = _env("MAIL_FILE_DIR")  # default: instance/mail

    # Argon2id parameters (OWASP: m=19 MiB, t=2, p=1 as the floor)
    ARGON2_TIME_COST = 2
    ARGON2_MEMORY_COST = 19 * 1024
    ARGON2_PARALLELISM = 1

    OCDS_SCHEMA_DIR = _env("OCDS_SCHEMA_DIR", _default_ocds_dir())
    PAGE_SIZE = 20
    # Public pages kept for visitors who are not signed in (marketplace/pagecache.py); 0 turns the cache off.
    PAGE_CACHE_SECONDS = int(_env("PAGE_CACHE_SECONDS", "60"))
    PAGE_CACHE_ENTRIES = int(_env("PAGE_CACHE_ENTRIES", "500"))  # per process
    TIMEZONE = "Europe/London"

    @classmethod
    def validate(cls, config: dict) -> None:
        """Refuse to start with settings that are unsafe for the environment."""
        check_base_url(config.get("BASE_URL"))


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SECRET_KEY = _env("SECRET_KEY", "development-only-not-secret")
    DEBUG = False
    MAIL_BACKEND = _env("MAIL_BACKEND", "file")


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    # The suite builds its own database: TEST_DATABASE_URL (PostgreSQL) or a temporary SQLite file.
    SQLALCHEMY_DATABASE_URI = None
    BASE_URL = None  # links follow the test request unless a test sets it
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_BACKEND = "smtp"
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1


class ProductionConfig(Config):
    ENV_NAME = "production"
    REQUEST_LOG = _env("REQUEST_LOG", "true") == "true"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    MAIL_BACKEND = _env("MAIL_BACKEND", "smtp")

    @classmethod
    def validate(cls, config: dict) -> None:
        key = config.get("SECRET_KEY") or ""
        if len(key) < 32 or "not-secret" in key:
            raise RuntimeError("Production needs SECRET_KEY set to a random value of at least 32 characters.")
        if not config.get("SESSION_COOKIE_SECURE") or not config.get("REMEMBER_COOKIE_SECURE"):
            raise RuntimeError("Production needs secure session and remember-me cookies.")
        if not config.get("SQLALCHEMY_DATABASE_URI"):
            raise RuntimeError("Production needs DATABASE_URL.")
        if not config.get("BASE_URL"):
            raise RuntimeError("Production needs BASE_URL, the service's address (e.g. "
                               "https://marketplace.kent.gov.uk), for the links in emails built by commands and jobs.")
        check_base_url(config["BASE_URL"], scheme="https")
        if config.get("JOB_QUEUE") == "rq" and not config.get("REDIS_URL"):
            raise RuntimeError("JOB_QUEUE=rq needs REDIS_URL.")


CONFIGS = {"development": DevelopmentConfig, "test": TestConfig, "production": ProductionConfig}


def config_for(name: str | None) -> type[Config]:
    name = name or _env("MARKETPLACE_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown MARKETPLACE_ENV {name!r}; use one of {', '.join(CONFIGS)}") from None
