"""The audit trail: append-only (database triggers) and chained with an HMAC."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import UTCDateTime
from clinic.extensions import db
from clinic.models.patient import Patient
from clinic.models.user import User

ACTIONS = (
    "create",
    "correct",
    "retract",
    "view",
    "print",
    "export",
    "login",
    "login_failed",
    "logout",
    "session_ended",
    "privilege_change",
    "update",
    "refused",
    "baseline",
)


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_patient_occurred", "patient_id", "occurred_at"),
        Index("ix_audit_event_user_occurred", "user_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: Clinical time of the entry concerned, when there is one.
    clinical_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: Name as typed or as it was at the time, kept even for unknown names (failed logins).
    username: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    #: One of ACTIONS.
    action: Mapped[str] = mapped_column(String(20), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    #: Canonical JSON: a summary, and "before"/"after" for changes.
    detail: Mapped[str] = mapped_column(Text, default="{}")
    ip: Mapped[str | None] = mapped_column(String(64))
    session_id: Mapped[int | None] = mapped_column()
    prev_hash: Mapped[str] = mapped_column(String(64))
    #: HMAC-SHA256 over prev_hash and this row's canonical content.
    hash: Mapped[str] = mapped_column(String(64))

    user: Mapped[User | None] = relationship()
    patient: Mapped[Patient | None] = relationship()
