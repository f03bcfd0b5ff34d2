"""What is due, for whom and when: protocol reassessments, PRN effect checks and safety rounds.

The reassessment rules are data: a versioned ``DueDefinition`` per unit, with REFERENCE §2, §3, §5,
§7 and §9 as defaults, kept as a plain dict in the database. Every interval is elapsed time:
instants are converted to UTC before minutes are added, so "every 4 h" across a DST change is
four real hours, not four hours on the wall clock. Every result is in UTC; naive datetimes are
refused with ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from clinic.scoring import ciwa_ar, ciwa_b, cows, news2

PROTOCOLS: tuple[str, ...] = ("vitals", "ciwa_ar", "cows", "ciwa_b", "ketamine")
PROTOCOL_LABELS: dict[str, str] = {
    "vitals": "NEWS2",
    "ciwa_ar": "CIWA-Ar",
    "cows": "COWS",
    "ciwa_b": "CIWA-B",
    "ketamine": "Ketamine checklist",
}

SCORED = "scored"
UNABLE = "unable"
OUTCOMES: tuple[str, ...] = (SCORED, UNABLE)

#: Observation levels in order of increasing intensity (REFERENCE §9).
OBSERVATION_LEVELS: dict[str, str] = {
    "general": "General (every 60 min)",
    "intermittent_30": "Intermittent (every 30 min)",
    "intermittent_15": "Intermittent (every 15 min)",
    "eyesight": "Within eyesight (continuous)",
    "arms_length": "Within arm's length (one-to-one)",
}

#: NEWS2 bands for the vitals interval; "zero" is a total of 0, which NEWS2 itself calls low.
VITALS_BANDS: tuple[str, ...] = ("zero", "low", "low-medium", "medium", "high")

OVERDUE = "overdue"
DUE = "due"
LATER = "later"
OK = "ok"
#: A DueItem is "due" (not "later") when its time falls within this many minutes from now.
DUE_SOON_MINUTES = 60
#: No interval may exceed a week: a larger number is almost certainly a typing error.
MAX_MINUTES = 7 * 24 * 60

_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")

_LABELS: dict[str, str] = {
    "version": "Version",
    "vitals_minutes_by_band": "Vital-signs interval by NEWS2 band",
    "vitals_initial_minutes": "Grace period after admission for the first observations and scales",
    "ciwa_ar_frequent_threshold": "CIWA-Ar score for hourly reassessment",
    "ciwa_ar_frequent_minutes": "CIWA-Ar interval at or above the threshold",
    "ciwa_ar_routine_minutes": "CIWA-Ar interval below the threshold",
    "ciwa_ar_settled_minutes": "CIWA-Ar interval once settled",
    "ciwa_ar_settled_after": "CIWA-Ar scores in a row below the threshold before stepping down",
    "ciwa_ar_seizure_risk_minutes": "CIWA-Ar interval below the threshold with seizure or DT history, "
                                    "first 72 h",
    "cows_minutes": "COWS interval",
    "cows_after_prn_minutes": "COWS reassessment after a PRN dose",
    "cows_severe_minutes": "COWS interval from moderately severe (25)",
    "ciwa_b_minutes": "CIWA-B interval",
    "ciwa_b_severe_minutes": "CIWA-B interval from severe (41)",
    "ketamine_minutes": "Ketamine checklist interval",
    "ketamine_flagged_minutes": "Ketamine checklist interval when flagged",
    "unable_minutes": "Reassessment after “unable to assess”",
    "prn_effect_minutes": "PRN effect reassessment by route",
    "observation_minutes": "Safety-check interval by observation level",
    "on_time_factor": "On-time factor for safety checks",
}


def _check_whole(label: str, value: object, lowest: int, highest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
        raise ValueError(f"{label} must be a whole number from {lowest} to {highest}, not {value!r}.")
    return value


def _check_minutes(label: str, value: object, *, lowest: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= MAX_MINUTES:
        raise ValueError(f"{label} must be a whole number of minutes from {lowest} to {MAX_MINUTES}, "
                         f"not {value!r}.")
    return value


def _check_table(name: str, table: object, keys: tuple[str, ...] | None, *, lowest: int = 1) -> dict:
    """Return a copy of a key -> minutes table after checking its keys (when fixed) and values."""
    label = _LABELS[name]
    if not isinstance(table, Mapping):
        raise ValueError(f"{label} must be a table of names and minutes.")
    if keys is None:
        if not table:
            raise ValueError(f"{label} needs at least one entry.")
        for key in table:
            if not isinstance(key, str) or not key.strip():
                raise ValueError(f"{label}: {key!r} is not a name.")
    else:
        unknown = sorted(str(key) for key in table if key not in keys)
        if unknown:
            raise ValueError(f"{label}: unknown {', '.join(unknown)}; expected {', '.join(keys)}.")
        absent = [key for key in keys if key not in table]
        if absent:
            raise ValueError(f"{label}: missing {', '.join(absent)}.")
    return {key: _check_minutes(f"{label}, “{key}”,", value, lowest=lowest)
            for key, value in table.items()}


#: The longest intervals the published instruments allow (REFERENCE §1-§3): no unit rule and no
#: override may exceed them. Setting -> (minutes, what the source says).
PUBLISHED_MAX: dict[str, tuple[int, str]] = {
    "vitals_minutes_by_band.zero": (720, "NEWS2 0: at least every 12 h"),
    "vitals_minutes_by_band.low": (360, "NEWS2 1–4: at least every 4–6 h"),
    "vitals_minutes_by_band.low-medium": (60, "a single NEWS2 parameter scoring 3: at least hourly"),
    "vitals_minutes_by_band.medium": (60, "NEWS2 5–6: at least hourly"),
    "vitals_minutes_by_band.high": (15, "NEWS2 7 or more: continuous monitoring (sets at most 15 min apart)"),
    "ciwa_ar_frequent_minutes": (60, "CIWA-Ar 8 or more: every hour"),
    "ciwa_ar_routine_minutes": (240, "CIWA-Ar below 8: every 4 h"),
    "ciwa_ar_settled_minutes": (480, "CIWA-Ar settled below 8: every 8 h"),
    "cows_minutes": (240, "COWS: every 4 h"),
    "cows_after_prn_minutes": (60, "COWS: 1 h after each PRN dose"),
}


def _check_published(path: str, minutes: int, label: str) -> None:
    limit, source = PUBLISHED_MAX[path]
    if minutes > limit:
        raise ValueError(f"{label} ({minutes} min) is longer than the published minimum frequency "
                         f"allows: {source}, so {limit} min at most.")


def published_max(protocol: str, newest: ScorePoint | None,
                  definition: DueDefinition | None = None) -> tuple[int, str] | None:
    """Return the longest interval the published rules allow for a protocol's newest result.

    None where nothing is published (CIWA-B, the ketamine checklist). Without a result yet, the
    least severe band's limit applies.
    """
    threshold = (definition or DEFAULT_DEFINITION).ciwa_ar_frequent_threshold
    if protocol == "vitals":
        band = "zero" if newest is None or newest.outcome == UNABLE else band_of(protocol, newest)
        return PUBLISHED_MAX[f"vitals_minutes_by_band.{band}"]
    if protocol == "ciwa_ar":
        high = newest is not None and newest.total is not None and newest.total >= threshold
        return PUBLISHED_MAX["ciwa_ar_frequent_minutes" if high else "ciwa_ar_settled_minutes"]
    if protocol == "cows":
        return PUBLISHED_MAX["cows_minutes"]
    return None


@dataclass(frozen=True)
class DueDefinition:
    """A unit's versioned reassessment rules; every interval is in minutes."""

    version: str
    vitals_minutes_by_band: Mapping[str, int] = field(
        default_factory=lambda: {"zero": 720, "low": 240, "low-medium": 60, "medium": 60, "high": 15},
        hash=False,
    )
    #: The first set of observations and the first scale are due this long after admission, so a
    #: patient just admitted is "due", not overdue at once.
    vitals_initial_minutes: int = 30
    ciwa_ar_frequent_threshold: int = ciwa_ar.FREQUENT_THRESHOLD
    ciwa_ar_frequent_minutes: int = ciwa_ar.FREQUENT_MINUTES
    ciwa_ar_routine_minutes: int = ciwa_ar.ROUTINE_MINUTES
    ciwa_ar_settled_minutes: int = ciwa_ar.SETTLED_MINUTES
    ciwa_ar_settled_after: int = ciwa_ar.SETTLED_AFTER
    ciwa_ar_seizure_risk_minutes: int = ciwa_ar.SEIZURE_RISK_MINUTES
    cows_minutes: int = cows.ROUTINE_MINUTES
    cows_after_prn_minutes: int = cows.AFTER_PRN_MINUTES
    cows_severe_minutes: int = cows.SEVERE_MINUTES
    ciwa_b_minutes: int = ciwa_b.ROUTINE_MINUTES
    ciwa_b_severe_minutes: int = ciwa_b.SEVERE_MINUTES
    ketamine_minutes: int = 240
    ketamine_flagged_minutes: int = 60
    unable_minutes: int = 60
    prn_effect_minutes: Mapping[str, int] = field(
        default_factory=lambda: {
            "oral": 60, "sublingual": 30, "buccal": 30, "intramuscular": 30, "intravenous": 15,
        },
        hash=False,
    )
    #: 0 means continuous observation: no scheduled checks.
    observation_minutes: Mapping[str, int] = field(
        default_factory=lambda: {
            "general": 60, "intermittent_30": 30, "intermittent_15": 15, "eyesight": 0, "arms_length": 0,
        },
        hash=False,
    )
    #: A check is on time within this many intervals of the previous one.
    on_time_factor: float = 1.5

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not self.version.strip():
            raise ValueError("The due rules need a version, such as “1”.")
        for name in (
            "ciwa_ar_frequent_minutes", "ciwa_ar_routine_minutes", "ciwa_ar_settled_minutes",
            "ciwa_ar_seizure_risk_minutes",
            "cows_minutes", "cows_after_prn_minutes", "cows_severe_minutes", "ciwa_b_minutes",
            "ciwa_b_severe_minutes", "ketamine_minutes",
            "ketamine_flagged_minutes", "unable_minutes",
        ):
            _check_minutes(_LABELS[name], getattr(self, name))
        _check_minutes(_LABELS["vitals_initial_minutes"], self.vitals_initial_minutes, lowest=0)
        _check_whole(_LABELS["ciwa_ar_frequent_threshold"], self.ciwa_ar_frequent_threshold,
                     1, ciwa_ar.MAX_TOTAL)
        _check_whole(_LABELS["ciwa_ar_settled_after"], self.ciwa_ar_settled_after, 1, 20)
        factor = self.on_time_factor
        if (isinstance(factor, bool) or not isinstance(factor, (int, float))
                or not math.isfinite(factor) or factor < 1):
            raise ValueError(f"{_LABELS['on_time_factor']} must be a number of at least 1, "
                             f"not {factor!r}.")
        # Freeze the mappings (copies) so a definition in use cannot change under anyone.
        bands = _check_table("vitals_minutes_by_band", self.vitals_minutes_by_band, VITALS_BANDS)
        levels = _check_table("observation_minutes", self.observation_minutes,
                              tuple(OBSERVATION_LEVELS), lowest=0)
        routes = _check_table("prn_effect_minutes", self.prn_effect_minutes, None)
        object.__setattr__(self, "vitals_minutes_by_band", MappingProxyType(bands))
        object.__setattr__(self, "observation_minutes", MappingProxyType(levels))
        object.__setattr__(self, "prn_effect_minutes", MappingProxyType(routes))
        # A sicker patient must never be seen less often than a well one.
        for worse, better in (("high", "medium"), ("high", "low-medium"), ("medium", "low"),
                              ("low-medium", "low"), ("low", "zero")):
            if bands[worse] > bands[better]:
                raise ValueError(
                    f"The vital-signs interval for NEWS2 band “{worse}” ({bands[worse]} min) cannot be "
                    f"longer than for band “{better}” ({bands[better]} min).")
        for shorter, longer in (("ciwa_ar_frequent_minutes", "ciwa_ar_routine_minutes"),
                                ("ciwa_ar_routine_minutes", "ciwa_ar_settled_minutes"),
                                ("ciwa_ar_frequent_minutes", "ciwa_ar_seizure_risk_minutes"),
                                ("ciwa_ar_seizure_risk_minutes", "ciwa_ar_routine_minutes"),
                                ("cows_severe_minutes", "cows_minutes"),
                                ("ciwa_b_severe_minutes", "ciwa_b_minutes"),
                                ("ketamine_flagged_minutes", "ketamine_minutes")):
            if getattr(self, shorter) > getattr(self, longer):
                raise ValueError(
                    f"{_LABELS[shorter]} ({getattr(self, shorter)} min) cannot be longer than "
                    f"{_LABELS[longer]} ({getattr(self, longer)} min).")
        for path in PUBLISHED_MAX:
            name, _, key = path.partition(".")
            minutes = getattr(self, name)[key] if key else getattr(self, name)
            label = f"{_LABELS[name]}, “{key}”," if key else _LABELS[name]
            _check_published(path, minutes, label.rstrip(","))

    def after_prn_minutes(self, protocol: str) -> int | None:
        """Return the minutes after a PRN dose by which the protocol is reassessed, if it has a rule."""
        # Only COWS has one (REFERENCE §3); other protocols keep their own schedule.
        return self.cows_after_prn_minutes if protocol == "cows" else None

    def to_dict(self) -> dict[str, Any]:
        """Return the definition as plain JSON-ready data."""
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            data[item.name] = dict(value) if isinstance(value, Mapping) else value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DueDefinition:
        """Build a definition from data made by to_dict, or raise ValueError saying what to fix.

        A setting left out takes its default, so rules saved before a setting existed still load.
        """
        if not isinstance(data, Mapping):
            raise ValueError("The due rules must be a set of named settings.")
        known = {item.name for item in fields(cls)}
        unknown = sorted(str(key) for key in data if key not in known)
        if unknown:
            raise ValueError(f"Unknown setting: {', '.join(unknown)}. "
                             f"Known settings are: {', '.join(sorted(known))}.")
        if "version" not in data:
            raise ValueError("The due rules need a version, such as “1”.")
        return cls(**dict(data))


