"""Check, score and record withdrawal assessments, and raise the escalations they call for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from clinic import audit, entries
from clinic.entries import ChartingError
from clinic.escalations import services as escalations
from clinic.extensions import db
from clinic.models import Admission, Assessment, User, VitalSigns
from clinic.models.charting import to_tenths
from clinic.models.patient import PROTOCOLS
from clinic.scoring import ciwa_ar, ciwa_b, cows, due, ketamine, limits, safety
from clinic.scoring.due import OBSERVATION_LEVELS
from clinic.scoring.scale import Item, ItemError, max_total, validate_items

#: Version of the published scales (CIWA-Ar, COWS, CIWA-B), whose items never change.
VERSION = "1"
#: Ketamine checklist definitions by version, so an old entry shows with the items it was scored on.
KETAMINE_DEFINITIONS = {ketamine.DEFAULT_DEFINITION.version: ketamine.DEFAULT_DEFINITION}
#: How old a vital-signs heart rate may be and still give the COWS pulse item.
PULSE_FROM_VITALS_WITHIN = timedelta(minutes=30)
TYPED_ON_FORM = "typed on form"
#: The suicide-risk screen on its own (REFERENCE §5): on every admission, whatever its protocols.
SCREEN = "suicide_screen"
#: What each kind of assessment is called.
ENTRY_LABELS = {**PROTOCOLS, SCREEN: "Suicide-risk screen"}
SCORED, UNABLE = "scored", "unable"


@dataclass(frozen=True)
class ScaleDefinition:
    """What a form asks for one scale: chosen items, yes/no items, heart rate, suicide screen."""

    code: str
    version: str
    #: Every scored item, in the scale's order (COWS includes the derived pulse item).
    items: tuple[Item, ...]
    yes_no_items: tuple[tuple[str, str], ...] = ()
    #: Items the system derives rather than the nurse choosing them.
    derived: tuple[str, ...] = ()
    asks_heart_rate: bool = False
    asks_self_harm: bool = False
    #: CIWA-B's unscored sleep questions (hours slept, minutes to fall asleep).
    asks_sleep: bool = False

    @property
    def label(self) -> str:
        return ENTRY_LABELS[self.code]

    @property
    def chosen_items(self) -> tuple[Item, ...]:
        """Return the items answered on the form by choosing a value."""
        return tuple(item for item in self.items if item.key not in self.derived)

    @property
    def max_total(self) -> int:
        return max_total(self.items)

    def item(self, key: str) -> Item | None:
        return next((item for item in self.items if item.key == key), None)


def definition(scale: str, version: str | None = None) -> ScaleDefinition:
    """Return the definition of a scale (the current one unless a version is asked for)."""
    if scale == SCREEN:
        if version not in (None, VERSION):
            raise KeyError(f"{scale} version {version}")
        return ScaleDefinition(SCREEN, VERSION, (), asks_self_harm=True)
    if scale == "ketamine":
        checklist = KETAMINE_DEFINITIONS[version or ketamine.DEFAULT_DEFINITION.version]
        return ScaleDefinition("ketamine", checklist.version, checklist.items,
                               checklist.yes_no_items, asks_self_harm=True)
    if version not in (None, VERSION):
        raise KeyError(f"{scale} version {version}")
    if scale == "ciwa_ar":
        return ScaleDefinition("ciwa_ar", VERSION, ciwa_ar.ITEMS)
    if scale == "cows":
        return ScaleDefinition("cows", VERSION, cows.ITEMS, derived=("resting_pulse",),
                               asks_heart_rate=True)
    if scale == "ciwa_b":
        return ScaleDefinition("ciwa_b", VERSION, ciwa_b.ITEMS, asks_sleep=True)
    raise KeyError(scale)


SCALES: tuple[str, ...] = ("ciwa_ar", "cows", "ciwa_b", "ketamine", SCREEN)


def available(scale: str, admission: Admission) -> bool:
    """Return whether an admission charts this scale: its protocols', and the screen on every one."""
    return scale == SCREEN or scale in admission.protocols
SUICIDE_QUESTIONS = dict(ketamine.QUESTIONS)
#: Screen questions asked only after a yes to another one (follow-up -> the question it follows).
SUICIDE_FOLLOWS = {"method": "active_thoughts", "intent": "active_thoughts",
                   "plan": "active_thoughts", "behaviour_last_3_months": "behaviour"}
