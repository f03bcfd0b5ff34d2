"""Configuration classes; `CLINIC_CONFIG` picks one, `DATABASE_URL` picks PostgreSQL."""

import os
from datetime import timedelta


def normalise_database_url(url: str) -> str:
    """Return `url` with the psycopg 3 driver named, as SQLAlchemy defaults to psycopg2."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    #: None means "SQLite file in the instance folder", resolved by the factory.
    SQLALCHEMY_DATABASE_URI = (
        normalise_database_url(os.environ["DATABASE_URL"]) if os.environ.get("DATABASE_URL") else None
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SECRET_KEY = os.environ.get("SECRET_KEY")
    #: Key of the audit HMAC chain; kept outside the database on purpose.
    AUDIT_HMAC_KEY = os.environ.get("AUDIT_HMAC_KEY")

    # A form left open on a tablet must still submit: the CSRF token lives as long as the
    # server-side session, which has its own idle and absolute limits.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = True

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    #: Served over HTTPS only: cookies are marked Secure and browsers are told so (HSTS).
    HTTPS = os.environ.get("CLINIC_HTTPS", "") == "1"
    SESSION_COOKIE_SECURE = HTTPS
    SESSION_COOKIE_NAME = "clinic_session"
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    #: What staff do while the record is down, shown on the outage page (the database is then
    #: out of reach, so it is configuration, not a unit setting).
    DOWNTIME_PROCEDURE = os.environ.get("CLINIC_DOWNTIME_PROCEDURE")

    SESSION_IDLE_LIMIT = timedelta(minutes=int(os.environ.get("CLINIC_SESSION_IDLE_MINUTES", 15)))
    SESSION_ABSOLUTE_LIMIT = timedelta(hours=int(os.environ.get("CLINIC_SESSION_MAX_HOURS", 12)))
    #: Last-seen is written at most this often so page reads do not all become writes.
    SESSION_TOUCH_INTERVAL = timedelta(minutes=1)

    LOGIN_MAX_FAILURES = int(os.environ.get("CLINIC_LOGIN_MAX_FAILURES", 5))
    LOGIN_LOCKOUT = timedelta(minutes=int(os.environ.get("CLINIC_LOGIN_LOCKOUT_MINUTES", 15)))

    # OWASP minimum for argon2id: 19 MiB, t=2, p=1.
    ARGON2_TIME_COST = 2
    ARGON2_MEMORY_COST = 19456
    ARGON2_PARALLELISM = 1

    #: Number of proxies in front of the app whose X-Forwarded-* headers are trusted.
    TRUSTED_PROXIES = int(os.environ.get("CLINIC_TRUSTED_PROXIES", 0))
    SQLITE_BUSY_TIMEOUT_MS = 5000
    #: Zone for times not tied to a unit (account lockouts, audit report).
    DISPLAY_TIMEZONE = os.environ.get("CLINIC_TIMEZONE", "Europe/London")
    DEMO = False
    TESTING = False


class ProductionConfig(Config):
    """Refuse to start without secrets; see `check_secrets`."""

    REQUIRE_SECRETS = True


class DevelopmentConfig(Config):
    REQUIRE_SECRETS = False


class DemoConfig(Config):
    REQUIRE_SECRETS = False
    DEMO = True


class TestConfig(Config):
    REQUIRE_SECRETS = False
    TESTING = True
    SECRET_KEY = "test-secret-key"
    AUDIT_HMAC_KEY = "test-audit-key"
    # Cheap hashing keeps the suite fast; the production parameters are tested separately.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    SQLITE_BUSY_TIMEOUT_MS = 2000


CONFIGS = {
    "production": ProductionConfig,
    "development": DevelopmentConfig,
    "demo": DemoConfig,
    "test": TestConfig,
}
