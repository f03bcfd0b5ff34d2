"""What the timeline shows, built from the rows read: panels of points, lanes of marks.

The chart (chart.py), the flowsheet and the day summaries all start from here, so the page, the
table and the PDF agree on every value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from zoneinfo import ZoneInfo

from clinic.models.charting import from_tenths
from clinic.models.patient import PROTOCOLS
from clinic.models.prn import EFFECTS, GIVEN, OUTCOMES
from clinic.scoring import ciwa_ar, ciwa_b, cows, prn
from clinic.scoring.due import OBSERVATION_LEVELS, DueDefinition
from clinic.scoring.trends import Dose, Point, summarise_days
from clinic.trends.queries import TrendRows

#: Normal ranges (REFERENCE §6, the NEWS2 0-bands): shaded on the chart, flagged in the flowsheet.
NORMAL = {
    "heart_rate": (Decimal(51), Decimal(90)),
    "systolic_bp": (Decimal(111), Decimal(219)),
    "diastolic_bp": (Decimal(60), Decimal(90)),
    "respiratory_rate": (Decimal(12), Decimal(20)),
    "temperature": (Decimal("36.1"), Decimal("38.0")),
}
SPO2_NORMAL = {1: (Decimal(96), Decimal(100)), 2: (Decimal(88), Decimal(92))}

#: (key, label, unit) of each vital, in the order the flowsheet lists them.
VITALS = (
    ("heart_rate", "Heart rate", "/min"),
    ("systolic_bp", "Systolic BP", "mmHg"),
    ("diastolic_bp", "Diastolic BP", "mmHg"),
    ("respiratory_rate", "Respiratory rate", "/min"),
    ("temperature", "Temperature", "°C"),
    ("spo2", "SpO2", "%"),
    ("news2", "NEWS2", ""),
)
SCALE_BANDS = {"ciwa_ar": ciwa_ar.DEFAULT_BANDS, "cows": cows.DEFAULT_BANDS, "ciwa_b": ciwa_b.DEFAULT_BANDS}
SCALE_CEILING = {"ciwa_ar": 24, "cows": 20, "ciwa_b": 30, "ketamine": 16}
NEWS2_BANDS = ((0, 4, "low"), (5, 6, "medium"), (7, 20, "high"))
#: Scale bands drawn as outside normal.
SEVERE_BANDS = frozenset({"severe", "very severe", "moderately severe"})


@dataclass(frozen=True)
class Fact:
    """What a point says about itself: read aloud, shown on tap, and how it is drawn."""

    label: str
    corrected: bool = False
    abnormal: bool = False


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    label: str
    kind: str = "normal"


@dataclass
class Series:
    key: str
    label: str
    points: list[Point]
    expected: timedelta | Callable[[Point], timedelta]
    #: What a point says, worked out when it is drawn or listed; by default its `ref` is its Fact.
    describe: Callable[[Point], Fact] | None = None

    def fact(self, point: Point) -> Fact:
        return self.describe(point) if self.describe is not None else point.ref


@dataclass
class Panel:
    key: str
    title: str
    subtitle: str
    floor: float
    ceiling: float
    bands: list[Band]
    series: list[Series]


@dataclass(frozen=True)
class EventMark:
    at: datetime
    kind: str
    symbol: str
    label: str
    text: str = ""
    #: "danger", "warning", "hollow" (an override) or "" (plain).
    tone: str = ""
    #: What the flowsheet cell says (PRN doses: amount and route).
    cell: str = ""


@dataclass
class Lane:
    title: str
    subtitle: str
    marks: list[EventMark]
    empty: str


@dataclass
class Timeline:
    start: datetime
    end: datetime
    zone: ZoneInfo
    admitted_at: datetime
    last_use_at: datetime | None
    panels: list[Panel]
    events: Lane
    doses: Lane | None = None
    dose_facts: list[Dose] = field(default_factory=list)

    @property
    def dose_marks(self) -> list[EventMark]:
        return self.doses.marks if self.doses is not None else []

    def hours_since_use(self, at: datetime) -> int | None:
        if self.last_use_at is None:
            return None
        return int((at - self.last_use_at).total_seconds() // 3600)


_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def when(at: datetime, zone: ZoneInfo) -> str:
    """Write `at` in the unit's time as "05 Mar 14:30" (without strftime: a label per point calls it)."""
    local = at.astimezone(zone)
    return f"{local.day:02d} {_MONTHS[local.month]} {local.hour:02d}:{local.minute:02d}"


