"""Staff accounts, their server-side sessions and the per-name login throttle."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import UTCDateTime, utc_now
from clinic.extensions import db

ROLES = {
    "nurse": "Nurse",
    "charge_nurse": "Charge nurse",
    "physician": "Physician",
    "admin": "Administrator",
    "auditor": "Auditor",
}
CLINICAL_ROLES = ("nurse", "charge_nurse", "physician")


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Login name, stored lower-case.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    #: Name shown as the author of every entry.
    display_name: Mapped[str] = mapped_column(String(120))
    #: One of ROLES.
    role: Mapped[str] = mapped_column(String(20))
    #: argon2id hash.
    password_hash: Mapped[str] = mapped_column(String(255))
    #: Deactivated accounts cannot log in; accounts are never deleted (they author entries).
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    sessions: Mapped[list[UserSession]] = relationship(back_populates="user")

    def get_id(self) -> str | None:
        # Flask-Login's id is the session token (set per request), not the user's key, so a
        # session can be ended on the server ("alternative tokens").
        return getattr(self, "session_token", None)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class UserSession(db.Model):
    """A login, revocable from the server: logout and an administrator both end it."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random token stored in the signed cookie; the only link from browser to session.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    #: Updated at most once a minute.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: logout, idle, expired, ended by administrator, account deactivated.
    ended_reason: Mapped[str | None] = mapped_column(String(40))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship(back_populates="sessions")


class LoginThrottle(db.Model):
    """Failed-login count per submitted name, whether or not such a user exists.

    Keyed by name rather than by user so the lockout message cannot reveal which names exist,
    and kept in the database so the limit holds across workers and restarts.
    """

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_count: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