DEFAULT_DEFINITION = DueDefinition(version="1")


@dataclass(frozen=True)
class ScorePoint:
    """One current result: when, the total and band, scored or unable, and any flag.

    For vitals the total and band are NEWS2 (total None: an incomplete set); for ketamine the total
    is the symptom burden and ``flagged`` means any flag or a moderate or high suicide risk.
    """

    at: datetime
    total: int | None
    band: str | None
    outcome: str = SCORED
    flagged: bool = False

    def __post_init__(self) -> None:
        _utc(self.at, "score time")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome {self.outcome!r} is not one of {', '.join(OUTCOMES)}")
        if self.total is not None and (
            isinstance(self.total, bool) or not isinstance(self.total, int) or self.total < 0
        ):
            raise ValueError(f"total {self.total!r} is not a whole number")

    @property
    def counts(self) -> bool:
        """Return whether this result resets the clock.

        An incomplete set counts only when its parameters present already imply a band (a
        single parameter scoring 3, or 5 points and more): a missing value never hides them.
        """
        return self.outcome == UNABLE or self.total is not None or self.band is not None


@dataclass(frozen=True)
class Override:
    """A physician's per-patient interval that replaces the computed one, and why.

    ``band`` is the band of the newest result when it was set (see ``band_of``; None: no result
    yet). It may lengthen the interval only while the newest result is no worse than that band.
    """

    interval_minutes: int
    reason: str
    band: str | None = None
    set_at: datetime | None = None

    def __post_init__(self) -> None:
        _check_minutes("The override interval", self.interval_minutes)
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError("An override needs a reason.")


