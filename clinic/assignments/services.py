"""Which nurse has which bed, per shift: read the board of beds and save what the charge nurse changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from clinic import audit
from clinic.board.services import board_rows
from clinic.extensions import db
from clinic.models import Admission, Assignment, Bed, Unit, User
from clinic.scoring.shifts import ShiftInstance

#: Roles a bed can be assigned to.
ASSIGNABLE_ROLES = ("nurse", "charge_nurse")
#: The shifts the page offers: the one under way and the one after it.
SHIFT_CHOICES = ("current", "next")


class AssignmentError(Exception):
    """A refused assignment, with the form field (a bed) it belongs next to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def shift_of(unit: Unit, which: str, now: datetime) -> ShiftInstance:
    """Return the unit's current shift, or the next one (starting when the current one ends)."""
    current = unit.shift_for(now)
    return unit.shift_for(current.ends_at) if which == "next" else current


def shift_starting(unit: Unit, starts_at: datetime, now: datetime) -> ShiftInstance | None:
    """Return the current or next shift if it starts at `starts_at`, else None (ended or unknown)."""
    for which in SHIFT_CHOICES:
        shift = shift_of(unit, which, now)
        if shift.starts_at == starts_at:
            return shift
    return None


def assignable_nurses() -> list[User]:
    """Return the active nurses and charge nurses, by name."""
    return list(db.session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_(ASSIGNABLE_ROLES))
        .order_by(User.display_name, User.id)
    ))


def newest_per_bed(unit: Unit, shift: ShiftInstance) -> dict[int, Assignment]:
    """Return the newest row per bed for a shift, an "unassigned" row (nurse None) included."""
    newest: dict[int, Assignment] = {}
    for row in db.session.scalars(
        select(Assignment)
        .where(Assignment.unit_id == unit.id, Assignment.shift_starts_at == shift.starts_at)
        .options(selectinload(Assignment.nurse), selectinload(Assignment.assigned_by))
        .order_by(Assignment.id)
    ):
        newest[row.bed_id] = row
    return newest


@dataclass(frozen=True)
class BedRow:
    """One bed on the assignment sheet: its patient (if any) and the newest assignment row."""

    bed: Bed
    admission: Admission | None
    assignment: Assignment | None

    @property
    def nurse_id(self) -> int | None:
        return self.assignment.nurse_id if self.assignment is not None else None


def sheet(unit: Unit, shift: ShiftInstance) -> list[BedRow]:
    """Return every open bed (and any patient left in a closed one) with its assignment for a shift."""
    newest = newest_per_bed(unit, shift)
    return [BedRow(row.bed, row.admission, newest.get(row.bed.id)) for row in board_rows(unit)]


def save_assignments(
    *,
    by: User,
    unit: Unit,
    shift: ShiftInstance,
    wanted: dict[int, int | None],
    seen: dict[int, int | None] | None = None,
) -> list[Assignment]:
    """Write one row per bed whose nurse changed and one audit event listing the changes.

    `wanted` maps bed id to nurse id (None: unassigned). `seen` is what the form showed when it
    was opened: a bed the charge nurse left as shown is not written even if someone else has
    changed it since, and a bed both of them changed is refused rather than silently
    overwritten. Return the rows written (none if nothing changed).
    """
    if not by.has_role("charge_nurse"):
        raise AssignmentError("Only a charge nurse can change assignments.")
    seen = seen or {}
    # Serialise savers of one unit (PostgreSQL; SQLite writers already queue), so the check
    # against the newest rows below still holds when this transaction commits.
    db.session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())
    beds = {bed.id: bed for bed in db.session.scalars(select(Bed).where(Bed.unit_id == unit.id))}
    newest = newest_per_bed(unit, shift)
    nurses = {user.id: user for user in assignable_nurses()}
    changed: list[tuple[Bed, int | None, int | None]] = []
    conflicts: list[str] = []
    for bed_id, nurse_id in wanted.items():
        bed = beds.get(bed_id)
        if bed is None:
            raise AssignmentError("That bed is not on this unit. Reload the page.")
        current = newest[bed_id].nurse_id if bed_id in newest else None
        shown = seen.get(bed_id, current)
        if nurse_id == current or nurse_id == shown:
            continue  # unchanged, or left as shown while someone else changed it
        if shown != current:
            conflicts.append(bed.label)
            continue
        if nurse_id is not None and nurse_id not in nurses:
            raise AssignmentError(
                f"Bed {bed.label}: choose an active nurse or charge nurse.", f"bed_{bed_id}"
            )
        changed.append((bed, current, nurse_id))
    if conflicts:
        raise AssignmentError(
            f"{_beds_phrase(conflicts)} changed by someone else while you were editing. "
            "Nothing was saved; the sheet now shows the newest assignments."
        )
    rows = []
    for bed, _before, nurse_id in changed:
        row = Assignment(unit_id=unit.id, shift_starts_at=shift.starts_at, bed_id=bed.id,
                         nurse_id=nurse_id, assigned_by_id=by.id)
        db.session.add(row)
        rows.append(row)
    if not rows:
        return rows
    db.session.flush()
    names = {user_id: user.display_name for user_id, user in nurses.items()}
    names.update({row.nurse_id: row.nurse.display_name for row in newest.values() if row.nurse})

    def who(nurse_id: int | None) -> str | None:
        return names.get(nurse_id, f"user {nurse_id}") if nurse_id is not None else None

    audit.record(
        "update", user=by, object_type="assignment", object_id=rows[0].id,
        detail={
            "unit": unit.name,
            "shift": shift.name,
            "shift_starts_at": shift.starts_at.isoformat(),
            "rows": [row.id for row in rows],
            "before": {f"bed {bed.label}": who(before) for bed, before, _ in changed},
            "after": {f"bed {bed.label}": who(after) for bed, _, after in changed},
        },
    )
    return rows


def _beds_phrase(labels: list[str]) -> str:
    if len(labels) == 1:
        return f"Bed {labels[0]} was"
    return f"Beds {', '.join(labels[:-1])} and {labels[-1]} were"
