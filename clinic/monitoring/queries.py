"""The newest entries per admission for a whole unit, in a fixed number of queries.

Each admission's newest rows are found by walking the (admission_id, observed_at, id) index
backwards, a few rows per admission (correlated subqueries on SQLite, LATERAL ... LIMIT on
PostgreSQL), so the cost follows the number of beds, not the length of the history (a window
function over all rows was 100x slower in ENGINEERING.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    Integer,
    Row,
    String,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased

from clinic.db import in_list, plain_rows
from clinic.entries import current_filter
from clinic.escalations.services import open_filter
from clinic.extensions import db
from clinic.models import Admission, AdmissionSubstance, Assessment, Bed, Escalation, Patient, VitalSigns
from clinic.models.patient import ADMITTED, AdmissionFacts, PatientFacts, SubstanceFacts

SCALES = ("ketamine", "ciwa_ar", "cows", "ciwa_b")


@dataclass(frozen=True)
class Trend:
    """The latest and previous result of one scale (or NEWS2), as rows of Recent."""

    latest: tuple | None
    previous: tuple | None

    @property
    def direction(self) -> str | None:
        """Return "up", "down" or "same" comparing the latest total with the previous one."""
        if self.latest is None or self.previous is None:
            return None
        a, b = self.latest.total, self.previous.total
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


_LADDERS: dict[str, tuple] = {}


def nth_latest_ids(
    admission_ids: list[int], spec: dict, *, name: str, params: dict | None = None
) -> dict[tuple[int, object], int | None]:
    """Return the id of the n-th newest current row per admission, for each spec entry.

    `spec` maps a key to (model, conditions(aliased model) -> tuple of clauses, n), n = 0 for
    the newest; the answer maps (admission id, key) to a row id or None, from one query of one
    correlated subquery per key, each a short backward walk of an index (SQLite's way; see
    `recent_entries` for PostgreSQL's). The statement is built once per `name` (building it
    costs more than running it), so conditions take per-call values through `bindparam`s
    filled from `params`.
    """
    if not admission_ids:
        return {}
    if name not in _LADDERS:
        keys = list(spec)
        columns = [
            _nth_latest(model, offset, conditions).label(f"c{i}")
            for i, (model, conditions, offset) in enumerate(spec[k] for k in keys)
        ]
        _LADDERS[name] = keys, select(Admission.id, *columns).where(
            in_list(Admission.id, "admission_ids"))
    keys, statement = _LADDERS[name]
    rows = db.session.execute(statement, {"admission_ids": list(admission_ids), **(params or {})})
    return {(row[0], key): row[i + 1] for row in rows for i, key in enumerate(keys)}


#: How many recent results per scale are fetched: the latest and previous for the trend, and
#: CIWA-Ar's default step-down after three. A unit that steps down later asks for more.
HISTORY_DEPTH = 3


@dataclass(frozen=True)
class Recent:
    """The newest current entries per admission, fetched together for one page."""

    #: (admission id, "news2" or a scale) -> rows, newest first: complete vitals sets (of
    #: _VITALS_BY_ID's columns) or scale results, "unable to assess" included (_ASSESSMENTS_BY_ID).
    rows: dict[tuple[int, str], list[tuple]]

    def entry(self, admission_id: int, key: tuple[str, int]):
        """Return the n-th newest row for key (name, n), or None."""
        name, n = key
        found = self.rows.get((admission_id, name), ())
        return found[n] if n < len(found) else None

    def results(self, admission_id: int, scale: str) -> list[tuple]:
        """Return the newest results of a scale, newest first, "unable to assess" included."""
        return self.rows.get((admission_id, scale), [])


def recent_entries(admission_ids: list[int], *, ciwa_ar_depth: int = HISTORY_DEPTH) -> Recent:
    """Return the newest complete vitals sets (two) and scale results per admission.

    Each scale's results are read HISTORY_DEPTH deep, or `ciwa_ar_depth` deep for CIWA-Ar when
    that is more. One query on PostgreSQL; three on SQLite.
    """
    # "vitals": the newest set of any kind, so a newer partial set is shown as incomplete.
    depth = {"news2": 2, "vitals": 1} | {scale: HISTORY_DEPTH for scale in SCALES}
    depth["ciwa_ar"] = max(HISTORY_DEPTH, ciwa_ar_depth)
    if not admission_ids:
        return Recent({})
    if db.session.get_bind().dialect.name == "postgresql":
        statement = _postgresql_recent(max(depth.values()))
        params = {"admission_ids": list(admission_ids), "scales": list(SCALES)}
        rows = plain_rows(db.session.execute(statement, params))
    else:
        rows = _recent_sqlite(admission_ids, depth)
    grouped: dict[tuple[int, str], list[tuple]] = {}
    for row in sorted(rows, key=lambda r: (r.observed_at, r.id), reverse=True):
        found = grouped.setdefault((row.admission_id, row.scale), [])
        if len(found) < depth[row.scale]:
            found.append(row)
    return Recent(grouped)


def _recent_sqlite(admission_ids: list[int], depth: dict[str, int]) -> list[tuple]:
    # Complete sets, and partial ones whose parameters present already imply a band.
    def complete(v):
        return (v.news2_band.is_not(None),)

    # One conditions function per scale, shared by its depths.
    spec = {("news2", n): (VitalSigns, complete, n) for n in range(depth["news2"])}
    spec[("vitals", 0)] = (VitalSigns, lambda v: (), 0)
    for scale in SCALES:
        def of_scale(a, s=scale):
            return (a.scale == s,)

        for n in range(depth[scale]):
            spec[(scale, n)] = (Assessment, of_scale, n)
    ids = nth_latest_ids(admission_ids, spec, name=f"recent_entries:{depth['ciwa_ar']}")
    vitals_ids = [i for (_, k), i in ids.items() if k[0] == "news2" and i]
    newest_ids = [i for (_, k), i in ids.items() if k[0] == "vitals" and i]
    assessment_ids = [i for (_, k), i in ids.items() if k[0] not in ("news2", "vitals") and i]
    return (_by_ids(_ASSESSMENTS_BY_ID, assessment_ids) + _by_ids(_VITALS_BY_ID, vitals_ids)
            + _by_ids(_NEWEST_VITALS_BY_ID, newest_ids))


# Built once, like the statements above. Plain rows of the columns that badges, trends and due
# times read, not objects: a board refresh reads about two hundred of them, and building each
# as an ORM object cost twice what reading it did. Both have the same columns, so that
# PostgreSQL's statement can be their union (the assessments first: a union's result types
# are its first part's).
_ASSESSMENT_COLUMNS = (
    Assessment.id, Assessment.admission_id, Assessment.observed_at, Assessment.scale,
    Assessment.outcome, Assessment.total, Assessment.band, Assessment.flags, Assessment.suicide_risk,
)
_ASSESSMENTS_BY_ID = select(*_ASSESSMENT_COLUMNS).where(Assessment.id.in_(bindparam("ids", expanding=True)))


def _vitals_columns(vitals, scale: str = "news2"):
    return (
        vitals.id, vitals.admission_id, vitals.observed_at, literal(scale).label("scale"),
        literal("scored").label("outcome"), vitals.news2_total.label("total"),
        # A set's NEWS2 points ride in the flags column: the board names a partial set's missing ones.
        vitals.news2_band.label("band"),
        type_coerce(vitals.news2_points, Assessment.flags.type).label("flags"),
        cast(null(), Assessment.suicide_risk.type).label("suicide_risk"),
    )


_VITALS_BY_ID = select(*_vitals_columns(VitalSigns)).where(
    VitalSigns.id.in_(bindparam("ids", expanding=True)))
_NEWEST_VITALS_BY_ID = select(*_vitals_columns(VitalSigns, "vitals")).where(
    VitalSigns.id.in_(bindparam("ids", expanding=True)))


def _by_ids(statement, ids: list[int]) -> list[tuple]:
    return plain_rows(db.session.execute(statement, {"ids": ids})) if ids else []


def unnested(parameter: str, item_type, name: str, column: str):
    """Return PostgreSQL's ``unnest(:parameter) AS name(column)``: a list bound as one array."""
    return func.unnest(bindparam(parameter, type_=ARRAY(item_type))).table_valued(column).render_derived(
        name=name)