#: Bands from least to most severe, for "has the band worsened since the override?".
_SCALE_SEVERITY: tuple[str, ...] = ("none", "mild", "moderate", "moderately severe", "severe",
                                    "very severe")
_SEVERITY: dict[str, tuple[str, ...]] = {
    "vitals": VITALS_BANDS,
    "ketamine": ("not flagged", "flagged"),
}
#: "Unable to assess" has no band: it neither keeps nor ends an override (it has its own
#: escalation), so a physician's "asleep: every 4 h" still holds through it.
UNABLE_BAND = "unable to assess"


def band_of(protocol: str, point: ScorePoint) -> str | None:
    """Return the band a result puts the patient in, as overrides remember it."""
    if point.outcome == UNABLE:
        return UNABLE_BAND
    if protocol == "vitals":
        return "zero" if point.total == 0 else point.band
    if protocol == "ketamine":
        return "flagged" if point.flagged else "not flagged"
    return point.band


def severity(protocol: str, band: str | None) -> int | None:
    """Return the rank of a band within its protocol (higher is worse), or None if unknown."""
    order = _SEVERITY.get(protocol, _SCALE_SEVERITY)
    return order.index(band) if band in order else None


def worse_than(protocol: str, band: str | None, baseline: str | None) -> bool:
    """Return whether a band is worse than the baseline; None as baseline is the least band.

    A band either side does not know counts as worse, so an override never outlives a result it
    cannot place.
    """
    if band == UNABLE_BAND:
        return False
    now = severity(protocol, band)
    then = 0 if baseline is None or baseline == UNABLE_BAND else severity(protocol, baseline)
    if now is None or then is None:
        return band != baseline
    return now > then