def _suffix(corrected: bool, is_late: bool) -> str:
    notes = []
    if corrected:
        notes.append("corrected")
    if is_late:
        notes.append("late entry")
    return f" ({', '.join(notes)})" if notes else ""


class _Set:
    """One vitals set as its six values share it; time and author are written only when asked."""

    __slots__ = ("id", "observed_at", "author", "corrected", "is_late", "spo2_scale", "on_oxygen",
                 "news2_band", "limit", "zone", "_stamp")

    def __init__(self, set_id, observed_at, author, corrected, is_late, spo2_scale, on_oxygen, news2_band,
                 limit, zone):
        self.id, self.observed_at, self.author, self.corrected = set_id, observed_at, author, corrected
        self.is_late, self.spo2_scale, self.on_oxygen = is_late, spo2_scale, on_oxygen
        self.news2_band = news2_band
        #: The longest wait after this set that is not a gap (by its NEWS2 band).
        self.limit = limit
        self.zone, self._stamp = zone, None

    @property
    def stamp(self) -> str:
        if self._stamp is None:
            notes = _suffix(self.corrected, self.is_late)
            self._stamp = f"{when(self.observed_at, self.zone)} · {self.author}{notes}"
        return self._stamp


#: Each vital's place in a vitals row (queries._VITALS): heart rate to SpO2, then NEWS2.
_VITAL_COLUMNS = {"heart_rate": 2, "systolic_bp": 3, "diastolic_bp": 4, "respiratory_rate": 5,
                  "temperature": 6, "spo2": 7, "news2": 10}


def _vital_sets(rows, zone: ZoneInfo, limit_for: Callable[[str | None], timedelta]) -> dict[str, list[Point]]:
    """Return each vital's points, oldest first, in one pass over the rows read.

    A fortnight is over two thousand values, so the per-value work is kept to making the Point:
    what a point says (its label, whether it is outside normal) is worked out by `_describe_vital`
    only for the points drawn or listed.
    """
    points: dict[str, list[Point]] = {key: [] for key in _VITAL_COLUMNS}
    hr, sbp, dbp, rr, temp, spo2, news2 = (points[key] for key in _VITAL_COLUMNS)
    for row in rows:
        (set_id, at, heart_rate, systolic, diastolic, resp, tenths, sat, scale, oxygen, news_total,
         news_band, late, corrected, author) = row
        ref = _Set(set_id, at, author, corrected, late, scale, oxygen, news_band, limit_for(news_band), zone)
        if heart_rate is not None:
            hr.append(Point(at, heart_rate, ref))
        if systolic is not None:
            sbp.append(Point(at, systolic, ref))
        if diastolic is not None:
            dbp.append(Point(at, diastolic, ref))
        if resp is not None:
            rr.append(Point(at, resp, ref))
        if tenths is not None:
            temp.append(Point(at, from_tenths(tenths), ref))
        if sat is not None:
            spo2.append(Point(at, sat, ref))
        if news_total is not None:
            news2.append(Point(at, news_total, ref))
    return points


def _describe_vital(key: str, title: str, unit: str) -> Callable[[Point], Fact]:
    fixed = NORMAL.get(key)

    def describe(point: Point) -> Fact:
        row, value = point.ref, point.value
        if key == "spo2":
            low, high = SPO2_NORMAL.get(row.spo2_scale, SPO2_NORMAL[1])
        else:
            low, high = fixed or (None, None)
        abnormal = low is not None and not low <= value <= high
        shown = f"{value} {unit}".strip()
        if key == "spo2":
            shown += f" (scale {row.spo2_scale}{', on oxygen' if row.on_oxygen else ''})"
        if key == "news2" and row.news2_band:
            shown += f" ({row.news2_band})"
        flag = " — outside normal" if abnormal else ""
        return Fact(f"{title} {shown}{flag} · {row.stamp}", corrected=row.corrected, abnormal=abnormal)

    return describe


def _vitals_limits(definition: DueDefinition) -> Callable[[str | None], timedelta]:
    """Return the longest wait after a set that is not a gap, by the set's NEWS2 band."""
    factor = definition.on_time_factor
    by_band = {band: timedelta(minutes=minutes * factor)
               for band, minutes in definition.vitals_minutes_by_band.items()}
    longest = max(by_band.values())
    return lambda band: by_band.get(band, longest)


