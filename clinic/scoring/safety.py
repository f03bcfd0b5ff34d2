"""Suicide-risk screen consequences, observation-level rules, hourly attestations, thiamine.

REFERENCE §5 (the screen and what follows from it) and §9 (observation levels): pure rules on
plain values. Every time is timezone-aware; results are in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from clinic.scoring import ketamine
from clinic.scoring.due import OBSERVATION_LEVELS
from clinic.scoring.scale import ItemError

#: Observation levels from least to most intense.
LEVEL_ORDER: tuple[str, ...] = tuple(OBSERVATION_LEVELS)
#: Levels at which the patient is never out of sight: no rounds, an hourly attestation instead.
CONTINUOUS_LEVELS: tuple[str, ...] = ("eyesight", "arms_length")
#: The level a screen's risk proposes (default; a unit's clinical lead may change it).
PROPOSED_LEVEL: Mapping[str, str] = {
    ketamine.RISK_MODERATE: "eyesight",
    ketamine.RISK_HIGH: "arms_length",
}
#: Roles that may lower a level set for risk, and that record a screen's review.
SENIOR_ROLES: tuple[str, ...] = ("physician", "charge_nurse")
#: An hour of continuous observation is missing once this long has passed after it ended.
ATTESTATION_GRACE = timedelta(minutes=15)
#: An hour may be attested from this long before it ends: the observer vouches for the whole hour.
ATTEST_FROM_BEFORE_END = timedelta(minutes=5)
#: How often the screen is repeated when nothing else asks for it (default: daily).
SCREEN_INTERVAL_MINUTES = 24 * 60
#: Time allowed after admission for the first screen and the thiamine prompt (default).
ADMISSION_GRACE_MINUTES = 60

#: Screen questions asked only after a yes to the gate ("thoughts since the last check?").
_AFTER_GATE = ("wish_dead", "active_thoughts", "method", "intent", "plan")


def screen_risk(thoughts: bool, answers: Mapping[str, bool | None]) -> str:
    """Return the screen's risk level, or raise ItemError naming the question to fix.

    The behaviour question (C-SSRS screener question 6) is asked of everyone; the thoughts
    questions (1 to 5) only after a yes to the opening question `thoughts`.
    """
    if not isinstance(thoughts, bool):
        raise ItemError("self_harm_thoughts", "self_harm_thoughts must be answered yes or no")
    if thoughts:
        return ketamine.suicide_risk(answers)
    for key in answers:
        if key not in ketamine.SUICIDE_QUESTION_KEYS:
            raise ItemError(str(key), f"{key} is not a question of the screen")
    for key in _AFTER_GATE:
        if answers.get(key) is True:
            raise ItemError(key, f"{key} is asked only after a yes to the opening question")
    behaviour = answers.get("behaviour")
    if not isinstance(behaviour, bool):
        raise ItemError("behaviour", "behaviour must be answered yes or no")
    recent = answers.get("behaviour_last_3_months")
    if behaviour and not isinstance(recent, bool):
        raise ItemError("behaviour_last_3_months",
                        "behaviour_last_3_months must be answered yes or no when behaviour is yes")
    if not behaviour and recent is True:
        raise ItemError("behaviour_last_3_months",
                        "behaviour_last_3_months cannot be yes when behaviour is no")
    if behaviour:
        return ketamine.RISK_HIGH if recent else ketamine.RISK_MODERATE
    return ketamine.RISK_NONE


def needs_review(thoughts: bool | None, answers: Mapping[str, bool | None] | None) -> bool:
    """Return whether any yes in the screen calls for a clinician's review the same shift."""
    return thoughts is True or any(value is True for value in (answers or {}).values())


def proposed_level(risk: str | None, current: str) -> str | None:
    """Return the more intense observation level the risk proposes, or None if already there."""
    wanted = PROPOSED_LEVEL.get(risk or "")
    if wanted is None or LEVEL_ORDER.index(current) >= LEVEL_ORDER.index(wanted):
        return None
    return wanted


def check_escalates(activity: str, concern: str | None) -> bool:
    """Return whether a safety check raises an escalation to the charge nurse: a concern, or agitated."""
    return activity == "agitated" or bool((concern or "").strip())


def is_lowering(current: str, new: str) -> bool:
    return LEVEL_ORDER.index(new) < LEVEL_ORDER.index(current)


