"""Write audit events into the HMAC chain, and verify the chain."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import select, text

from clinic import content_hash
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import AuditEvent
from clinic.prepared import PreparedInsert, PreparedScalar

GENESIS_HASH = "0" * 64
# Arbitrary constant naming the PostgreSQL advisory lock that serialises the chain.
_CHAIN_LOCK_ID = 7_294_011


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def canonical_content(event: AuditEvent) -> str:
    """Return the text the HMAC covers: every column except id and the hashes."""
    return _json(
        {
            "occurred_at": _iso(event.occurred_at),
            "clinical_at": _iso(event.clinical_at),
            "user_id": event.user_id,
            "username": event.username,
            "patient_id": event.patient_id,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "detail": event.detail,
            "ip": event.ip,
            "session_id": event.session_id,
        }
    )


def chain_hash(key: bytes, prev_hash: str, content: str) -> str:
    """Return the HMAC-SHA256 of a row given the previous row's hash."""
    return hmac.new(key, (prev_hash + "\n" + content).encode(), hashlib.sha256).hexdigest()


def _key() -> bytes:
    return current_app.config["AUDIT_HMAC_KEY"].encode()


def record(
    action: str,
    *,
    object_type: str | None = None,
    object_id: object = None,
    patient_id: int | None = None,
    clinical_at: datetime | None = None,
    detail: dict[str, Any] | None = None,
    user=None,
    username: str | None = None,
    content_of: Any = None,
) -> AuditEvent:
    """Append one event to the chain in the current transaction; the caller commits.

    Every page view writes one, so the row goes in with a prepared INSERT, not through the
    session's unit of work. The returned event carries its id but is not in the session.
    `content_of`, a clinical row just written, puts the hash of its content in the detail
    (`clinic.content_hash`), for verify-audit to recompute.
    """
    if content_of is not None:
        detail = {**(detail or {}), content_hash.DETAIL_KEY: content_hash.stamp(content_of)}
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    session_row = g.get("user_session") if has_request_context() else None
    event = AuditEvent(
        # Microseconds dropped: both databases then hand back exactly what was hashed.
        occurred_at=utc_now().replace(microsecond=0),
        clinical_at=clinical_at.replace(microsecond=0) if clinical_at else None,
        user_id=user.id if user is not None else None,
        username=username or (user.username if user is not None else None),
        patient_id=patient_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        detail=_json(detail or {}),
        ip=request.remote_addr if has_request_context() else None,
        session_id=session_row.id if session_row is not None else None,
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # The lock is held to commit, so two transactions cannot both extend the chain from one
        # row. Sent with the read in one round trip, the read still sees the newest committed
        # row: each statement of a READ COMMITTED transaction takes a new snapshot.
        newest = _LOCK_THEN_NEWEST_HASH()
    else:
        # BEGIN IMMEDIATE has already serialised SQLite's writers.
        newest = _NEWEST_HASH()
    event.prev_hash = newest or GENESIS_HASH
    event.hash = chain_hash(_key(), event.prev_hash, canonical_content(event))
    event.id = _INSERT(event.__dict__)
    return event


_TABLE = AuditEvent.__table__
_INSERT = PreparedInsert(_TABLE)
# On the table, not the model, so reading the tail does not flush the session first.
_NEWEST_HASH_SELECT = select(_TABLE.c.hash).order_by(_TABLE.c.id.desc()).limit(1)
_NEWEST_HASH = PreparedScalar(_NEWEST_HASH_SELECT)
_LOCK_THEN_NEWEST_HASH = PreparedScalar(
    text(f"SELECT pg_advisory_xact_lock({_CHAIN_LOCK_ID})"), _NEWEST_HASH_SELECT
)


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Return the before/after detail of the fields that differ."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {"before": {k: before.get(k) for k in keys}, "after": {k: after[k] for k in keys}}


@dataclass(frozen=True)
class ChainReport:
    rows_checked: int
    first_broken_id: int | None
    problem: str | None
    #: The newest event verified (id and hash); None while the chain is empty or broken.
    head_id: int | None = None
    head_hash: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def verify_chain(
    batch_size: int = 5000, content_hashes: dict[tuple[str, int], str] | None = None
) -> ChainReport:
    """Recompute the chain in id order and name the first row that does not match.

    Given `content_hashes`, fill it with the clinical rows' hashes the events carry.
    """
    key = _key()
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch_size)
        ).all()
        if not rows:
            if checked == 0:
                return ChainReport(0, None, None)
            return ChainReport(checked, None, None, head_id=last_id, head_hash=expected_prev)
        for event in rows:
            if event.prev_hash != expected_prev:
                return ChainReport(
                    checked, event.id, "links to a previous row that is missing or was changed"
                )
            if event.hash != chain_hash(key, event.prev_hash, canonical_content(event)):
                return ChainReport(checked, event.id, "content does not match its hash")
            if content_hashes is not None and content_hash.DETAIL_KEY in event.detail:
                _collect_content_hash(event.detail, content_hashes)
            expected_prev = event.hash
            checked += 1
            last_id = event.id
        db.session.expunge_all()


def _collect_content_hash(raw: str, into: dict[tuple[str, int], str]) -> None:
    try:
        detail = json.loads(raw)
    except ValueError:
        return
    if isinstance(detail, dict) and (found := content_hash.parse(detail.get(content_hash.DETAIL_KEY))):
        table, row_id, digest = found
        into[(table, row_id)] = digest
