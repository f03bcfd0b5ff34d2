"""The newest scores per admission for a whole unit, in a fixed number of queries.

Each admission's newest row is found by a correlated subquery that walks the
(admission_id, observed_at) index backwards, so the cost follows the number of beds, not the
length of the history (a window function over all rows was 100x slower in ENGINEERING.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import aliased

from clinic.entries import current_filter
from clinic.extensions import db
from clinic.models import Assessment, Escalation, VitalSigns
from clinic.scoring import news2

SCALES = ("ketamine", "ciwa_ar", "cows", "ciwa_b")


@dataclass(frozen=True)
class Trend:
    latest: object | None
    previous: object | None

    @property
    def direction(self) -> str | None:
        """Return "up", "down" or "same" comparing the latest total with the previous one."""
        a, b = _total(self.latest), _total(self.previous)
        if a is None or b is None:
            return None
        return "up" if a > b else "down" if a < b else "same"


def _total(entry) -> int | None:
    if entry is None:
        return None
    return entry.news2_total if isinstance(entry, VitalSigns) else entry.total


def _nth_latest(model, admission_id_column, offset: int, conditions):
    inner = aliased(model)
    return (
        select(inner.id)
        .where(inner.admission_id == admission_id_column, current_filter(inner), *conditions(inner))
        .order_by(inner.observed_at.desc(), inner.id.desc())
        .offset(offset)
        .limit(1)
        .scalar_subquery()
    )


def latest_scores(admission_ids: list[int]) -> dict[int, dict[str, Trend]]:
    """Return, per admission, the latest and previous NEWS2 and each scale's scores."""
    if not admission_ids:
        return {}
    from clinic.models import Admission

    columns = {}
    for offset in (0, 1):
        columns[("news2", offset)] = _nth_latest(
            VitalSigns, Admission.id, offset, lambda v: (v.news2_total.is_not(None),)
        )
        for scale in SCALES:
            columns[(scale, offset)] = _nth_latest(
                Assessment, Admission.id, offset,
                lambda a, s=scale: (a.scale == s, a.outcome == "scored"),
            )
    keys = list(columns)
    rows = db.session.execute(
        select(Admission.id, *(columns[k].label(f"c{i}") for i, k in enumerate(keys)))
        .where(Admission.id.in_(admission_ids))
    ).all()
    wanted_vitals = {r[i + 1] for r in rows for i, k in enumerate(keys) if k[0] == "news2"} - {None}
    wanted_assessments = {r[i + 1] for r in rows for i, k in enumerate(keys) if k[0] != "news2"} - {None}
    vitals = {v.id: v for v in db.session.scalars(select(VitalSigns).where(VitalSigns.id.in_(wanted_vitals)))}
    assessments = {
        a.id: a for a in db.session.scalars(select(Assessment).where(Assessment.id.in_(wanted_assessments)))
    }
    result: dict[int, dict[str, Trend]] = {}
    for row in rows:
        found = {}
        for i, (name, offset) in enumerate(keys):
            source = vitals if name == "news2" else assessments
            found[(name, offset)] = source.get(row[i + 1])
        result[row[0]] = {
            name: Trend(found[(name, 0)], found[(name, 1)]) for name in ("news2", *SCALES)
        }
    return result


def open_escalations_by_admission(admission_ids: list[int]) -> dict[int, list[Escalation]]:
    """Return each admission's open escalations, oldest first (one query)."""
    from clinic.escalations.services import open_filter

    grouped: dict[int, list[Escalation]] = {}
    if not admission_ids:
        return grouped
    for escalation in db.session.scalars(
        select(Escalation)
        .where(Escalation.admission_id.in_(admission_ids), open_filter())
        .order_by(Escalation.raised_at)
    ):
        grouped.setdefault(escalation.admission_id, []).append(escalation)
    return grouped


def news2_response(vitals: VitalSigns | None) -> str | None:
    if vitals is None or vitals.news2_total is None:
        return None
    return news2.News2Result(vitals.news2_total, vitals.news2_band, vitals.news2_points or {}).monitoring
