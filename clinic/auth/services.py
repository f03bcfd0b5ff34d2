"""Authentication: password check with lockout, and the life of a server-side session."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, g, request
from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from clinic import audit
from clinic.auth.passwords import verify_password
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import LoginThrottle, User, UserSession


def normalise_username(name: str) -> str:
    return name.strip().lower()


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    locked_until: datetime | None = None


def authenticate(username: str, password: str) -> LoginOutcome:
    """Check a login attempt, counting failures per name; write the audit event."""
    name = normalise_username(username)
    throttle = _locked_throttle(name)
    now = utc_now()
    if throttle.locked_until is not None and throttle.locked_until > now:
        audit.record("login_failed", username=name, detail={"reason": "locked"})
        return LoginOutcome(None, throttle.locked_until)

    user = db.session.scalar(select(User).where(User.username == name))
    valid = verify_password(user.password_hash if user else None, password)
    if valid and user is not None and user.active:
        db.session.delete(throttle)
        return LoginOutcome(user)

    throttle.failed_count += 1
    throttle.last_failed_at = now
    locked_until = None
    if throttle.failed_count >= current_app.config["LOGIN_MAX_FAILURES"]:
        locked_until = now + current_app.config["LOGIN_LOCKOUT"]
        throttle.locked_until = locked_until
        throttle.failed_count = 0
    reason = "inactive" if (valid and user is not None) else "bad credentials"
    audit.record(
        "login_failed",
        user=user,
        username=name,
        detail={"reason": reason, "locked": locked_until is not None},
    )
    return LoginOutcome(None, locked_until)


def _locked_throttle(name: str) -> LoginThrottle:
    """Return the name's failure count, created if need be, locked until the transaction ends.

    Attempts on one name then take turns: 40 at once on PostgreSQL raced to create the row
    (unique violations answered 503) and counted failures past the limit. SQLite's
    BEGIN IMMEDIATE already made them take turns; its FOR UPDATE is left out by SQLAlchemy.
    """
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(LoginThrottle).values(username=name, failed_count=0).on_conflict_do_nothing()
    )
    return db.session.scalar(
        select(LoginThrottle).where(LoginThrottle.username == name).with_for_update()
        .execution_options(populate_existing=True)
    )


def start_session(user: User) -> UserSession:
    """Create the server-side session for a successful login and audit it."""
    session_row = UserSession(
        token=secrets.token_urlsafe(32),
        user=user,
        ip=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:255],
    )
    db.session.add(session_row)
    db.session.flush()
    user.session_token = session_row.token
    g.user_session = session_row
    audit.record("login", user=user, object_type="session", object_id=session_row.id)
    return session_row


def end_session(session_row: UserSession, reason: str, *, by: User | None = None) -> None:
    """Mark a session ended so its cookie no longer authenticates anyone."""
    if session_row.ended_at is not None:
        return
    session_row.ended_at = utc_now()
    session_row.ended_reason = reason
    action = "logout" if reason == "logout" else "session_ended"
    audit.record(
        action,
        user=by or session_row.user,
        object_type="session",
        object_id=session_row.id,
        detail={"reason": reason, "session_user": session_row.user.username},
    )


# Built once: it runs on every request, and building it cost as much as running it. Two
# entities in one row, not a joined eager load, whose per-query set-up cost more.
_SESSION_BY_TOKEN = (
    select(UserSession, User).join(User, UserSession.user_id == User.id)
    .where(UserSession.token == bindparam("token"))
)


def load_session(token: str) -> User | None:
    """Return the user of a live session, ending it here if it is idle or too old."""
    found = db.session.execute(_SESSION_BY_TOKEN, {"token": token}).first()
    if found is None:
        return None
    session_row, user = found
    if session_row.ended_at is not None:
        # Ended elsewhere (an administrator, a deactivation): the login page says why.
        g.session_end_reason = session_row.ended_reason
        return None
    cfg = current_app.config
    now = utc_now()
    reason = None
    if now - session_row.created_at > cfg["SESSION_ABSOLUTE_LIMIT"]:
        reason = "expired"
    elif now - session_row.last_seen_at > cfg["SESSION_IDLE_LIMIT"]:
        reason = "idle"
    elif not user.active:
        reason = "account deactivated"
    if reason is not None:
        end_session(session_row, reason)
        db.session.commit()
        g.session_end_reason = reason
        return None
    # The board's background refresh is not activity: a board left open must still time out.
    background = request.headers.get("X-Requested-With") == "fetch"
    if not background and now - session_row.last_seen_at >= cfg["SESSION_TOUCH_INTERVAL"]:
        session_row.last_seen_at = now
        # Committed here: a page that only reads would otherwise roll the touch back.
        db.session.commit()
    g.user_session = session_row
    user.session_token = token
    return user


def end_sessions_of(user: User, reason: str, *, by: User) -> int:
    """End every live session of `user`; return how many were ended."""
    live = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).all()
    for session_row in live:
        end_session(session_row, reason, by=by)
    return len(live)
