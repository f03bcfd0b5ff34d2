"""Trend arithmetic: a true time axis, gaps, downsampling that keeps extremes, day summaries.

Pure: plain values in, plain values out. The timeline page and its PDF draw what these return,
so a reading sits at its real time whatever the spacing of the others.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any

DAY = timedelta(days=1)
_at = attrgetter("at")


class Point:
    """One plotted value at its clinical time; `ref` carries what the page shows about it.

    A plain slotted class, not a frozen dataclass: a fortnight's timeline makes thousands, and a
    frozen dataclass took over a microsecond more for each. Treat it as immutable all the same.
    """

    __slots__ = ("at", "value", "ref")

    def __init__(self, at: datetime, value: float | Decimal | int, ref: Any = None) -> None:
        self.at, self.value, self.ref = at, value, ref

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Point):
            return NotImplemented
        return (self.at, self.value) == (other.at, other.value)

    def __hash__(self) -> int:
        return hash((self.at, self.value))

    def __repr__(self) -> str:
        return f"Point(at={self.at!r}, value={self.value!r})"


@dataclass(frozen=True)
class TimeAxis:
    """Map instants between `start` and `end` linearly onto `left` .. `left + width`."""

    start: datetime
    end: datetime
    left: float
    width: float

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("axis times must be aware")
        if self.end <= self.start:
            raise ValueError("the axis must end after it starts")
        if self.width <= 0:
            raise ValueError("the axis needs a positive width")

    def x(self, at: datetime) -> float:
        """Return the horizontal position of `at` (outside the range it falls outside the width)."""
        span = (self.end - self.start).total_seconds()
        return self.left + self.width * (at - self.start).total_seconds() / span

    def contains(self, at: datetime) -> bool:
        return self.start <= at <= self.end


def split_at_gaps(points: Iterable[Point],
                  expected: timedelta | Callable[[Point], timedelta]) -> list[list[Point]]:
    """Split time-ordered runs wherever the next point is later than expected after the last.

    `expected` is a fixed limit or, per point, the longest wait after it that is not a gap (for
    vitals it depends on that set's NEWS2 band). A line is drawn only within a run.
    """
    limit = expected if callable(expected) else None
    runs: list[list[Point]] = []
    run: list[Point] = []
    last = None
    for point in sorted(points, key=_at):
        if last is not None and point.at - last.at <= (limit(last) if limit else expected):
            run.append(point)
        else:
            run = [point]
            runs.append(run)
        last = point
    return runs


def downsample(points: Sequence[Point], axis: TimeAxis, columns: int) -> list[Point]:
    """Keep at most the lowest and highest point of each of `columns` equal time slices.

    Points are returned in time order. Every extreme survives: the lowest and highest value of
    any slice (and so of the whole series) are always kept, whatever the number of points.
    """
    if columns < 1:
        raise ValueError("columns must be at least 1")
    ordered = sorted(points, key=_at)
    if len(ordered) <= columns:
        return ordered
    start = axis.start
    per_second = columns / (axis.end - start).total_seconds()
    slices = [(p.at - start).total_seconds() * per_second for p in ordered]
    return [ordered[i] for i in extreme_indices(slices, [p.value for p in ordered], columns)]


def extreme_indices(slices: Sequence[float], values: Sequence, columns: int) -> list[int]:
    """Return, in order, the index of the lowest and the highest value in each slice.

    `slices[i]` is where value i falls, in slice widths from the first slice, in ascending order
    (anything before the first slice counts in it, anything after the last in the last). The
    chart passes positions it has already worked out, so a fortnight's points are not placed
    twice; each slice's bounds are found by bisection and its extremes by min() and max(), so
    the work per point is done in C.
    """
    kept: set[int] = set()
    count, value_of = len(slices), values.__getitem__
    low_end = 0
    for column in range(columns):
        high_end = count if column == columns - 1 else bisect_left(slices, column + 1, low_end)
        if high_end > low_end:
            members = range(low_end, high_end)
            kept.add(min(members, key=value_of))
            kept.add(max(members, key=value_of))
        low_end = high_end
    return sorted(kept)


def detox_day_starts(admitted_at: datetime, end: datetime) -> list[datetime]:
    """Return the start of each detox day from admission up to `end` (day 1 starts at admission)."""
    starts = []
    at = admitted_at
    while at <= end:
        starts.append(at)
        at += DAY
    return starts


def detox_day_of(admitted_at: datetime, at: datetime) -> int:
    """Return the detox day of `at`, day 1 being the first 24 hours after admission."""
    return max(1, int((at - admitted_at) // DAY) + 1)


@dataclass(frozen=True)
class Spread:
    """Lowest, highest and median of one vital in one day, and how many readings."""

    low: Decimal
    high: Decimal
    median: Decimal
    count: int


@dataclass(frozen=True)
class ScoreDay:
    """Peak and latest total of one scale in one day."""

    peak: int
    latest: int
    latest_at: datetime
    count: int


@dataclass(frozen=True)
class Dose:
    """One PRN dose as the summaries count it."""

    at: datetime
    drug: str
    amount: Decimal
    unit: str
    is_override: bool = False
    is_breach: bool = False


@dataclass(frozen=True)
class DrugDay:
    drug: str
    unit: str
    doses: int
    total: Decimal
    overrides: int
    breaches: int


@dataclass(frozen=True)
class DaySummary:
    day: int
    starts_at: datetime
    ends_at: datetime
    vitals: dict[str, Spread]
    scores: dict[str, ScoreDay]
    drugs: list[DrugDay]

    @property
    def overrides(self) -> int:
        return sum(d.overrides for d in self.drugs)


def spread(values: Sequence[Decimal | int]) -> Spread:
    """Return the low, high and median of `values` (an even count: the mean of the middle two)."""
    if not values:
        raise ValueError("no values")
    exact = [Decimal(v) if not isinstance(v, Decimal) else v for v in values]
    return Spread(min(exact), max(exact), Decimal(statistics.median(exact)), len(exact))


def summarise_days(admitted_at: datetime, end: datetime, vitals: dict[str, Sequence[Point]],
                   scores: dict[str, Sequence[Point]], doses: Sequence[Dose]) -> list[DaySummary]:
    """Summarise each detox day from admission to `end`, newest day first."""
    days = detox_day_starts(admitted_at, end)

    def index(at: datetime) -> int | None:
        number = detox_day_of(admitted_at, at)
        return number - 1 if at >= admitted_at and number <= len(days) else None

    vital_values: list[dict[str, list]] = [{} for _ in days]
    for name, points in vitals.items():
        for point in points:
            i = index(point.at)
            if i is not None:
                vital_values[i].setdefault(name, []).append(point.value)
    score_points: list[dict[str, list[Point]]] = [{} for _ in days]
    for name, points in scores.items():
        for point in points:
            i = index(point.at)
            if i is not None:
                score_points[i].setdefault(name, []).append(point)
    dose_groups: list[dict[tuple[str, str], list[Dose]]] = [{} for _ in days]
    for dose in doses:
        i = index(dose.at)
        if i is not None:
            dose_groups[i].setdefault((dose.drug, dose.unit), []).append(dose)

    summaries = []
    for i, start in enumerate(days):
        day_scores = {}
        for name, points in score_points[i].items():
            latest = max(points, key=lambda p: p.at)
            day_scores[name] = ScoreDay(int(max(p.value for p in points)), int(latest.value), latest.at,
                                        len(points))
        drugs = [
            DrugDay(drug, unit, len(group), sum((d.amount for d in group), Decimal(0)),
                    sum(d.is_override for d in group), sum(d.is_breach for d in group))
            for (drug, unit), group in sorted(dose_groups[i].items())
        ]
        summaries.append(DaySummary(
            i + 1, start, min(start + DAY, end) if i == len(days) - 1 else start + DAY,
            {name: spread(values) for name, values in vital_values[i].items()},
            day_scores, drugs,
        ))
    return list(reversed(summaries))
