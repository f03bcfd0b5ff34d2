"""Write the handover's records: lines added before signing, the signature with its PDF, acceptances.

Services add, flush and audit; the views commit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, union_all
from sqlalchemy.exc import IntegrityError

from clinic import audit
from clinic.db import in_list
from clinic.extensions import db
from clinic.handover import prn as prn_source
from clinic.handover.services import Handover
from clinic.models import (
    Assessment,
    EntryRetraction,
    Escalation,
    HandoverAcceptance,
    HandoverItem,
    HandoverSetting,
    HandoverSignature,
    NursingNote,
    SafetyCheck,
    Unit,
    User,
    VitalSigns,
)
from clinic.models.handover import ACCEPT_OUTCOMES, ITEM_KINDS, PAPER_SIZES
from clinic.models.user import ROLES
from clinic.reports.handover_pdf import build_pdf
from clinic.scoring.severity import LEVELS

#: Roles that hand over and accept a shift.
HANDOVER_ROLES = ("nurse", "charge_nurse")


class HandoverError(Exception):
    """A refused handover action, with the form field it belongs next to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def add_item(*, by: User, handover: Handover, admission_id: int, kind: str, text: str,
             owner: str | None, due_at: datetime | None, level: str | None) -> HandoverItem:
    """Add a to-do, a contingency or an adjusted severity to one patient's handover."""
    if admission_id not in handover.admission_ids:
        raise HandoverError("That patient is not on this handover.", "admission_id")
    if kind not in ITEM_KINDS:
        raise HandoverError("Choose what kind of line this is.", "kind")
    if kind == "severity" and level not in LEVELS:
        raise HandoverError("Choose the severity.", "level")
    text = (text or "").strip()
    if not text:
        raise HandoverError("Write the line (for a severity, the reason).", "text")
    item = HandoverItem(
        unit_id=handover.unit_id, shift_starts_at=handover.shift.starts_at, admission_id=admission_id,
        kind=kind, text=text, owner=(owner or "").strip() or None, due_at=due_at,
        level=level if kind == "severity" else None, recorded_by_id=by.id,
    )
    db.session.add(item)
    db.session.flush()
    patient = next(p for p in handover.patients if p.admission_id == admission_id)
    audit.record("create", user=by, object_type="handover_item", object_id=item.id,
                 patient_id=patient.patient_id,
                 detail={"kind": kind, "text": text, "owner": item.owner, "level": item.level,
                         "shift_starts_at": handover.shift.starts_at},
                 content_of=item)
    return item


def withdraw_item(*, by: User, handover: Handover, item_id: int) -> HandoverItem:
    """Withdraw a line added to this shift's handover: a new row naming it; the original stays."""
    item = db.session.get(HandoverItem, item_id)
    if (item is None or item.unit_id != handover.unit_id
            or item.shift_starts_at != handover.shift.starts_at or item.withdraws_id is not None):
        raise HandoverError("That line is not on this handover.")
    if db.session.scalar(select(HandoverItem.id).where(HandoverItem.withdraws_id == item.id)) is not None:
        raise HandoverError("That line has already been withdrawn.")
    row = HandoverItem(unit_id=item.unit_id, shift_starts_at=item.shift_starts_at,
                       admission_id=item.admission_id, kind=item.kind, text=item.text, owner=item.owner,
                       due_at=item.due_at, level=item.level, withdraws_id=item.id, recorded_by_id=by.id)
    db.session.add(row)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise HandoverError("That line has already been withdrawn.") from None
    audit.record("retract", user=by, object_type="handover_item", object_id=item.id,
                 detail={"withdrawn_by_row": row.id, "kind": item.kind, "text": item.text},
                 content_of=row)
    return row


def sign(*, by: User, handover: Handover, now: datetime, idempotency_key: str) -> HandoverSignature:
    """Sign a unit's handover: store the PDF exactly as signed, with its SHA-256."""
    if not by.has_role(*HANDOVER_ROLES):
        raise HandoverError("Only a nurse or charge nurse hands over a shift.")
    if handover.single_patient:
        raise HandoverError("Sign the unit's handover, not a single patient's.")
    pdf = build_pdf(handover, printed_by=f"{by.display_name} (signed)", printed_at=now,
                    signed=(by.display_name, role_label(by.role), now))
    signature = HandoverSignature(
        unit_id=handover.unit_id, shift_starts_at=handover.shift.starts_at, signed_by_id=by.id,
        signed_by_name=by.display_name, signed_by_role=by.role, signed_at=now, pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        admission_ids=",".join(str(i) for i in handover.admission_ids), idempotency_key=idempotency_key,
    )
    db.session.add(signature)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise HandoverError("This handover has already been signed (the form was sent twice).") from None
    audit.record("create", user=by, object_type="handover_signature", object_id=signature.id,
                 detail={"event": "sign", "unit": handover.unit_name, "patients": handover.patient_ids,
                         "shift_starts_at": handover.shift.starts_at, "sha256": signature.sha256,
                         "bytes": len(pdf)},
                 content_of=signature)
    return signature


