"""Show UTC instants in a unit's time zone, and read local times typed into forms."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def _zone(zone: ZoneInfo | str | None) -> ZoneInfo:
    if zone is None:
        return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)


def local_time(value: datetime | None, zone: ZoneInfo | str | None = None, *, date=True) -> str:
    """Format an aware instant in `zone`, with the zone's abbreviation (DST matters)."""
    if value is None:
        return "—"
    local = value.astimezone(_zone(zone))
    pattern = "%d %b %Y %H:%M %Z" if date else "%H:%M %Z"
    return local.strftime(pattern)


def to_local_input(value: datetime | None, zone: ZoneInfo | str | None = None) -> str:
    """Return the value for an `<input type=datetime-local>` in `zone`."""
    if value is None:
        return ""
    return value.astimezone(_zone(zone)).strftime("%Y-%m-%dT%H:%M")


def from_local(naive: datetime, zone: ZoneInfo | str | None = None) -> datetime:
    """Interpret a wall-clock time typed on a form as a time in `zone`, returned in UTC."""
    return naive.replace(tzinfo=_zone(zone)).astimezone(UTC)


def ago(value: datetime | None, now: datetime) -> str:
    """Say how long ago `value` was, in hours and minutes ("2 h 05 min ago")."""
    if value is None:
        return ""
    minutes = max(0, int((now - value).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min ago"
    return f"{minutes // 60} h {minutes % 60:02d} min ago"