@dataclass(frozen=True)
class DueItem:
    """When a protocol is next due, the interval that set it, and why."""

    protocol: str
    due_at: datetime
    interval_minutes: int
    reason: str
    overridden: bool = False
    #: When an override stopped applying because the band worsened, and why.
    override_lapsed_at: datetime | None = None
    override_lapsed_reason: str | None = None

    def overdue_minutes(self, now: datetime) -> int:
        """Return the minutes past due, counting a started minute as whole; 0 when not overdue."""
        late_by = _utc(now, "now") - self.due_at
        if late_by <= timedelta(0):
            return 0
        return math.ceil(late_by / timedelta(minutes=1))

    def status(self, now: datetime) -> str:
        """Return "overdue" past the due time, "due" within the next hour, otherwise "later"."""
        current = _utc(now, "now")
        if current > self.due_at:
            return OVERDUE
        if self.due_at - current <= timedelta(minutes=DUE_SOON_MINUTES):
            return DUE
        return LATER


def next_due(
    protocol: str,
    history: Sequence[ScorePoint],
    *,
    admitted_at: datetime,
    definition: DueDefinition = DEFAULT_DEFINITION,
    override: Override | None = None,
    prn_doses: Sequence[datetime] = (),
    seizure_risk_until: datetime | None = None,
) -> DueItem:
    """Return when a protocol is next due from its results (any order; the newest decides).

    An incomplete result (scored, total None) does not reset the clock. A PRN dose given after the
    newest result brings the time forward to dose + the protocol's after-PRN interval where the
    definition has one (COWS); this also applies under an override, which replaces only the
    interval computed from the results.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"{protocol!r} is not a protocol ({', '.join(PROTOCOLS)})")
    admitted = _utc(admitted_at, "admitted_at")
    doses = sorted(_utc(dose, "PRN dose time") for dose in prn_doses)
    points = sorted(history, key=lambda point: _utc(point.at, "score time"))
    counted = [point for point in points if point.counts]
    incomplete = bool(points) and not points[-1].counts

    if counted:
        newest = counted[-1]
        anchor = _utc(newest.at, "score time")
        interval, reason = _rule(protocol, counted, definition)
        if (protocol == "ciwa_ar" and seizure_risk_until is not None and newest.outcome == SCORED
                and anchor < _utc(seizure_risk_until, "seizure_risk_until")
                and interval > definition.ciwa_ar_seizure_risk_minutes):
            # Seizure or DT history: no step-down and a shorter routine interval in the first 72 h.
            interval = definition.ciwa_ar_seizure_risk_minutes
            reason = (f"CIWA-Ar {newest.total} (below {definition.ciwa_ar_frequent_threshold}), "
                      f"seizure or DT history, first 72 h: {_every(interval)}")
    else:
        newest = None
        anchor = admitted
        interval = definition.vitals_initial_minutes
        reason = f"first assessment, within {_within(interval)} of admission" if interval else (
            "first assessment")
    if incomplete:
        # Say so, or a nurse who just charted a partial set would wonder why nothing moved.
        reason += "; newest set incomplete, not counted" if protocol == "vitals" else (
            "; newest assessment incomplete, not counted")
    lapsed_at = lapsed_reason = None
    if override is not None:
        lapse = _override_lapse(protocol, counted, override)
        if lapse is None:
            interval = override.interval_minutes
            reason = f"Physician override: every {interval} min — {override.reason.strip()}"
        else:
            # Once the band worsens, the override can only shorten the computed interval.
            lapsed_at, lapsed_reason = lapse
            if override.interval_minutes < interval:
                rules_interval, interval = interval, override.interval_minutes
                reason = (f"Physician override: every {interval} min (shorter than the rules' "
                          f"{_within(rules_interval)}) — {override.reason.strip()}")
            else:
                reason += f"; the physician's override (every {override.interval_minutes} min) no " \
                          f"longer applies: {lapsed_reason}"
    due_at = anchor + timedelta(minutes=interval)

    after_prn = definition.after_prn_minutes(protocol)
    pending = [dose for dose in doses if newest is None or dose > anchor]
    if after_prn is not None and pending:
        # The earliest unanswered dose decides: its effect check is the one falling due first.
        prn_due = pending[0] + timedelta(minutes=after_prn)
        if prn_due < due_at:
            due_at, interval = prn_due, after_prn
            reason += f"; PRN dose given: reassess {_within(after_prn)} after it"
    return DueItem(protocol, due_at, interval, reason, override is not None and lapsed_at is None,
                   lapsed_at, lapsed_reason)


def _override_lapse(protocol: str, counted: Sequence[ScorePoint],
                    override: Override) -> tuple[datetime, str] | None:
    """Return when and why an override stopped applying, or None while its band holds."""
    if not counted or not worse_than(protocol, band_of(protocol, counted[-1]), override.band):
        return None
    # From the first of the newest run of results that are all worse than the override's band.
    first = counted[-1]
    for point in reversed(counted):
        if override.set_at is not None and point.at < _utc(override.set_at, "override time"):
            break
        if not worse_than(protocol, band_of(protocol, point), override.band):
            break
        first = point
    label = PROTOCOL_LABELS[protocol]
    newest = counted[-1]
    shown = (f"{label} unable to assess" if newest.outcome == UNABLE
             else f"{label} {'incomplete' if newest.total is None else newest.total} "
                  f"({band_of(protocol, newest)})")
    baseline = override.band or "no result yet"
    return first.at, (f"{shown} is worse than the band it was set in ({baseline})")


def _rule(protocol: str, counted: Sequence[ScorePoint], definition: DueDefinition) -> tuple[int, str]:
    """Return the interval and reason from counted results (oldest first, at least one)."""
    newest = counted[-1]
    label = PROTOCOL_LABELS[protocol]
    if newest.outcome == UNABLE:
        minutes = definition.unable_minutes
        return minutes, f"{label} unable to assess: reassess within {_within(minutes)}"
    total = newest.total
    if protocol == "vitals":
        if newest.band not in news2.BANDS:
            raise ValueError(f"NEWS2 band {newest.band!r} is not one of {', '.join(news2.BANDS)}")
        minutes = definition.vitals_minutes_by_band["zero" if total == 0 else newest.band]
        if total is None:
            return minutes, (f"NEWS2 incomplete, at least {newest.band} from the parameters present: "
                             f"{_every(minutes)}")
        return minutes, f"NEWS2 {total} ({newest.band}): {_every(minutes)}"
    if protocol == "ciwa_ar":
        return _ciwa_ar_rule([p for p in counted if p.outcome == SCORED], definition)
    if protocol == "ketamine":
        if newest.flagged:
            minutes = definition.ketamine_flagged_minutes
            return minutes, f"{label} burden {total}, flagged: {_every(minutes)}"
        minutes = definition.ketamine_minutes
        return minutes, f"{label} burden {total}: {_every(minutes)}"
    if severe(protocol, newest):
        minutes = definition.cows_severe_minutes if protocol == "cows" else definition.ciwa_b_severe_minutes
        return minutes, f"{label} {total} ({newest.band or 'severe range'}): {_every(minutes)}"
    minutes = definition.cows_minutes if protocol == "cows" else definition.ciwa_b_minutes
    return minutes, f"{label} {total}: {_every(minutes)}"


#: Scores from which a scale is in its severe range: the physician is told (COWS, CIWA-B), the
#: scale's own interval shortens (COWS, CIWA-B), and vitals are due with each reassessment.
SEVERE_FROM: dict[str, int] = {
    "ciwa_ar": ciwa_ar.SEVERE_FROM, "cows": cows.SEVERE_FROM, "ciwa_b": ciwa_b.SEVERE_FROM,
}


def severe_total(protocol: str, total: int | None) -> bool:
    """Return whether a scale's total is in its severe range."""
    return total is not None and protocol in SEVERE_FROM and total >= SEVERE_FROM[protocol]