def accept(*, by: User, signature: HandoverSignature, outcome: str, questions: str | None,
           now: datetime) -> HandoverAcceptance:
    """Record the receiving nurse's acceptance (or acceptance with questions) of a signed handover."""
    if not by.has_role(*HANDOVER_ROLES):
        raise HandoverError("Only a nurse or charge nurse accepts a handover.")
    if by.id == signature.signed_by_id:
        raise HandoverError("The receiving nurse accepts the handover, not the nurse who signed it.")
    if outcome not in ACCEPT_OUTCOMES:
        raise HandoverError("Choose how you accept it.", "outcome")
    questions = (questions or "").strip() or None
    if outcome == "questions" and questions is None:
        raise HandoverError("Write the questions, or accept without them.", "questions")
    row = HandoverAcceptance(signature_id=signature.id, accepted_by_id=by.id,
                             accepted_by_name=by.display_name, accepted_by_role=by.role, accepted_at=now,
                             outcome=outcome, questions=questions)
    db.session.add(row)
    db.session.flush()
    audit.record("create", user=by, object_type="handover_acceptance", object_id=row.id,
                 detail={"event": "accept", "signature": signature.id, "outcome": outcome,
                         "questions": questions},
                 content_of=row)
    return row


def set_paper_size(*, by: User, unit: Unit, paper_size: str) -> HandoverSetting:
    """Set the paper size a unit's handovers print on (a new settings row)."""
    if paper_size not in PAPER_SIZES:
        raise HandoverError("Choose A4 or US Letter.", "paper_size")
    row = HandoverSetting(unit_id=unit.id, paper_size=paper_size, set_by_id=by.id)
    db.session.add(row)
    db.session.flush()
    audit.record("update", user=by, object_type="handover_setting", object_id=row.id,
                 detail={"unit": unit.name, "paper_size": paper_size})
    return row


_SIGNATURES = (select(HandoverSignature).where(HandoverSignature.unit_id == bindparam("unit_id"),
                                               HandoverSignature.shift_starts_at == bindparam("shift"))
               .order_by(HandoverSignature.id.desc()))


def signatures_for(unit_id: int, shift_starts_at: datetime) -> list[HandoverSignature]:
    """Return the shift's signatures, newest first (a re-signed handover adds one)."""
    return list(db.session.scalars(_SIGNATURES, {"unit_id": unit_id, "shift": shift_starts_at}))


def acceptances_for(signature: HandoverSignature) -> list[HandoverAcceptance]:
    """Return a signature's acceptances, oldest first, read afresh."""
    return list(db.session.scalars(
        select(HandoverAcceptance).where(HandoverAcceptance.signature_id == signature.id)
        .order_by(HandoverAcceptance.id)))


def stored_pdf(signature: HandoverSignature) -> bytes:
    """Return the signed PDF, refusing it if its bytes no longer match the stored SHA-256."""
    if hashlib.sha256(signature.pdf).hexdigest() != signature.sha256:
        raise HandoverError("The stored handover does not match its checksum; it cannot be reprinted.")
    return signature.pdf


@dataclass(frozen=True)
class Changes:
    """What was charted for the handed-over patients after the handover was signed."""

    count: int
    newest: datetime | None


def changes_since(signature: HandoverSignature) -> Changes:
    """Count the entries recorded after signing for the patients it covers (one query)."""
    ids = [int(i) for i in signature.admission_ids.split(",") if i]
    if not ids:
        return Changes(0, None)

    def recorded(column, admission_column):
        return select(column.label("at")).where(in_list(admission_column, "ids"),
                                                column > bindparam("since"))

    charted = (VitalSigns, Assessment, NursingNote, SafetyCheck)
    parts = [recorded(m.recorded_at, m.admission_id) for m in charted]
    parts += [recorded(Escalation.raised_at, Escalation.admission_id),
              recorded(EntryRetraction.retracted_at, EntryRetraction.admission_id),
              recorded(HandoverItem.recorded_at, HandoverItem.admission_id)]
    parts += [recorded(column, admission) for column, admission in extra_change_sources()]
    rows = union_all(*parts).subquery()
    count, newest = db.session.execute(select(func.count(), func.max(rows.c.at)),
                                       {"ids": ids, "since": signature.signed_at}).one()
    return Changes(count, newest)


def extra_change_sources() -> tuple:
    """Return further (recorded-at column, admission column) pairs: the PRN doses."""
    return prn_source.CHANGE_SOURCES


def role_label(role: str) -> str:
    return ROLES.get(role, role)
