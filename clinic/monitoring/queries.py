"""The newest entries per admission for a whole unit, in a fixed number of queries.

Each admission's newest rows are found by correlated subqueries that walk the
(admission_id, observed_at) index backwards, so the cost follows the number of beds, not the
length of the history (a window function over all rows was 100x slower in ENGINEERING.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ARRAY, Integer, Row, any_, bindparam, literal, select, true, union_all
from sqlalchemy.orm import aliased

from clinic.entries import current_filter
from clinic.escalations.services import open_filter
from clinic.extensions import db
from clinic.models import Admission, Assessment, Escalation, VitalSigns

SCALES = ("ketamine", "ciwa_ar", "cows", "ciwa_b")


@dataclass(frozen=True)
class Trend:
    """The latest and previous result of one scale (or NEWS2), as rows of Recent."""

    latest: Row | None
    previous: Row | None
    #: The column holding the score: "news2_total" for vital signs, "total" for a scale.
    score: str = "total"

    @property
    def direction(self) -> str | None:
        """Return "up", "down" or "same" comparing the latest total with the previous one."""
        if self.latest is None or self.previous is None:
            return None
        a, b = getattr(self.latest, self.score), getattr(self.previous, self.score)
        if a is None or b is None:
            return None
        return "up" if a > b else "down" if a < b else "same"


def _nth_latest(model, offset: int, conditions: Callable):
    """Return the id of the n-th newest current row of `model` for the enclosing `Admission`."""
    inner = aliased(model)
    return (
        select(inner.id)
        .where(inner.admission_id == Admission.id, current_filter(inner), *conditions(inner))
        .order_by(inner.observed_at.desc(), inner.id.desc())
        .offset(offset)
        .limit(1)
        .scalar_subquery()
    )


def newest_id(model, conditions: Callable):
    """Return the id of the newest current row matching `conditions` for the enclosing `Admission`.

    A correlated subquery, for statements that select from `Admission`.
    """
    return _nth_latest(model, 0, conditions)


_STATEMENTS: dict[tuple[str, str], tuple] = {}


def nth_latest_ids(
    admission_ids: list[int], spec: dict, *, name: str, params: dict | None = None
) -> dict[tuple[int, object], int | None]:
    """Return the id of the n-th newest current row per admission, for each spec entry.

    `spec` maps a key to (model, conditions(aliased model) -> tuple of clauses, n), n = 0 for
    the newest; the answer maps (admission id, key) to a row id or None, from one query. The
    statement is built once per `name` (building it costs more than running it), so conditions
    take per-call values through `bindparam`s filled from `params`.
    """
    if not admission_ids:
        return {}
    dialect = db.session.get_bind().dialect.name
    if (name, dialect) not in _STATEMENTS:
        build = _lateral_statement if dialect == "postgresql" else _ladder_statement
        _STATEMENTS[(name, dialect)] = build(spec)
    kind, keys, statement = _STATEMENTS[(name, dialect)]
    rows = db.session.execute(statement, {"admission_ids": list(admission_ids), **(params or {})})
    if kind == "ladder":
        return {(row[0], key): row[i + 1] for row in rows for i, key in enumerate(keys)}
    # Lateral: rows (admission, family, id, time), up to `depth` per family; rank them here.
    found: dict[tuple[int, int], list] = {}
    for admission_id, family, row_id, at in rows:
        found.setdefault((admission_id, family), []).append((at, row_id))
    answer = {}
    for admission_id in admission_ids:
        for family, members in enumerate(keys):
            ranked = [row_id for _at, row_id in sorted(found.get((admission_id, family), ()), reverse=True)]
            for key, offset in members:
                answer[(admission_id, key)] = ranked[offset] if offset < len(ranked) else None
    return answer


def _ladder_statement(spec: dict):
    """One correlated subquery per key: SQLite walks the index backwards for each, cheaply."""
    keys = list(spec)
    columns = [
        _nth_latest(model, offset, conditions).label(f"c{i}")
        for i, (model, conditions, offset) in enumerate(spec[k] for k in keys)
    ]
    statement = select(Admission.id, *columns).where(
        Admission.id.in_(bindparam("admission_ids", expanding=True))
    )
    return "ladder", keys, statement


def _lateral_statement(spec: dict):
    """One LATERAL walk per family of keys (same model and conditions), for PostgreSQL.

    The ladder's subqueries each start a new index descent, and n-th newest walks n rows
    again; a LATERAL ... LIMIT depth reads each family's newest rows once.
    """
    families: dict[tuple, list] = {}
    for key, (model, conditions, offset) in spec.items():
        families.setdefault((model, conditions), []).append((key, offset))
    parts = []
    for family, ((model, conditions), members) in enumerate(families.items()):
        inner = aliased(model)
        newest = (
            select(inner.id.label("id"), inner.observed_at.label("at"))
            .where(inner.admission_id == Admission.id, current_filter(inner), *conditions(inner))
            .order_by(inner.observed_at.desc(), inner.id.desc())
            .limit(max(offset for _key, offset in members) + 1)
            .lateral(f"newest_{family}")
        )
        parts.append(
            select(Admission.id, literal(family), newest.c.id, newest.c.at)
            .select_from(Admission).join(newest, true())
            .where(Admission.id == any_(bindparam("admission_ids", type_=ARRAY(Integer))))
        )
    return "lateral", list(families.values()), union_all(*parts)


#: How many recent results per scale are fetched: the latest and previous for the trend, and
#: CIWA-Ar's default step-down after three. A unit that steps down later asks for more.
HISTORY_DEPTH = 3


@dataclass(frozen=True)
class Recent:
    """The newest current entries per admission, fetched together for one page."""

    ids: dict
    #: Rows of _VITALS_BY_ID and _ASSESSMENTS_BY_ID, by id.
    vitals: dict[int, Row]
    assessments: dict[int, Row]
    #: Scale -> how many of its newest results were fetched.
    depth: dict[str, int]

    def entry(self, admission_id: int, key: tuple):
        found = self.ids.get((admission_id, key))
        return (self.vitals if key[0] == "news2" else self.assessments).get(found)

    def results(self, admission_id: int, scale: str) -> list[Row]:
        """Return the newest results of a scale, newest first, "unable to assess" included."""
        found = (self.entry(admission_id, (scale, n)) for n in range(self.depth[scale]))
        return [entry for entry in found if entry is not None]


def recent_entries(admission_ids: list[int], *, ciwa_ar_depth: int = HISTORY_DEPTH) -> Recent:
    """Return the newest NEWS2 sets and scale results per admission, in three queries.

    Keys: ("news2", n) for the n-th newest complete vitals set (n < 2), and (scale, n) for the
    n-th newest result of a scale, "unable to assess" included (n < the scale's depth:
    HISTORY_DEPTH, or `ciwa_ar_depth` for CIWA-Ar when that is more).
    """
    depth = {scale: HISTORY_DEPTH for scale in SCALES} | {"ciwa_ar": max(HISTORY_DEPTH, ciwa_ar_depth)}

    # One conditions function per scale, shared by its depths: PostgreSQL walks each family once.
    def complete(v):
        return (v.news2_total.is_not(None),)

    spec = {("news2", n): (VitalSigns, complete, n) for n in (0, 1)}
    for scale in SCALES:
        def of_scale(a, s=scale):
            return (a.scale == s,)

        for n in range(depth[scale]):
            spec[(scale, n)] = (Assessment, of_scale, n)
    ids = nth_latest_ids(admission_ids, spec, name=f"recent_entries:{depth['ciwa_ar']}")
    vitals_ids = {i for (_, k), i in ids.items() if k[0] == "news2" and i}
    assessment_ids = {i for (_, k), i in ids.items() if k[0] != "news2" and i}
    vitals = {v.id: v for v in _by_ids(_VITALS_BY_ID, vitals_ids)}
    assessments = {a.id: a for a in _by_ids(_ASSESSMENTS_BY_ID, assessment_ids)}
    return Recent(ids, vitals, assessments, depth)


# Built once, like the statements above. Plain rows of the columns that badges, trends and due
# times read, not objects: a board refresh reads about two hundred of them, and building each
# as an ORM object cost twice what reading it did.
_VITALS_BY_ID = select(
    VitalSigns.id, VitalSigns.admission_id, VitalSigns.observed_at, VitalSigns.news2_total,
    VitalSigns.news2_band,
).where(VitalSigns.id.in_(bindparam("ids", expanding=True)))
_ASSESSMENTS_BY_ID = select(
    Assessment.id, Assessment.admission_id, Assessment.observed_at, Assessment.scale,
    Assessment.outcome, Assessment.total, Assessment.band, Assessment.flags, Assessment.suicide_risk,
).where(Assessment.id.in_(bindparam("ids", expanding=True)))


def _by_ids(statement, ids: set[int]) -> list[Row]:
    return db.session.execute(statement, {"ids": list(ids)}).all() if ids else []


def latest_scores(admission_ids: list[int], recent: Recent | None = None) -> dict[int, dict[str, Trend]]:
    """Return, per admission, the latest and previous NEWS2 and each scale's scored results.

    A scale's previous score is looked for among its recent results only, so a run of
    "unable to assess" entries can leave the direction unknown; it is then not shown.
    """
    if not admission_ids:
        return {}
    recent = recent or recent_entries(admission_ids)
    result = {}
    for admission_id in admission_ids:
        trends = {"news2": Trend(recent.entry(admission_id, ("news2", 0)),
                                 recent.entry(admission_id, ("news2", 1)), "news2_total")}
        for scale in SCALES:
            scored = [e for e in recent.results(admission_id, scale) if e.outcome == "scored"]
            trends[scale] = Trend(scored[0] if scored else None, scored[1] if len(scored) > 1 else None)
        result[admission_id] = trends
    return result


def open_escalations_by_admission(admission_ids: list[int]) -> dict[int, list[Escalation]]:
    """Return each admission's open escalations, oldest first (one query)."""
    grouped: dict[int, list[Escalation]] = {}
    if not admission_ids:
        return grouped
    for escalation in db.session.scalars(_OPEN_ESCALATIONS, {"ids": list(admission_ids)}):
        grouped.setdefault(escalation.admission_id, []).append(escalation)
    return grouped


_OPEN_ESCALATIONS = (
    select(Escalation)
    .where(Escalation.admission_id.in_(bindparam("ids", expanding=True)), open_filter())
    .order_by(Escalation.raised_at)
)
