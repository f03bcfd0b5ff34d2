"""Raise escalations (automatically from scores, or by hand) and record what happened next."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload, selectinload

from clinic import audit
from clinic.db import utc_now
from clinic.entries import ChartingError, check_clinical_time
from clinic.extensions import db
from clinic.models import Admission, Escalation, EscalationUpdate, Unit, User
from clinic.models.escalation import UPDATE_KINDS

#: Roles that may close an escalation once its response is recorded.
CLOSE_ROLES = ("physician", "charge_nurse")
LEVELS = {"urgent": "Urgent", "emergency": "Emergency"}


def open_filter():
    return ~exists().where(
        EscalationUpdate.escalation_id == Escalation.id, EscalationUpdate.kind == "closed"
    )


def open_escalations(admission: Admission) -> list[Escalation]:
    return list(
        db.session.scalars(
            select(Escalation)
            .where(Escalation.admission_id == admission.id, open_filter())
            .order_by(Escalation.raised_at)
        )
    )


def open_on_unit(unit: Unit) -> list[Escalation]:
    """Return the open escalations of every admission on `unit`, oldest first."""
    return list(
        db.session.scalars(
            select(Escalation)
            .join(Escalation.admission)
            .where(Admission.unit_id == unit.id, open_filter())
            .options(
                joinedload(Escalation.admission).joinedload(Admission.patient),
                joinedload(Escalation.admission).joinedload(Admission.bed),
                joinedload(Escalation.raised_by),
                selectinload(Escalation.updates),
            )
            .order_by(Escalation.raised_at, Escalation.id)
        ).unique()
    )


def update_by_key(idempotency_key: str) -> EscalationUpdate | None:
    """Return the update already saved from the form with this key."""
    return db.session.scalar(
        select(EscalationUpdate).where(EscalationUpdate.idempotency_key == idempotency_key)
    )


def escalation_by_key(idempotency_key: str) -> Escalation | None:
    """Return the escalation already raised from the form with this key."""
    return db.session.scalar(select(Escalation).where(Escalation.idempotency_key == idempotency_key))


def raise_automatic(
    *, by: User, admission: Admission, rule: str, level: str, reason: str,
    source_kind: str, source_id: int, raised_at: datetime | None = None,
) -> Escalation | None:
    """Raise an escalation for a rule unless one for the same rule is still open.

    `raised_at` is now unless given (the demo's back-dated history raises when its entry was made).
    """
    already = db.session.scalar(
        select(Escalation).where(
            Escalation.admission_id == admission.id, Escalation.rule == rule, open_filter()
        )
    )
    if already is not None:
        return None
    return _raise(by=by, admission=admission, level=level, reason=reason, automatic=True,
                  rule=rule, source_kind=source_kind, source_id=source_id, raised_at=raised_at)


def raise_by_hand(
    *, by: User, admission: Admission, level: str, reason: str, idempotency_key: str,
    raised_at: datetime | None = None,
) -> Escalation:
    """Raise an escalation a nurse decided on, now or from when someone was already told."""
    if level not in LEVELS:
        raise ChartingError("Choose urgent or emergency.", "level")
    if not (reason or "").strip():
        raise ChartingError("Say why you are escalating.", "reason")
    if not admission.is_current:
        raise ChartingError("This admission has ended.")
    if raised_at is not None:
        check_clinical_time(raised_at, admission, field="raised_at")
    return _raise(by=by, admission=admission, level=level, reason=reason.strip(), automatic=False,
                  idempotency_key=idempotency_key, raised_at=raised_at)


def _raise(*, by, admission, level, reason, automatic, rule=None, source_kind=None,
           source_id=None, idempotency_key=None, raised_at=None) -> Escalation:
    escalation = Escalation(
        admission=admission, raised_by=by, raised_at=raised_at or utc_now(), automatic=automatic,
        level=level,
        reason=reason, rule=rule, source_kind=source_kind, source_id=source_id,
        idempotency_key=idempotency_key,
    )
    db.session.add(escalation)
    db.session.flush()
    audit.record(
        "create", user=by, object_type="escalation", object_id=escalation.id,
        patient_id=admission.patient_id, clinical_at=escalation.raised_at,
        detail={"level": level, "reason": reason, "rule": rule, "automatic": automatic,
                "source": f"{source_kind}#{source_id}" if source_kind else None},
        content_of=escalation,
    )
    return escalation


def add_update(
    *, by: User, escalation: Escalation, kind: str, happened_at: datetime,
    informed_who: str | None = None, text: str | None = None, idempotency_key: str | None = None,
) -> EscalationUpdate:
    """Record who was informed, the response, or the closure of an escalation."""
    if kind not in UPDATE_KINDS:
        raise ValueError(f"unknown escalation update {kind!r}")
    if not escalation.is_open:
        raise ChartingError("This escalation is already closed.")
    if happened_at > utc_now():
        raise ChartingError("The time cannot be in the future.", "happened_at")
    if happened_at < escalation.raised_at.replace(second=0, microsecond=0):
        raise ChartingError("The time is before the escalation was raised.", "happened_at")
    informed_who = (informed_who or "").strip() or None
    text = (text or "").strip() or None
    if kind == "informed" and not informed_who:
        raise ChartingError("Say who was informed (name and role).", "informed_who")
    if kind == "response" and not text:
        raise ChartingError("Record the response (what was decided or done).", "text")
    if kind == "closed":
        if not by.has_role(*CLOSE_ROLES):
            raise ChartingError("Only a physician or charge nurse can close an escalation.")
        if not escalation.has_response:
            raise ChartingError("Record the response before closing the escalation.")
    update = EscalationUpdate(
        escalation=escalation, kind=kind, happened_at=happened_at, recorded_by=by,
        informed_who=informed_who, text=text, idempotency_key=idempotency_key,
    )
    db.session.add(update)
    db.session.flush()
    audit.record(
        "update", user=by, object_type="escalation", object_id=escalation.id,
        patient_id=escalation.admission.patient_id, clinical_at=happened_at,
        detail={"update": kind, "informed_who": informed_who, "text": text}, content_of=update,
    )
    return update