def severe(protocol: str, point: ScorePoint | None) -> bool:
    """Return whether a scale's result is in its severe range."""
    return point is not None and point.outcome == SCORED and severe_total(protocol, point.total)


def with_severe_scales(vitals: DueItem, scales: Mapping[str, tuple[DueItem, ScorePoint | None]]) -> DueItem:
    """Return the vitals item brought forward to the next reassessment of any severe scale.

    A patient in severe withdrawal has vitals with each reassessment of the scale, however low
    the NEWS2 (REFERENCE §2-§4; issue 11 item 5). Never later than the vitals' own due time.
    """
    result = vitals
    for protocol, (item, newest) in sorted(scales.items()):
        if severe(protocol, newest) and item.due_at < result.due_at:
            label = PROTOCOL_LABELS[protocol]
            result = replace(result, due_at=item.due_at, interval_minutes=item.interval_minutes,
                             reason=f"{vitals.reason}; {label} {newest.total} (severe range): "
                                    f"vitals with each {label} reassessment")
    return result


def _ciwa_ar_rule(scores: list[ScorePoint], definition: DueDefinition) -> tuple[int, str]:
    threshold = definition.ciwa_ar_frequent_threshold
    totals = [point.total for point in scores]
    minutes = ciwa_ar.reassessment_minutes(
        totals,
        threshold=threshold,
        frequent=definition.ciwa_ar_frequent_minutes,
        routine=definition.ciwa_ar_routine_minutes,
        settled=definition.ciwa_ar_settled_minutes,
        settled_after=definition.ciwa_ar_settled_after,
        times=[point.at for point in scores],
    )
    newest = totals[-1]
    if newest >= threshold:
        return minutes, f"CIWA-Ar {newest} ({threshold} or more): {_every(minutes)}"
    if minutes == definition.ciwa_ar_settled_minutes != definition.ciwa_ar_routine_minutes:
        run = _words(definition.ciwa_ar_settled_after)
        return minutes, (f"CIWA-Ar {newest}, {run} in a row below {threshold}, not rising, "
                         f"{_every(definition.ciwa_ar_routine_minutes)}: {_every(minutes)}")
    return minutes, f"CIWA-Ar {newest} (below {threshold}): {_every(minutes)}"