#: Screen questions asked only after a yes to the opening thoughts question; behaviour is for everyone.
SUICIDE_AFTER_GATE = ("wish_dead", "active_thoughts", "method", "intent", "plan")


def answer_errors(
    scale: ScaleDefinition,
    *,
    items: Mapping[str, object],
    yes_no: Mapping[str, bool | None],
    self_harm_thoughts: bool | None,
    suicide_answers: Mapping[str, bool | None] | None,
) -> dict[str, str]:
    """Return a message for every unanswered or disallowed answer, keyed by its form field."""
    errors: dict[str, str] = {}
    for item in scale.chosen_items:
        value = items.get(item.key)
        try:
            validate_items((item,), {item.key: value})
        except ItemError:
            errors[item.key] = _item_message(item, value)
    for key, _label in scale.yes_no_items:
        if not isinstance(yes_no.get(key), bool):
            errors[key] = "Answer yes or no."
    if scale.asks_self_harm:
        if self_harm_thoughts is None:
            errors["self_harm_thoughts"] = "Answer yes or no."
        answers = dict(suicide_answers or {})
        try:
            safety.screen_risk(bool(self_harm_thoughts), answers)
        except ItemError as error:
            if error.key != "self_harm_thoughts":
                errors[error.key] = _screen_message(error.key, answers)
    return errors


def _item_message(item: Item, value: object) -> str:
    if value is None:
        return "Answer this item."
    return f"{value} is not a value of this item; choose one of {item.describe_allowed()}."


def _screen_message(key: str, answers: Mapping[str, bool | None]) -> str:
    question = SUICIDE_QUESTIONS.get(key, key)
    if key in SUICIDE_AFTER_GATE and answers.get(key) is True:
        return (f"“{question}” is asked only after a yes to “{ketamine.GATE_QUESTION}”: "
                "answer no here, or change that answer.")
    follows = SUICIDE_FOLLOWS.get(key)
    if follows and answers.get(key) is True and answers.get(follows) is not True:
        return (f"“{question}” is asked only after a yes to “{SUICIDE_QUESTIONS[follows]}”: "
                "answer no here, or change that answer.")
    return f"Answer yes or no: “{question}”"