def level_change_refusal(*, current: str, new: str, current_for_risk: bool, roles: Iterable[str],
                         reason: str | None) -> str | None:
    """Return why a change of observation level is refused, or None when it is allowed.

    Raising is for any nurse; lowering a level that was set for risk needs a physician or a
    charge nurse, and every change needs its reason.
    """
    if new not in OBSERVATION_LEVELS or current not in OBSERVATION_LEVELS:
        return "Choose an observation level."
    if not (reason or "").strip():
        return "Give the reason for the change of observation level."
    if current_for_risk and is_lowering(current, new) and not set(roles) & set(SENIOR_ROLES):
        return (f"“{OBSERVATION_LEVELS[current]}” was set for risk: only a physician or charge "
                "nurse can lower it, with the reason.")
    return None


@dataclass(frozen=True)
class AttestationHour:
    """One hour of continuous observation and whether the observer attested it."""

    starts_at: datetime
    ends_at: datetime
    attested: bool

    def open_to_attest(self, now: datetime) -> bool:
        """Return whether the observer may attest the hour now (from shortly before its end)."""
        return not self.attested and _utc(now) >= self.ends_at - ATTEST_FROM_BEFORE_END

    def missing(self, now: datetime) -> bool:
        """Return whether the hour ended more than the grace ago with no attestation."""
        return not self.attested and _utc(now) > self.ends_at + ATTESTATION_GRACE


def attestation_hours(level: str, since: datetime, attested: Iterable[datetime], *, now: datetime,
                      start: datetime | None = None) -> list[AttestationHour]:
    """Return the hours of a continuous level from `since` to now, each attested or not.

    Hours are counted from when the level began; the hour under way is listed (not yet missing).
    Only hours ending after `start` (the shift's start, say) are listed. None for other levels.
    """
    if level not in CONTINUOUS_LEVELS:
        return []
    begin, current = _utc(since), _utc(now)
    done = {_utc(at) for at in attested}
    hours = []
    at = begin
    while at < current:
        end = at + timedelta(hours=1)
        if start is None or end > _utc(start):
            hours.append(AttestationHour(at, end, at in done))
        at = end
    return hours


def screen_due_at(admitted_at: datetime, screens: Sequence[datetime], *,
                  interval_minutes: int = SCREEN_INTERVAL_MINUTES,
                  grace_minutes: int = ADMISSION_GRACE_MINUTES) -> tuple[datetime, str]:
    """Return when the suicide-risk screen is next due and why.

    At admission, within the admission grace; then `interval_minutes` after the newest screen
    (a ketamine checklist asks the screen each time, so it counts as one).
    """
    if not screens:
        return (_utc(admitted_at) + timedelta(minutes=grace_minutes),
                f"at admission (within {grace_minutes} min)")
    newest = max(_utc(at) for at in screens)
    hours = interval_minutes // 60 if interval_minutes % 60 == 0 else None
    every = f"every {hours} h" if hours else f"every {interval_minutes} min"
    return newest + timedelta(minutes=interval_minutes), f"repeated {every}"


#: Substances whose withdrawal a protocol monitors, with that protocol.
SUBSTANCE_PROTOCOL: Mapping[str, str] = {
    "alcohol": "ciwa_ar", "opioids": "cows", "benzodiazepines": "ciwa_b", "ketamine": "ketamine",
}


@dataclass(frozen=True)
class SinceUse:
    """Hours since last use of one withdrawal-relevant substance (None: last use unknown)."""

    substance: str
    hours: int | None


def hours_since_use(substances: Sequence[tuple[str, bool, datetime | None]],
                    protocols: Iterable[str], now: datetime) -> list[SinceUse]:
    """Return hours since last use for the primary substance and each with an active scale.

    `substances` is (code, is primary, last use); the primary comes first, the rest in order.
    """
    active = set(protocols)
    current = _utc(now)
    shown: list[SinceUse] = []
    ordered = sorted(substances, key=lambda s: not s[1])
    for code, primary, last_use in ordered:
        if not primary and SUBSTANCE_PROTOCOL.get(code) not in active:
            continue
        if any(s.substance == code for s in shown):
            continue
        hours = None if last_use is None else int((current - _utc(last_use)).total_seconds() // 3600)
        shown.append(SinceUse(code, hours))
    return shown


def thiamine_prompted(substances: Iterable[str], protocols: Iterable[str]) -> bool:
    """Return whether the admission is for alcohol withdrawal, so thiamine is prompted."""
    return "alcohol" in set(substances) or "ciwa_ar" in set(protocols)


def _utc(value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value!r} must be a timezone-aware date and time")
    return value.astimezone(UTC)