#: A vitals point's gap limit is its set's, worked out once per set (see `_vital_sets`).
_SET_LIMIT = attrgetter("ref.limit")


def _scale_expected(scale: str, definition: DueDefinition):
    factor = definition.on_time_factor
    fixed = {"cows": definition.cows_minutes, "ciwa_b": definition.ciwa_b_minutes,
             "ketamine": definition.ketamine_minutes}
    if scale != "ciwa_ar":
        return timedelta(minutes=fixed.get(scale, 240) * factor)

    def expected(point: Point) -> timedelta:
        frequent = point.value >= definition.ciwa_ar_frequent_threshold
        minutes = definition.ciwa_ar_frequent_minutes if frequent else definition.ciwa_ar_settled_minutes
        return timedelta(minutes=minutes * factor)

    return expected


def build_timeline(admission, rows: TrendRows, definition: DueDefinition) -> Timeline:
    """Turn the rows read for one admission into panels and lanes on its time axis."""
    zone = admission.unit.zone
    by_key = _vital_sets(rows.vitals, zone, _vitals_limits(definition))

    def series(key, label, unit):
        return Series(key, label, by_key[key], _SET_LIMIT, _describe_vital(key, label, unit))

    def normal_band(key, label="normal"):
        low, high = NORMAL[key]
        return Band(float(low), float(high), f"{label} {low}–{high}")

    scale_in_use = admission.spo2_scale
    spo2_low, spo2_high = SPO2_NORMAL.get(scale_in_use, SPO2_NORMAL[1])
    panels = [
        Panel("heart_rate", "Heart rate", "/min", 50, 110, [normal_band("heart_rate")],
              [series("heart_rate", "Heart rate", "/min")]),
        Panel("bp", "Blood pressure", "mmHg · systolic ● diastolic", 50, 160,
              [normal_band("diastolic_bp", "diastolic"), normal_band("systolic_bp", "systolic")],
              [series("systolic_bp", "Systolic BP", "mmHg"), series("diastolic_bp", "Diastolic BP", "mmHg")]),
        Panel("respiratory_rate", "Respiratory rate", "/min", 8, 24, [normal_band("respiratory_rate")],
              [series("respiratory_rate", "Respiratory rate", "/min")]),
        Panel("temperature", "Temperature", "°C", 35.5, 38.5, [normal_band("temperature")],
              [series("temperature", "Temperature", "°C")]),
        Panel("spo2", "SpO2", f"% · scale {scale_in_use} in use", 88, 100,
              [Band(float(spo2_low), float(spo2_high),
                    f"scale {scale_in_use} normal {spo2_low}–{spo2_high}")],
              [series("spo2", "SpO2", "%")]),
        Panel("news2", "NEWS2", "not validated for withdrawal", 0, 8,
              [Band(lo, hi, f"{name} {lo}–{hi}", name) for lo, hi, name in NEWS2_BANDS],
              [series("news2", "NEWS2", "")]),
    ]
    for scale in admission.protocols:
        if scale == "vitals":
            continue
        panels.append(_scale_panel(scale, rows.assessments, zone, definition))
    return Timeline(
        start=rows.start, end=rows.end, zone=zone, admitted_at=admission.admitted_at,
        last_use_at=max((s.last_use_at for s in admission.substances if s.last_use_at), default=None),
        panels=panels, events=_events(rows, zone), doses=_dose_lane(rows.doses, zone),
        dose_facts=[Dose(d.given_at, d.drug, d.dose or Decimal(0), d.dose_unit, d.is_override, d.is_breach)
                    for d in rows.doses if d.outcome == GIVEN],
    )


def _amount(dose) -> str:
    return f"{dose.dose.normalize():f} {dose.dose_unit}" if dose.dose is not None else dose.dose_unit


def _rule(rule: str | None) -> str:
    return prn.RULE_NAMES.get(rule, rule)