def heart_rate_for_pulse(admission: Admission, observed_at: datetime,
                         typed: int | None) -> tuple[int, str]:
    """Return the heart rate for the COWS pulse item and where it came from, or refuse."""
    if typed is not None:
        verdict = limits.check("heart_rate", str(typed))
        if verdict.tier == limits.REFUSE:
            raise ChartingError(verdict.message, "heart_rate")
        return verdict.value, TYPED_ON_FORM
    vitals = db.session.scalar(
        select(VitalSigns)
        .where(VitalSigns.admission_id == admission.id, VitalSigns.heart_rate.is_not(None),
               VitalSigns.observed_at <= observed_at,
               VitalSigns.observed_at >= observed_at - PULSE_FROM_VITALS_WITHIN,
               entries.current_filter(VitalSigns))
        .order_by(VitalSigns.observed_at.desc(), VitalSigns.id.desc())
        .limit(1)
    )
    if vitals is None:
        minutes = int(PULSE_FROM_VITALS_WITHIN.total_seconds() // 60)
        raise ChartingError(
            f"Enter the resting heart rate: no vital signs with a heart rate in the {minutes} "
            "minutes before this assessment.", "heart_rate")
    at = vitals.observed_at.astimezone(admission.unit.zone).strftime("%H:%M")
    return vitals.heart_rate, f"vitals at {at}"


def record_assessment(
    *,
    by: User,
    admission: Admission,
    scale: str,
    observed_at: datetime,
    items: Mapping[str, object],
    yes_no: Mapping[str, bool | None],
    heart_rate: int | None,
    self_harm_thoughts: bool | None,
    suicide_answers: Mapping[str, bool | None] | None,
    unable_reason: str | None,
    idempotency_key: str,
    supersedes: Assessment | None = None,
    correction_reason: str | None = None,
    sleep_hours: Decimal | None = None,
    sleep_latency: Decimal | None = None,
) -> Assessment:
    """Save a scored assessment, or (when `unable_reason` is not None) an inability to assess.

    Items are validated by the scoring modules; the total, band and flags are computed here,
    never taken from the caller. Escalations the result calls for are raised. No commit.
    """
    if scale not in SCALES:
        raise ChartingError(f"Unknown scale {scale!r}.")
    if supersedes is None:
        entries.check_can_chart(admission)
        if not available(scale, admission):
            raise ChartingError(f"{PROTOCOLS[scale]} is not a protocol of this admission.")
    elif supersedes.scale != scale:
        raise ChartingError("A correction keeps the scale of the entry it corrects.")
    entries.check_clinical_time(observed_at, admission)
    scale_def = definition(scale)
    assessment = Assessment(observed_at=observed_at, scale=scale, scale_version=scale_def.version,
                            items={}, yes_no={}, flags=[])
    if unable_reason is not None:
        if not unable_reason.strip():
            raise ChartingError("Give the reason the patient could not be assessed.",
                                "unable_reason")
        assessment.outcome = UNABLE
        assessment.unable_reason = unable_reason.strip()
    else:
        _score(assessment, scale_def, admission, items=items, yes_no=yes_no,
               heart_rate=heart_rate, self_harm_thoughts=self_harm_thoughts,
               suicide_answers=suicide_answers)
        if scale_def.asks_sleep:
            _record_sleep(assessment, sleep_hours, sleep_latency)
    entries.stamp(assessment, by=by, admission=admission, idempotency_key=idempotency_key,
                  supersedes=supersedes, reason=correction_reason)
    db.session.add(assessment)
    db.session.flush()
    audit.record(
        "correct" if supersedes is not None else "create",
        object_type="assessment", object_id=assessment.id, patient_id=admission.patient_id,
        clinical_at=observed_at, detail=_audit_detail(assessment, supersedes), content_of=assessment,
    )
    _escalate(by, admission, assessment)
    return assessment


def _score(assessment: Assessment, scale: ScaleDefinition, admission: Admission, *, items,
           yes_no, heart_rate, self_harm_thoughts, suicide_answers) -> None:
    unknown = [key for key in items if scale.item(key) is None or key in scale.derived]
    if unknown:
        raise ChartingError(f"{unknown[0]} is not an item to choose on this scale.")
    errors = answer_errors(scale, items=items, yes_no=yes_no,
                           self_harm_thoughts=self_harm_thoughts, suicide_answers=suicide_answers)
    if errors:
        field, message = next(iter(errors.items()))
        raise ChartingError(message, field)
    values = dict(items)
    if scale.asks_heart_rate:
        rate, source = heart_rate_for_pulse(admission, assessment.observed_at, heart_rate)
        values["resting_pulse"] = cows.pulse_points(rate)
        assessment.heart_rate, assessment.heart_rate_source = rate, source
    try:
        if scale.code == SCREEN:
            pass  # only the screen's answers, below: no items, no total
        elif scale.code == "ketamine":
            result = ketamine.score(values, yes_no, KETAMINE_DEFINITIONS[scale.version])
            assessment.total, assessment.flags = result.burden, list(result.flags)
            assessment.items, assessment.yes_no = result.items, result.yes_no
        else:
            module = {"ciwa_ar": ciwa_ar, "cows": cows, "ciwa_b": ciwa_b}[scale.code]
            result = module.score(values)
            assessment.total, assessment.band, assessment.items = (
                result.total, result.band, result.items)
    except ItemError as error:
        raise ChartingError(str(error), error.key) from None
    assessment.outcome = SCORED
    if scale.asks_self_harm:
        assessment.self_harm_thoughts = self_harm_thoughts
        answers = {key: (suicide_answers or {}).get(key) for key in SUICIDE_QUESTIONS}
        assessment.suicide_answers = answers
        assessment.suicide_risk = safety.screen_risk(bool(self_harm_thoughts), answers)
        assessment.suicide_review_needed = safety.needs_review(self_harm_thoughts, answers)


def _record_sleep(assessment: Assessment, hours: Decimal | None, latency: Decimal | None) -> None:
    errors = ciwa_b.sleep_errors(hours, latency)
    if errors:
        field, message = next(iter(errors.items()))
        raise ChartingError(message, field)
    assessment.sleep_hours_tenths = to_tenths(hours)
    assessment.sleep_latency_minutes = None if latency is None else int(latency)


def previous_total(assessment: Assessment) -> int | None:
    """Return the total of the current scored assessment of this scale charted before this one."""
    return db.session.scalar(
        select(Assessment.total)
        .where(Assessment.admission_id == assessment.admission_id,
               Assessment.scale == assessment.scale, Assessment.outcome == SCORED,
               Assessment.id != assessment.id, Assessment.observed_at <= assessment.observed_at,
               entries.current_filter(Assessment))
        .order_by(Assessment.observed_at.desc(), Assessment.id.desc())
        .limit(1)
    )


def _escalate(by: User, admission: Admission, assessment: Assessment,
              at: datetime | None = None) -> None:
    label = ENTRY_LABELS[assessment.scale]

    def escalate(rule: str, reason: str, level: str = "urgent") -> None:
        escalations.raise_automatic(by=by, admission=admission, rule=rule, level=level,
                                    reason=reason, source_kind=assessment.kind,
                                    source_id=assessment.id, raised_at=at)

    if assessment.outcome == UNABLE:
        escalate(f"unable:{assessment.scale}",
                 f"{label} could not be assessed: {assessment.unable_reason}")
        return
    total = assessment.total
    if assessment.scale == "ciwa_ar":
        previous = previous_total(assessment)
        if ciwa_ar.needs_physician(total, previous):
            why = (f"at or above {ciwa_ar.NOTIFY_AT}" if total >= ciwa_ar.NOTIFY_AT else
                   f"two consecutive scores of {ciwa_ar.NOTIFY_CONSECUTIVE_AT} or more "
                   f"(previous {previous})")
            escalate("ciwa_ar:notify", f"CIWA-Ar {total} ({assessment.band}), {why}: "
                     "notify the physician.")
    elif assessment.scale in ("cows", "ciwa_b") and due.severe_total(assessment.scale, total):
        seizures = " Severe benzodiazepine withdrawal risks seizures." if assessment.scale == "ciwa_b" else ""
        escalate(f"{assessment.scale}:severe", f"{label} {total} ({assessment.band}): notify the "
                 f"physician; reassess hourly, with vitals.{seizures}")
    elif assessment.scale == "ketamine":
        if assessment.flags:
            escalate("ketamine:flags",
                     f"Ketamine withdrawal checklist flagged: {'; '.join(assessment.flags)}.")
    risk = assessment.suicide_risk
    if risk is not None and ketamine.escalates(risk):
        yes = [key.replace("_", " ") for key, value in assessment.suicide_answers.items()
               if value is True]
        proposed = safety.proposed_level(risk, admission.observation_level)
        propose = (f" Proposed observation level: {OBSERVATION_LEVELS[proposed]}."
                   if proposed else "")
        escalate(f"suicide:{risk}",
                 f"Suicide-risk screen: {risk} risk (yes to: {', '.join(yes)}). "
                 f"Keep the patient safe and inform the physician now.{propose}",
                 level="emergency" if risk == ketamine.RISK_HIGH else "urgent")


def _snapshot(assessment: Assessment) -> dict:
    return {
        "observed_at": assessment.observed_at.isoformat(),
        "scale": assessment.scale, "scale_version": assessment.scale_version,
        "outcome": assessment.outcome, "unable_reason": assessment.unable_reason,
        "items": assessment.items, "yes_no": assessment.yes_no,
        "total": assessment.total, "band": assessment.band, "flags": assessment.flags,
        "heart_rate": assessment.heart_rate, "heart_rate_source": assessment.heart_rate_source,
        "self_harm_thoughts": assessment.self_harm_thoughts,
        "suicide_answers": assessment.suicide_answers, "suicide_risk": assessment.suicide_risk,
        "suicide_review_needed": assessment.suicide_review_needed,
        "sleep_hours_tenths": assessment.sleep_hours_tenths,
        "sleep_latency_minutes": assessment.sleep_latency_minutes,
        "late": assessment.is_late,
    }


def _audit_detail(assessment: Assessment, supersedes: Assessment | None) -> dict:
    if supersedes is None:
        return {"after": _snapshot(assessment)}
    return {"supersedes": supersedes.id, "reason": assessment.correction_reason,
            **audit.changes(_snapshot(supersedes), _snapshot(assessment))}
