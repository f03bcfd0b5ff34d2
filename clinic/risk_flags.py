"""Risk flags on an admission: recorded and cleared by clinicians, shown on the board and chart."""

from __future__ import annotations

from collections import defaultdict

from markupsafe import Markup, escape
from sqlalchemy import select

from clinic import audit
from clinic.db import in_list
from clinic.entries import ChartingError
from clinic.extensions import db
from clinic.models import Admission, RiskFlag, User
from clinic.scoring.risk import FLAGS

_FLAG_ROWS = (
    select(RiskFlag.admission_id, RiskFlag.flag, RiskFlag.present, RiskFlag.note)
    .where(in_list(RiskFlag.admission_id, "ids"))
    .order_by(RiskFlag.id)
)


def flags_by_admission(admission_ids: list[int]) -> dict[int, dict[str, str | None]]:
    """Return the flags in force per admission (flag -> note), the newest row per flag deciding."""
    newest: dict[int, dict[str, tuple[bool, str | None]]] = defaultdict(dict)
    if admission_ids:
        for row in db.session.execute(_FLAG_ROWS, {"ids": list(admission_ids)}):
            newest[row.admission_id][row.flag] = (row.present, row.note)
    return {admission_id: {flag: note for flag, (present, note) in flags.items() if present}
            for admission_id, flags in newest.items()}


def record_flags(*, by: User, admission: Admission, present: dict[str, str | None]) -> list[RiskFlag]:
    """Record the flags that changed (raised with a note, or cleared); return the new rows."""
    if not admission.is_current:
        raise ChartingError("This admission has ended; its risk flags can no longer be changed.")
    unknown = sorted(set(present) - set(FLAGS))
    if unknown:
        raise ValueError(f"unknown risk flags: {', '.join(unknown)}")
    before = flags_by_admission([admission.id]).get(admission.id, {})
    rows = []
    for flag in FLAGS:
        wanted, had = flag in present, flag in before
        note = (present.get(flag) or "").strip() or None
        if wanted == had and (not wanted or note == before[flag]):
            continue
        row = RiskFlag(admission_id=admission.id, flag=flag, present=wanted,
                       note=note if wanted else None, recorded_by_id=by.id)
        db.session.add(row)
        rows.append(row)
    if rows:
        db.session.flush()
        for row in rows:
            audit.record("create", user=by, object_type="admission_risk_flag", object_id=row.id,
                         patient_id=admission.patient_id,
                         detail={"flag": row.flag, "present": row.present, "note": row.note}, content_of=row)
        audit.record(
            "update", user=by, object_type="admission", object_id=admission.id,
            patient_id=admission.patient_id,
            detail={"change": "risk flags", "before": sorted(before), "after": sorted(present)},
        )
    return rows


def risk_badges(flags: dict[str, str | None] | None) -> Markup:
    """Return a badge per risk flag in force (nothing when there are none)."""
    flags = flags or {}
    return Markup(" ".join(
        f'<span class="badge badge-warn risk-flag" title="{escape(flags[flag] or "")}">'
        f'⚑ {escape(label)}</span>' for flag, label in FLAGS.items() if flag in flags))