def prn_effect_due(
    given_at: datetime, route: str, definition: DueDefinition = DEFAULT_DEFINITION
) -> datetime:
    """Return when the effect of a PRN dose given by a route is to be reassessed."""
    minutes = definition.prn_effect_minutes.get(route)
    if minutes is None:
        raise ValueError(f"{route!r} is not a route with an effect reassessment time "
                         f"({', '.join(definition.prn_effect_minutes)})")
    return _utc(given_at, "given_at") + timedelta(minutes=minutes)


def most_overdue_first(items: Iterable[DueItem], now: datetime) -> list[DueItem]:
    """Return the items ordered by minutes overdue (most first), then by due time."""
    return sorted(items, key=lambda item: (-item.overdue_minutes(now), item.due_at, item.protocol))


# Safety observation rounds (REFERENCE §9).


@dataclass(frozen=True)
class CheckWindow:
    """A check that fell due and was not made before it became late."""

    due_at: datetime
    late_at: datetime


@dataclass(frozen=True)
class CheckSchedule:
    """The safety-check schedule for one patient at one level, and the windows missed."""

    level: str
    interval_minutes: int
    last_check: datetime | None
    #: None for a continuous level, which has no scheduled checks.
    next_due: datetime | None
    missed: tuple[CheckWindow, ...]
    #: When the next check becomes late; None for a continuous level.
    late_at: datetime | None = None

    def status(self, now: datetime) -> str:
        """Return "overdue" once the next check is late, "due" from its due time, else "ok"."""
        current = _utc(now, "now")
        if self.next_due is None or self.late_at is None:
            return OK
        if current > self.late_at:
            return OVERDUE
        if current >= self.next_due:
            return DUE
        return OK


