"""What the trend pages read: current versions only, as plain rows, in a fixed number of queries.

Whatever the length of the stay, a page costs the same statements: the admission (with patient,
unit and substances), the unit's due rules, then one statement each for vitals, assessments,
escalations, observation-level changes, reviews and PRN doses. Corrected values come back
marked (their row supersedes another); entered-in-error ones do not come back at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import selectinload

from clinic.entries import current_filter
from clinic.extensions import db
from clinic.models import (
    Admission,
    Assessment,
    Escalation,
    ObservationLevelChange,
    TrendReview,
    User,
    VitalSigns,
)
from clinic.prn.queries import doses_for


def load_admission(admission_id: int) -> Admission | None:
    """Return the admission with what the trend pages show about it loaded up front."""
    return db.session.scalar(
        select(Admission).where(Admission.id == admission_id).options(
            selectinload(Admission.patient), selectinload(Admission.unit),
            selectinload(Admission.substances),
        )
    )


def _window(model_time):
    return (model_time >= bindparam("start")) & (model_time <= bindparam("end"))


_VITALS = (
    select(VitalSigns.id, VitalSigns.observed_at, VitalSigns.heart_rate, VitalSigns.systolic_bp,
           VitalSigns.diastolic_bp, VitalSigns.respiratory_rate, VitalSigns.temperature_tenths,
           VitalSigns.spo2, VitalSigns.spo2_scale, VitalSigns.on_oxygen,
           VitalSigns.news2_total, VitalSigns.news2_band, VitalSigns.is_late,
           VitalSigns.supersedes_id.is_not(None).label("corrected"), User.display_name.label("author"))
    .join(User, User.id == VitalSigns.recorded_by_id)
    .where(VitalSigns.admission_id == bindparam("admission_id"), _window(VitalSigns.observed_at),
           current_filter(VitalSigns))
    .order_by(VitalSigns.observed_at, VitalSigns.id)
)

_ASSESSMENTS = (
    select(Assessment.id, Assessment.observed_at, Assessment.scale, Assessment.outcome,
           Assessment.total, Assessment.band, Assessment.suicide_risk, Assessment.self_harm_thoughts,
           Assessment.is_late, Assessment.supersedes_id.is_not(None).label("corrected"),
           User.display_name.label("author"))
    .join(User, User.id == Assessment.recorded_by_id)
    .where(Assessment.admission_id == bindparam("admission_id"), _window(Assessment.observed_at),
           current_filter(Assessment))
    .order_by(Assessment.observed_at, Assessment.id)
)

_ESCALATIONS = (
    select(Escalation.id, Escalation.raised_at, Escalation.level, Escalation.reason,
           Escalation.automatic, User.display_name.label("author"))
    .join(User, User.id == Escalation.raised_by_id)
    .where(Escalation.admission_id == bindparam("admission_id"), _window(Escalation.raised_at))
    .order_by(Escalation.raised_at, Escalation.id)
)

_LEVEL_CHANGES = (
    select(ObservationLevelChange.id, ObservationLevelChange.changed_at, ObservationLevelChange.level,
           ObservationLevelChange.reason, User.display_name.label("author"))
    .join(User, User.id == ObservationLevelChange.changed_by_id)
    .where(ObservationLevelChange.admission_id == bindparam("admission_id"),
           _window(ObservationLevelChange.changed_at))
    .order_by(ObservationLevelChange.changed_at, ObservationLevelChange.id)
)

_REVIEWS = (
    select(TrendReview.id, TrendReview.reviewed_at, TrendReview.comment,
           User.display_name.label("author"))
    .join(User, User.id == TrendReview.reviewed_by_id)
    .where(TrendReview.admission_id == bindparam("admission_id"))
    .order_by(TrendReview.reviewed_at.desc(), TrendReview.id.desc())
    .limit(5)
)


@dataclass(frozen=True)
class TrendRows:
    """Everything charted on one admission between `start` and `end`, oldest first."""

    start: datetime
    end: datetime
    vitals: list
    assessments: list
    escalations: list
    level_changes: list
    reviews: list
    doses: list


def trend_rows(admission: Admission, start: datetime, end: datetime) -> TrendRows:
    """Read the current version of everything the trend pages show in the window."""
    params = {"admission_id": admission.id, "start": start, "end": end}
    # Core execution on the session's connection: these select columns, not entities, and the
    # ORM's row handling cost a microsecond or more on each of a fortnight's rows.
    run = db.session.connection().execute
    return TrendRows(
        start, end,
        vitals=run(_VITALS, params).all(),
        assessments=run(_ASSESSMENTS, params).all(),
        escalations=run(_ESCALATIONS, params).all(),
        level_changes=run(_LEVEL_CHANGES, params).all(),
        reviews=run(_REVIEWS, {"admission_id": admission.id}).all(),
        # Entered-in-error doses are left off the trends like every other retracted entry.
        doses=[d for d in doses_for([admission.id], start, end) if not d.entered_in_error],
    )