@functools.cache
def _postgresql_recent(depth: int):
    """Each admission's newest rows by one LATERAL ... LIMIT walk per (admission, scale).

    The admissions and scales come as arrays (unnest), so the statement text, and with it
    psycopg's prepared statement, is the same for any number of beds. The depth is written into
    the text: given a LIMIT parameter, PostgreSQL's generic plan guessed a tenth of the table,
    so it planned the statement anew on every execution (1.6 ms, as long as running it).
    """
    wanted = unnested("admission_ids", Integer, "wanted", "id")
    scales = unnested("scales", String, "scales", "scale")
    a = aliased(Assessment)
    results = (
        select(*[getattr(a, c.key) for c in _ASSESSMENT_COLUMNS])
        .where(a.admission_id == wanted.c.id, a.scale == scales.c.scale, current_filter(a))
        .order_by(a.observed_at.desc(), a.id.desc()).limit(literal_column(str(depth)))
        .lateral("results")
    )
    v = aliased(VitalSigns)
    sets = (
        select(*_vitals_columns(v))
        .where(v.admission_id == wanted.c.id, v.news2_band.is_not(None), current_filter(v))
        .order_by(v.observed_at.desc(), v.id.desc()).limit(literal_column("2"))
        .lateral("sets")
    )
    n = aliased(VitalSigns)
    newest = (
        select(*_vitals_columns(n, "vitals"))
        .where(n.admission_id == wanted.c.id, current_filter(n))
        .order_by(n.observed_at.desc(), n.id.desc()).limit(literal_column("1"))
        .lateral("newest")
    )
    return union_all(
        select(results).select_from(wanted).join(scales, true()).join(results, true()),
        select(sets).select_from(wanted).join(sets, true()),
        select(newest).select_from(wanted).join(newest, true()),
    )


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
                                 recent.entry(admission_id, ("news2", 1)))}
        newest = recent.entry(admission_id, ("vitals", 0))
        latest = trends["news2"].latest
        if newest is not None and (latest is None or (newest.observed_at, newest.id) > (
                latest.observed_at, latest.id)):
            # A newer partial set with no band: shown as incomplete, never the older set's total.
            trends["news2"] = Trend(newest, latest)
        for scale in SCALES:
            scored = [e for e in recent.results(admission_id, scale) if e.outcome == "scored"]
            trends[scale] = Trend(scored[0] if scored else None, scored[1] if len(scored) > 1 else None)
        result[admission_id] = trends
    return result