def late(
    check_at: datetime,
    previous_at: datetime,
    interval: int | timedelta,
    *,
    factor: float = DEFAULT_DEFINITION.on_time_factor,
) -> bool:
    """Return whether a check came more than factor × interval (minutes) after the previous one."""
    step = interval if isinstance(interval, timedelta) else timedelta(minutes=interval)
    return _utc(check_at, "check_at") - _utc(previous_at, "previous_at") > step * factor


def check_schedule(
    level: str,
    check_times: Sequence[datetime],
    *,
    start: datetime,
    now: datetime,
    definition: DueDefinition = DEFAULT_DEFINITION,
) -> CheckSchedule:
    """Return the schedule and the missed windows for the checks made at a level since ``start``.

    Each check is due one interval (I) after the previous check, and late after factor × I (the
    factor is 1.5 by default; a check exactly at the late time is on time). The first check
    follows the newest check made before ``start`` if one is given, otherwise ``start`` itself,
    so a new shift or level never resets a clock that was already running. Between a check (or
    that anchor) at P and the next check, or ``now`` if there is none, window k = 1, 2, … is due
    at P + k·I and late at P + (k − 1 + factor)·I; it is missed when its late time passed first.
    Only windows due at or after ``start`` are listed: earlier ones belonged to another level or
    shift. General level, checks at 08:00 and 11:10: windows due 09:00 (late 09:30) and 10:00
    (late 10:30) are missed; the 11:00 window (late 11:30) was met by the 11:10 check. A missed
    window stays missed whatever is charted later. Checks after ``now`` are ignored. A
    continuous level (0 minutes) has no schedule: no next due time and nothing missed.
    """
    if level not in definition.observation_minutes:
        raise ValueError(f"{level!r} is not an observation level ({', '.join(OBSERVATION_LEVELS)})")
    begin = _utc(start, "start")
    current = _utc(now, "now")
    if begin > current:
        raise ValueError("start cannot be after now")
    times = sorted(t for t in (_utc(t, "check time") for t in check_times) if t <= current)
    last_check = times[-1] if times else None
    minutes = definition.observation_minutes[level]
    if minutes == 0:
        return CheckSchedule(level, 0, last_check, None, ())

    interval = timedelta(minutes=minutes)
    grace = interval * (definition.on_time_factor - 1)
    before = [t for t in times if t < begin]
    previous = before[-1] if before else begin
    missed: list[CheckWindow] = []
    for until in [*(t for t in times if t >= begin), current]:
        # The first window due at or after start: k = max(1, ceil((start - previous) / I)).
        k = max(1, -((previous - begin) // interval))
        while previous + k * interval + grace < until:
            due_at = previous + k * interval
            missed.append(CheckWindow(due_at, due_at + grace))
            k += 1
        previous = until
    anchor = last_check if last_check is not None else begin
    return CheckSchedule(level, minutes, last_check, anchor + interval, tuple(missed),
                         anchor + interval + grace)


def possible_backfill(recorded_times: Sequence[datetime]) -> set[int]:
    """Return the indices of one patient's checks recorded less than a minute from another's.

    Several checks entered within one minute suggest a round filled in after the event. Checks
    less than 60 seconds apart are flagged even across a clock-minute boundary (10:00:59 and
    10:01:00), which includes every pair within the same clock minute.
    """
    order = sorted(range(len(recorded_times)), key=lambda i: _utc(recorded_times[i], "recorded time"))
    flagged: set[int] = set()
    # Sorted, any pair under a minute apart implies an adjacent pair under a minute apart.
    for earlier, later in zip(order, order[1:], strict=False):
        if recorded_times[later] - recorded_times[earlier] < timedelta(minutes=1):
            flagged.update((earlier, later))
    return flagged


def _utc(value: datetime, name: str) -> datetime:
    # Times from the database are already UTC; a board view checks about a thousand of them.
    if type(value) is datetime and value.tzinfo is UTC:
        return value
    if not isinstance(value, datetime):
        raise ValueError(f"{name}: {value!r} is not a date and time")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _every(minutes: int) -> str:
    if minutes == 60:
        return "hourly"
    if minutes % 60 == 0:
        return f"every {minutes // 60} h"
    return f"every {minutes} min"


def _within(minutes: int) -> str:
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


def _words(number: int) -> str:
    return _NUMBER_WORDS[number] if number < len(_NUMBER_WORDS) else str(number)
