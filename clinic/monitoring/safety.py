"""Read what the suicide-risk screen, continuous observation and thiamine call for.

`facts_for` reads, in a fixed number of queries per page, each admission's newest screen, any
screen with a yes not yet reviewed, the hours of continuous observation attested this shift and
the thiamine prompt; the board, the due list, the rounds page and the chart show them. The rules
are the pure ones in clinic.scoring.safety; clinic.safety records what they ask for.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, true

from clinic.db import in_list
from clinic.extensions import db
from clinic.models import (
    Admission,
    AdmissionSubstance,
    Assessment,
    ObservationAttestation,
    SuicideReview,
    ThiaminePrompt,
    User,
)
from clinic.monitoring.queries import CurrentAdmission, nth_latest_ids
from clinic.scoring import due, safety
from clinic.scoring.shifts import ShiftInstance

#: Due-item kinds beside the protocols (clinic.duelist labels and links them).
SCREEN, THIAMINE, ATTESTATION = "suicide_screen", "thiamine", "attestation"


@dataclass(frozen=True)
class ScreenRow:
    id: int
    admission_id: int
    observed_at: datetime
    recorded_at: datetime
    risk: str | None


@dataclass
class SafetyFacts:
    """What the screen, continuous observation and thiamine call for, for one admission."""

    admission_id: int
    #: The newest current screen (a ketamine checklist or a screen of its own).
    screen: ScreenRow | None = None
    #: The newest screen with a yes, when no review was recorded after it.
    review_pending: ScreenRow | None = None
    #: The level the newest screen's risk proposes, when above the current one.
    proposed_level: str | None = None
    #: Hours of continuous observation this shift, attested or not.
    hours: list[safety.AttestationHour] = field(default_factory=list)
    #: What was attested, by the hour's start.
    attested: dict[datetime, Attested] = field(default_factory=dict)
    thiamine_prompted: bool = False
    thiamine: ThiamineRow | None = None
    items: list[due.DueItem] = field(default_factory=list)

    def missing_hours(self, now: datetime) -> list[safety.AttestationHour]:
        return [hour for hour in self.hours if hour.missing(now)]


@dataclass(frozen=True)
class Attested:
    #: None: "observed continuously, no concern".
    concern: str | None
    by: str


@dataclass(frozen=True)
class ThiamineRow:
    given: bool
    reason: str | None
    recorded_at: datetime


_SCREEN_SPEC = {
    "screen": (Assessment, lambda a: (a.self_harm_thoughts.is_not(None),), 0),
    # "= true", the partial index's own condition, so the probe walks that index.
    "flagged": (Assessment, lambda a: (a.suicide_review_needed == true(),), 0),
}
_SCREEN_ROWS = select(Assessment.id, Assessment.admission_id, Assessment.observed_at,
                      Assessment.recorded_at, Assessment.suicide_risk).where(
    in_list(Assessment.id, "ids"))
_NEWEST_REVIEWS = (
    select(SuicideReview.admission_id, func.max(SuicideReview.reviewed_at))
    .where(in_list(SuicideReview.admission_id, "ids"))
    .group_by(SuicideReview.admission_id)
)
_ATTESTED = select(ObservationAttestation.admission_id, ObservationAttestation.hour_start,
                   ObservationAttestation.concern, User.display_name).join(
    User, User.id == ObservationAttestation.recorded_by_id).where(
    in_list(ObservationAttestation.admission_id, "ids"),
    ObservationAttestation.hour_start >= bindparam("since"),
)
_ALCOHOL = select(AdmissionSubstance.admission_id).where(
    in_list(AdmissionSubstance.admission_id, "ids"),
    AdmissionSubstance.substance == "alcohol",
)
_THIAMINE = select(ThiaminePrompt.admission_id, ThiaminePrompt.given, ThiaminePrompt.reason,
                   ThiaminePrompt.recorded_at).where(
    in_list(ThiaminePrompt.admission_id, "ids"))


def facts_for(admissions: list, *, now: datetime, shift: ShiftInstance) -> dict[int, SafetyFacts]:
    """Return the safety facts and due items per admission (ORM objects or plain rows)."""
    ids = [a.id for a in admissions]
    result = {a.id: SafetyFacts(a.id) for a in admissions}
    if not ids:
        return result
    ladder = nth_latest_ids(ids, _SCREEN_SPEC, name="safety_screens")
    wanted = {row_id for row_id in ladder.values() if row_id is not None}
    rows = {row.id: ScreenRow(*row) for row in db.session.execute(_SCREEN_ROWS, {"ids": list(wanted)})} \
        if wanted else {}
    reviewed = dict(db.session.execute(_NEWEST_REVIEWS, {"ids": ids}).all())
    continuous = [a for a in admissions if a.observation_level in safety.CONTINUOUS_LEVELS]
    attested: dict[int, dict[datetime, Attested]] = defaultdict(dict)
    if continuous:
        since = min(_level_since(a) for a in continuous)
        for admission_id, hour_start, concern, by in db.session.execute(
                _ATTESTED, {"ids": [a.id for a in continuous], "since": since}):
            attested[admission_id][hour_start] = Attested(concern, by)
    if all(isinstance(a, CurrentAdmission) for a in admissions):
        # The board's, due list's and handover's plain rows carry their substances.
        alcohol = {a.id for a in admissions if any(s.substance == "alcohol" for s in a.substances)}
    else:
        # One query rather than each ORM admission's substances (the rounds page has not loaded them).
        alcohol = set(db.session.scalars(_ALCOHOL, {"ids": ids}))
    prompted = {a.id for a in admissions
                if safety.thiamine_prompted(["alcohol"] if a.id in alcohol else [], a.protocols)}
    thiamine = {row[0]: ThiamineRow(*row[1:]) for row in db.session.execute(
        _THIAMINE, {"ids": sorted(prompted)})} if prompted else {}

    for admission in admissions:
        facts = result[admission.id]
        facts.screen = rows.get(ladder.get((admission.id, "screen")))
        flagged = rows.get(ladder.get((admission.id, "flagged")))
        last_review = reviewed.get(admission.id)
        if flagged is not None and (last_review is None or last_review < flagged.recorded_at):
            facts.review_pending = flagged
        # Proposed until the screen is reviewed: the reviewer decides the level from then on.
        if facts.screen is not None and facts.review_pending is facts.screen:
            facts.proposed_level = safety.proposed_level(facts.screen.risk, admission.observation_level)
        facts.attested = attested.get(admission.id, {})
        facts.hours = safety.attestation_hours(
            admission.observation_level, _level_since(admission), facts.attested, now=now,
            start=shift.starts_at)
        facts.thiamine_prompted = admission.id in prompted
        facts.thiamine = thiamine.get(admission.id)
        facts.items = _due_items(admission, facts)
    return result


def _level_since(admission) -> datetime:
    return max(filter(None, [admission.observation_level_since, admission.admitted_at]))


def _due_items(admission, facts: SafetyFacts) -> list[due.DueItem]:
    items = []
    screens = [facts.screen.observed_at] if facts.screen is not None else []
    at, why = safety.screen_due_at(admission.admitted_at, screens)
    items.append(due.DueItem(SCREEN, at, safety.SCREEN_INTERVAL_MINUTES, why))
    if facts.thiamine_prompted and facts.thiamine is None:
        grace = safety.ADMISSION_GRACE_MINUTES
        items.append(due.DueItem(
            THIAMINE, admission.admitted_at + timedelta(minutes=grace), grace,
            f"alcohol withdrawal: record given or not given (and why) within {grace} min of admission"))
    open_hours = [hour for hour in facts.hours if not hour.attested]
    if open_hours:
        count = len(open_hours)
        items.append(due.DueItem(
            ATTESTATION, open_hours[0].ends_at + safety.ATTESTATION_GRACE, 60,
            f"{count} {'hour' if count == 1 else 'hours'} of continuous observation not yet attested"))
    return items


def newest_review(admission: Admission) -> SuicideReview | None:
    return db.session.scalar(
        select(SuicideReview).where(SuicideReview.admission_id == admission.id)
        .order_by(SuicideReview.reviewed_at.desc(), SuicideReview.id.desc()).limit(1))


@dataclass(frozen=True)
class ChartPanel:
    """What the chart shows on the screen, continuous observation and thiamine."""

    facts: SafetyFacts
    review: SuicideReview | None
    thiamine: ThiaminePrompt | None


def chart_panel(admission: Admission, now: datetime) -> ChartPanel:
    """Return the chart's safety panel for one admission."""
    facts = facts_for([admission], now=now, shift=admission.unit.shift_for(now))[admission.id]
    thiamine = db.session.scalar(select(ThiaminePrompt).where(ThiaminePrompt.admission_id == admission.id)) \
        if facts.thiamine_prompted else None
    return ChartPanel(facts, newest_review(admission), thiamine)