def _dose_lane(doses, zone: ZoneInfo) -> Lane:
    """Mark each PRN dose at its time: P given, O override, ! limit breach, R refused, H held."""
    marks = []
    for d in doses:
        amount = f"{_amount(d)} {d.route}"
        parts = [f"PRN {d.drug} {amount}", OUTCOMES.get(d.outcome, d.outcome).lower(),
                 when(d.given_at, zone), d.given_by]
        if d.outcome != GIVEN:
            symbol, tone = ("R" if d.outcome == "refused" else "H"), "warning"
            parts.append(f"reason: {d.reason}")
        elif d.is_breach:
            symbol, tone = "!", "danger"
            parts.append(f"LIMIT BREACH ({_rule(d.breach_rule)}): {d.breach_reason}")
        elif d.is_override:
            symbol, tone = "O", "hollow"
            parts.append(f"override ({_rule(d.override_rule)}): {d.override_reason}")
        else:
            symbol, tone = "P", ""
        effect = ""
        if d.effect:
            effect = EFFECTS.get(d.effect, d.effect).lower()
            parts.append(f"effect {effect} at {when(d.effect_at, zone)}")
        elif d.outcome == GIVEN:
            parts.append("effect not yet recorded")
        text = d.drug if not effect else f"{d.drug} → {effect}"
        cell = amount if d.outcome == GIVEN else OUTCOMES.get(d.outcome, d.outcome).split()[0].lower()
        if d.is_breach:
            cell += " ! breach"
        elif d.is_override:
            cell += " (override)"
        marks.append(EventMark(d.given_at, "prn", symbol, " · ".join(parts), text, tone, cell))
    return Lane("PRN doses", "P given · O override · ! breach", marks, "No PRN doses in this range")


def _scale_panel(scale: str, assessments, zone: ZoneInfo, definition: DueDefinition) -> Panel:
    label = PROTOCOLS.get(scale, scale)
    points = []
    # Unpacked by position (queries._ASSESSMENTS): a Row's lookup by name is slow, and a fortnight
    # of 4-hourly scales passes here.
    for (_id, observed_at, row_scale, _outcome, total, band, _risk, _harm, is_late, corrected,
         author) in assessments:
        if row_scale != scale or total is None:
            continue
        shown_band = f" ({band})" if band else ""
        notes = _suffix(corrected, is_late)
        points.append(Point(observed_at, total, Fact(
            f"{label} {total}{shown_band} · {when(observed_at, zone)} · {author}{notes}",
            corrected=corrected, abnormal=band in SEVERE_BANDS)))
    bands = [Band(lo, hi, f"{name} {lo}–{hi}", name.split()[-1])
             for lo, hi, name in SCALE_BANDS.get(scale, ())]
    subtitle = "symptom burden (unvalidated)" if scale == "ketamine" else "total"
    return Panel(scale, label.split(" (")[0], subtitle, 0, SCALE_CEILING.get(scale, 20), bands,
                 [Series(scale, label, points, _scale_expected(scale, definition))])


def _events(rows: TrendRows, zone: ZoneInfo) -> Lane:
    marks = []
    for e in rows.escalations:
        how = "automatic" if e.automatic else "by hand"
        label = f"Escalation ({e.level}, {how}): {e.reason} · {when(e.raised_at, zone)} · {e.author}"
        marks.append(EventMark(e.raised_at, "escalation", "E", label, e.level, "danger"))
    for a in rows.assessments:
        if a.self_harm_thoughts or (a.suicide_risk and a.suicide_risk != "none"):
            risk = f"risk {a.suicide_risk}" if a.suicide_risk else "thoughts of self-harm"
            label = f"Suicide-risk screen positive ({risk}) · {when(a.observed_at, zone)} · {a.author}"
            marks.append(EventMark(a.observed_at, "suicide", "S", label, risk, "danger"))
    for c in rows.level_changes:
        level = OBSERVATION_LEVELS.get(c.level, c.level)
        marks.append(EventMark(c.changed_at, "observation", "L",
                               f"Observation level: {level} · {when(c.changed_at, zone)} · {c.author}",
                               level.split(" (")[0], "warning"))
    return Lane("Events", "E escal. · S risk · L obs level", marks, "No escalations, positive screens "
                "or observation changes in this range")


def day_summaries(admission, timeline: Timeline, end: datetime):
    """Summarise each detox day in the timeline's range, newest first."""
    vitals = {}
    for panel in timeline.panels:
        for series in panel.series:
            target = vitals if panel.key not in {"news2", *SCALE_BANDS, "ketamine"} else None
            if target is not None:
                target[series.key] = series.points
    scores = {panel.key: panel.series[0].points for panel in timeline.panels
              if panel.key == "news2" or panel.key in SCALE_BANDS or panel.key == "ketamine"}
    days = summarise_days(admission.admitted_at, end, vitals, scores, timeline.dose_facts)
    return [d for d in days if d.ends_at > timeline.start and d.starts_at <= timeline.end]
