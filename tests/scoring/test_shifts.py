"""Tests for shift_for: midnight, boundaries, three shifts, DST changes, and properties."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.scoring.shifts import (
    ShiftDef,
    format_pattern,
    parse_pattern,
    shift_for,
    validate_pattern,
)

TWO = (ShiftDef("Day", time(7)), ShiftDef("Night", time(19)))
THREE = (ShiftDef("Early", time(7)), ShiftDef("Late", time(15)), ShiftDef("Night", time(23)))
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def local(zone, *args, fold=0):
    return datetime(*args, tzinfo=zone, fold=fold)


@pytest.mark.parametrize(("at", "name", "starts", "ends", "local_date"), [
    (utc(2026, 1, 15, 12), "Day", utc(2026, 1, 15, 7), utc(2026, 1, 15, 19), date(2026, 1, 15)),
    (utc(2026, 1, 15, 7), "Day", utc(2026, 1, 15, 7), utc(2026, 1, 15, 19), date(2026, 1, 15)),
    (utc(2026, 1, 15, 6, 59, 59), "Night", utc(2026, 1, 14, 19), utc(2026, 1, 15, 7),
     date(2026, 1, 14)),
    (utc(2026, 1, 15, 19), "Night", utc(2026, 1, 15, 19), utc(2026, 1, 16, 7), date(2026, 1, 15)),
    (utc(2026, 1, 15, 23, 59), "Night", utc(2026, 1, 15, 19), utc(2026, 1, 16, 7),
     date(2026, 1, 15)),
    (utc(2026, 1, 16, 0, 0), "Night", utc(2026, 1, 15, 19), utc(2026, 1, 16, 7), date(2026, 1, 15)),
    (utc(2026, 1, 16, 2), "Night", utc(2026, 1, 15, 19), utc(2026, 1, 16, 7), date(2026, 1, 15)),
    (utc(2026, 12, 31, 23), "Night", utc(2026, 12, 31, 19), utc(2027, 1, 1, 7),
     date(2026, 12, 31)),
])
def test_day_and_night_in_winter_london(at, name, starts, ends, local_date):
    shift = shift_for(TWO, "Europe/London", at)
    assert (shift.name, shift.starts_at, shift.ends_at, shift.local_date) == (
        name, starts, ends, local_date)
    assert shift.contains(at)


def test_summer_times_are_local():
    shift = shift_for(TWO, "Europe/London", utc(2026, 7, 1, 6, 30))  # 07:30 BST
    assert (shift.name, shift.starts_at, shift.ends_at) == (
        "Day", utc(2026, 7, 1, 6), utc(2026, 7, 1, 18))


def test_results_are_in_utc_whatever_zone_at_is_given_in():
    at = local(NEW_YORK, 2026, 1, 15, 12)
    shift = shift_for(TWO, "America/New_York", at)
    assert shift.starts_at.utcoffset() == timedelta(0)
    assert shift.starts_at == local(NEW_YORK, 2026, 1, 15, 7)
    assert shift_for(TWO, "America/New_York", at.astimezone(UTC)) == shift


@pytest.mark.parametrize(("hour", "minute", "name", "local_date"), [
    (6, 59, "Night", date(2026, 5, 3)),
    (7, 0, "Early", date(2026, 5, 4)),
    (14, 59, "Early", date(2026, 5, 4)),
    (15, 0, "Late", date(2026, 5, 4)),
    (22, 59, "Late", date(2026, 5, 4)),
    (23, 0, "Night", date(2026, 5, 4)),
    (0, 0, "Night", date(2026, 5, 3)),
])
def test_three_shifts(hour, minute, name, local_date):
    at = local(NEW_YORK, 2026, 5, 4, hour, minute)
    shift = shift_for(THREE, "America/New_York", at)
    assert (shift.name, shift.local_date) == (name, local_date)
    assert shift.ends_at - shift.starts_at == timedelta(hours=8)


def test_pattern_order_does_not_matter():
    at = utc(2026, 1, 15, 12)
    assert shift_for(tuple(reversed(THREE)), "UTC", at) == shift_for(THREE, "UTC", at)


def test_single_shift_lasts_a_day():
    shift = shift_for([ShiftDef("All day", time(8))], "UTC", utc(2026, 1, 15, 7))
    assert (shift.starts_at, shift.ends_at) == (utc(2026, 1, 14, 8), utc(2026, 1, 15, 8))


@pytest.mark.parametrize(("zone_name", "day", "hours"), [
    ("Europe/London", date(2026, 3, 28), 11),   # clocks forward 01:00 → 02:00 on 29 March
    ("Europe/London", date(2026, 10, 24), 13),  # clocks back 02:00 → 01:00 on 25 October
    ("America/New_York", date(2026, 3, 7), 11),  # clocks forward on 8 March
    ("America/New_York", date(2026, 10, 31), 13),  # clocks back on 1 November
])
def test_night_shift_over_a_dst_change(zone_name, day, hours):
    zone = ZoneInfo(zone_name)
    starts = local(zone, day.year, day.month, day.day, 19)
    ends = datetime.combine(day + timedelta(days=1), time(7), tzinfo=zone)
    for at in (starts, starts + timedelta(hours=7), ends - timedelta(seconds=1)):
        shift = shift_for(TWO, zone_name, at)
        assert (shift.name, shift.local_date) == ("Night", day)
        assert (shift.starts_at, shift.ends_at) == (starts, ends)
        assert shift.ends_at - shift.starts_at == timedelta(hours=hours)
    assert shift_for(TWO, zone_name, ends).name == "Day"


def test_both_readings_of_the_repeated_hour_are_in_the_night_shift():
    first = local(LONDON, 2026, 10, 25, 1, 30, fold=0)   # 00:30 UTC
    second = local(LONDON, 2026, 10, 25, 1, 30, fold=1)  # 01:30 UTC
    assert first.astimezone(UTC) != second.astimezone(UTC)
    assert shift_for(TWO, "Europe/London", first) == shift_for(TWO, "Europe/London", second)


def test_a_start_in_the_skipped_hour_begins_when_the_clocks_jump():
    pattern = (ShiftDef("Early", time(1, 30)), ShiftDef("Day", time(12)))
    shift = shift_for(pattern, "Europe/London", utc(2026, 3, 29, 5))
    # 01:30 does not exist on 29 March; clocks jump from 01:00 GMT to 02:00 BST at 01:00 UTC.
    assert (shift.name, shift.starts_at) == ("Early", utc(2026, 3, 29, 1))
    previous = shift_for(pattern, "Europe/London", utc(2026, 3, 29, 0, 59, 59))
    assert (previous.name, previous.ends_at) == ("Day", utc(2026, 3, 29, 1))


def test_a_start_in_the_repeated_hour_uses_its_first_reading():
    pattern = (ShiftDef("Early", time(1, 30)), ShiftDef("Day", time(12)))
    shift = shift_for(pattern, "Europe/London", utc(2026, 10, 25, 5))
    assert shift.starts_at == utc(2026, 10, 25, 0, 30)  # 01:30 BST


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        shift_for(TWO, "Europe/London", datetime(2026, 1, 15, 12))


@pytest.mark.parametrize("zone_name", ["Mars/Olympus", "", "../etc/passwd"])
def test_unknown_time_zone_is_refused(zone_name):
    with pytest.raises(ValueError, match="time zone"):
        shift_for(TWO, zone_name, utc(2026, 1, 15, 12))


def test_fixed_offset_input_is_accepted():
    at = datetime(2026, 1, 15, 14, tzinfo=timezone(timedelta(hours=2)))
    assert shift_for(TWO, "UTC", at).name == "Day"


@pytest.mark.parametrize(("text", "expected"), [
    ("Day 07:00, Night 19:00", TWO),
    ("Night 19:00,Day 7:00", TWO),
    ("  Early 07:00 , Late 15:00, Night 23:00 ", THREE),
    ("Long day 08:00", (ShiftDef("Long day", time(8)),)),
])
def test_parse_pattern(text, expected):
    assert parse_pattern(text) == expected


@pytest.mark.parametrize("pattern", [TWO, THREE, (ShiftDef("Long day", time(8, 30)),)])
def test_format_pattern_round_trips(pattern):
    assert parse_pattern(format_pattern(pattern)) == pattern


def test_format_pattern():
    assert format_pattern(TWO) == "Day 07:00, Night 19:00"


@pytest.mark.parametrize(("text", "message"), [
    ("", "at least one shift"),
    ("   ", "at least one shift"),
    ("Day", "Shift 1"),
    ("Day 07:00, 19:00", "Shift 2"),
    ("Day 07:00,, Night 19:00", "Shift 2"),
    ("Day 7pm", "Shift 1"),
    ("Day 24:00", "not a time of day"),
    ("Day 07:60", "not a time of day"),
    ("Day 07:00, Night 07:00", "both start at 07:00"),
])
def test_parse_pattern_refusals_are_readable(text, message):
    with pytest.raises(ValueError, match=message):
        parse_pattern(text)


@pytest.mark.parametrize(("pattern", "message"), [
    ((), "at least one shift"),
    ((ShiftDef(" ", time(7)),), "needs a name"),
    ((ShiftDef("Day, early", time(7)),), "comma"),
    ((ShiftDef("Day", time(7, 0, 30)),), "whole minute"),
    ((ShiftDef("Day", time(7, tzinfo=UTC)),), "local time"),
    ((ShiftDef("Day", "07:00"),), "start time"),
])
def test_validate_pattern_refusals(pattern, message):
    with pytest.raises(ValueError, match=message):
        validate_pattern(pattern)


ZONES = ["Europe/London", "America/New_York", "UTC", "Australia/Lord_Howe", "Asia/Kolkata"]
patterns = st.lists(
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
    min_size=1, max_size=4, unique=True,
).map(lambda starts: tuple(ShiftDef(f"S{index}", start) for index, start in enumerate(starts)))
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)
).map(lambda naive: naive.replace(tzinfo=UTC))


@settings(max_examples=300, deadline=None)
@given(patterns, st.sampled_from(ZONES), instants)
def test_every_instant_is_in_exactly_one_shift(pattern, zone_name, at):
    shift = shift_for(pattern, zone_name, at)
    assert shift.starts_at <= at < shift.ends_at
    assert shift_for(pattern, zone_name, shift.starts_at) == shift
    following = shift_for(pattern, zone_name, shift.ends_at)
    assert following.starts_at == shift.ends_at
    assert shift.ends_at - shift.starts_at <= timedelta(hours=25)
