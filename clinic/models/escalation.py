"""Escalations: raised by a score or by hand, informed, answered and closed; never edited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import UTCDateTime, bounded_text, utc_now
from clinic.extensions import db
from clinic.models.patient import Admission
from clinic.models.user import User

#: Update kinds in the order they normally happen.
UPDATE_KINDS = {"informed": "Informed", "response": "Response", "closed": "Closed"}


class Escalation(db.Model):
    __tablename__ = "escalation"

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"), index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    #: Raised automatically by a rule (True) or by hand (False).
    automatic: Mapped[bool] = mapped_column(default=False)
    #: "urgent" or "emergency".
    level: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(bounded_text(4000))
    #: Rule that raised it automatically (e.g. "news2:medium"), so an open one is not repeated.
    rule: Mapped[str | None] = mapped_column(String(40))
    #: The entry that raised it (kind and id), if any.
    source_kind: Mapped[str | None] = mapped_column(String(20))
    source_id: Mapped[int | None] = mapped_column()
    #: Form key for hand-raised escalations, so a resubmitted form raises one.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    admission: Mapped[Admission] = relationship()
    raised_by: Mapped[User] = relationship()
    updates: Mapped[list[EscalationUpdate]] = relationship(
        back_populates="escalation", order_by="EscalationUpdate.id"
    )

    @property
    def closed(self) -> EscalationUpdate | None:
        return next((u for u in self.updates if u.kind == "closed"), None)

    @property
    def is_open(self) -> bool:
        return self.closed is None

    @property
    def has_response(self) -> bool:
        return any(u.kind == "response" for u in self.updates)


class EscalationUpdate(db.Model):
    __tablename__ = "escalation_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalation.id"), index=True)
    #: One of UPDATE_KINDS.
    kind: Mapped[str] = mapped_column(String(12))
    #: When it happened (e.g. when the physician was phoned).
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    #: For "informed": who was told (name and role).
    informed_who: Mapped[str | None] = mapped_column(String(120))
    text: Mapped[str | None] = mapped_column(bounded_text(4000))
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    escalation: Mapped[Escalation] = relationship(back_populates="updates")
    recorded_by: Mapped[User] = relationship()
