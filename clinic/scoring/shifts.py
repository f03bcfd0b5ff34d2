"""Nursing shifts: which shift an instant belongs to, across midnight and DST changes.

A pattern is a list of named shifts by local start time; each shift ends when the next one
starts. Start and end are taken on the local wall clock and then converted to UTC, so a night
shift that spans a DST change lasts 11 or 13 hours.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_ENTRY = re.compile(r"^(?P<name>.*\S)\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})$")


@dataclass(frozen=True)
class ShiftDef:
    """A shift in a unit's pattern: its name and local start time."""

    name: str
    start: time


@dataclass(frozen=True)
class ShiftInstance:
    """One worked shift: UTC start (inclusive), UTC end (exclusive) and its local start date."""

    name: str
    starts_at: datetime
    ends_at: datetime
    local_date: date

    def contains(self, at: datetime) -> bool:
        """Return whether an aware instant falls within this shift."""
        return self.starts_at <= at < self.ends_at


def validate_pattern(pattern: Sequence[ShiftDef]) -> tuple[ShiftDef, ...]:
    """Return the pattern sorted by start time, or raise ValueError saying what to fix."""
    if not pattern:
        raise ValueError("Enter at least one shift, for example “Day 07:00, Night 19:00”.")
    seen: dict[time, str] = {}
    for position, shift in enumerate(pattern, start=1):
        name = shift.name.strip() if isinstance(shift.name, str) else ""
        if not name:
            raise ValueError(f"Shift {position} needs a name.")
        if "," in name:
            raise ValueError(f"Shift name “{name}” cannot contain a comma.")
        if not isinstance(shift.start, time):
            raise ValueError(f"Shift “{name}” needs a start time such as 07:00.")
        if shift.start.tzinfo is not None:
            raise ValueError(f"Shift “{name}”: give the start as local time, without a time zone.")
        if shift.start.second or shift.start.microsecond:
            raise ValueError(f"Shift “{name}” must start on a whole minute.")
        # A time with fold=1 equals the same time with fold=0, so this catches both.
        if shift.start in seen:
            raise ValueError(
                f"Shifts “{seen[shift.start]}” and “{name}” both start at "
                f"{shift.start:%H:%M}; each shift needs its own start time."
            )
        seen[shift.start] = name
    cleaned = (ShiftDef(shift.name.strip(), shift.start.replace(fold=0)) for shift in pattern)
    return tuple(sorted(cleaned, key=lambda shift: shift.start))


def parse_pattern(text: str) -> tuple[ShiftDef, ...]:
    """Parse text such as "Day 07:00, Night 19:00" into a validated pattern."""
    entries = [entry.strip() for entry in text.split(",")] if text.strip() else []
    pattern: list[ShiftDef] = []
    for position, entry in enumerate(entries, start=1):
        match = _ENTRY.match(entry)
        if match is None:
            raise ValueError(
                f"Shift {position} (“{entry}”) should be a name and a 24-hour start time, "
                "such as “Night 19:00”."
            )
        hour, minute = int(match["hour"]), int(match["minute"])
        if hour > 23 or minute > 59:
            raise ValueError(
                f"Shift {position} (“{entry}”): {match['hour']}:{match['minute']} is not a time "
                "of day (00:00 to 23:59)."
            )
        pattern.append(ShiftDef(match["name"], time(hour, minute)))
    return validate_pattern(pattern)


def format_pattern(pattern: Sequence[ShiftDef]) -> str:
    """Return a pattern as text that parse_pattern reads back."""
    return ", ".join(f"{shift.name} {shift.start:%H:%M}" for shift in validate_pattern(pattern))


def shift_for(pattern: Sequence[ShiftDef], tz_name: str, at: datetime) -> ShiftInstance:
    """Return the shift that contains an aware instant, in the unit's time zone."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be timezone-aware")
    shifts = validate_pattern(pattern)
    zone = _zone(tz_name)
    at_utc = at.astimezone(UTC)
    today = at_utc.astimezone(zone).date()
    # Every local day has a start of each shift, and no shift lasts more than a day plus a DST
    # hour, so the containing shift starts within the two days before; the days after supply
    # its end.
    starts = [
        (day, shift, _wall_to_utc(day, shift.start, zone))
        for day in (today + timedelta(days=offset) for offset in range(-2, 3))
        for shift in shifts
    ]
    for (day, shift, starts_at), (_, _, ends_at) in zip(starts, starts[1:], strict=False):
        if starts_at <= at_utc < ends_at:
            return ShiftInstance(shift.name, starts_at, ends_at, day)
    raise AssertionError("unreachable: consecutive shift starts cover every instant")


def _zone(tz_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"“{tz_name}” is not a known time zone, such as Europe/London") from None


def _wall_to_utc(day: date, start: time, zone: ZoneInfo) -> datetime:
    """Return the UTC instant at which the local clock first shows day and start."""
    first = datetime.combine(day, start, tzinfo=zone)  # fold=0: the earlier of two readings
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == first.replace(tzinfo=None):
        return instant
    # The time was skipped when the clocks went forward: start when the clock jumps past it.
    # fold=1 reads the skipped time with the new offset, giving an instant before the jump.
    low = int(first.replace(fold=1).astimezone(UTC).timestamp())
    high = int(instant.timestamp())
    after = _offset(high, zone)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(middle, zone) == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _offset(seconds: int, zone: ZoneInfo) -> timedelta | None:
    return datetime.fromtimestamp(seconds, zone).utcoffset()