def open_escalations_by_admission(admission_ids: list[int]) -> dict[int, list[Row]]:
    """Return each admission's open escalations, oldest first (one query, as plain rows)."""
    grouped: dict[int, list[Row]] = {}
    if not admission_ids:
        return grouped
    for escalation in db.session.execute(_OPEN_ESCALATIONS, {"ids": list(admission_ids)}):
        grouped.setdefault(escalation.admission_id, []).append(escalation)
    return grouped


_OPEN_ESCALATIONS = (
    select(Escalation.id, Escalation.admission_id, Escalation.level, Escalation.reason, Escalation.raised_at)
    .where(Escalation.admission_id.in_(bindparam("ids", expanding=True)), open_filter())
    .order_by(Escalation.raised_at)
)


# The unit board and the due list read a unit's current admissions on every view and refresh.
# As ORM objects (admission, patient and substances: some 140 for a full ward) their loading
# cost twice what the plain query below does; the model's own methods (detox day, hours
# since last use, display name) come with them through the *Facts mixins.

@dataclass(frozen=True)
class BedRow:
    id: int
    label: str
    sort_key: int
    active: bool = True


@dataclass(frozen=True)
class PatientRow(PatientFacts):
    id: int
    mrn: str
    family_name: str
    given_name: str
    date_of_birth: date
    sex: str
    allergies: str


@dataclass(frozen=True)
class SubstanceRow(SubstanceFacts):
    substance: str
    is_primary: bool
    last_use_at: datetime | None


@dataclass(frozen=True)
class CurrentAdmission(AdmissionFacts):
    """A current admission as the busy pages read it: plain values, not an ORM object."""

    id: int
    patient_id: int
    unit_id: int
    bed_id: int
    admitted_at: datetime
    protocols: list[str]
    observation_level: str
    observation_level_since: datetime | None
    patient: PatientRow
    bed: BedRow
    substances: tuple[SubstanceRow, ...]


_CURRENT_ADMISSIONS = (
    select(
        Admission.id, Admission.patient_id, Admission.unit_id, Admission.bed_id, Admission.admitted_at,
        Admission.protocols, Admission.observation_level, Admission.observation_level_since,
        Patient.mrn, Patient.family_name, Patient.given_name, Patient.date_of_birth, Patient.sex,
        Patient.allergies, Bed.label, Bed.sort_key, Bed.active.label("bed_active"),
        AdmissionSubstance.substance, AdmissionSubstance.is_primary, AdmissionSubstance.last_use_at,
    )
    .join(Patient, Patient.id == Admission.patient_id).join(Bed, Bed.id == Admission.bed_id)
    # A row per substance, in one round trip; an admission without any still has its row.
    .outerjoin(AdmissionSubstance, AdmissionSubstance.admission_id == Admission.id)
    .where(Admission.unit_id == bindparam("unit_id"), Admission.status == ADMITTED)
    # Substances as the model's relationship orders them: primary first.
    .order_by(Bed.sort_key, Bed.label, Admission.id, AdmissionSubstance.is_primary.desc(),
              AdmissionSubstance.id)
)


def current_admissions(unit_id: int) -> list[CurrentAdmission]:
    """Return a unit's current admissions with patient, bed and substances, in bed order."""
    rows: dict[int, tuple] = {}
    substances: dict[int, list[SubstanceRow]] = {}
    for row in plain_rows(db.session.execute(_CURRENT_ADMISSIONS, {"unit_id": unit_id})):
        rows.setdefault(row.id, row)
        found = substances.setdefault(row.id, [])
        if row.substance is not None:
            found.append(SubstanceRow(row.substance, row.is_primary, row.last_use_at))
    return [
        CurrentAdmission(
            id=row.id, patient_id=row.patient_id, unit_id=row.unit_id, bed_id=row.bed_id,
            admitted_at=row.admitted_at, protocols=row.protocols, observation_level=row.observation_level,
            observation_level_since=row.observation_level_since,
            patient=PatientRow(row.patient_id, row.mrn, row.family_name, row.given_name,
                               row.date_of_birth, row.sex, row.allergies),
            bed=BedRow(row.bed_id, row.label, row.sort_key, row.bed_active),
            substances=tuple(substances[row.id]),
        )
        for row in rows.values()
    ]
