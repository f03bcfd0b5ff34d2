"""Tests for the trend arithmetic: time axis, gaps, downsampling, day summaries."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.scoring.trends import (
    Dose,
    Point,
    TimeAxis,
    detox_day_of,
    downsample,
    split_at_gaps,
    spread,
    summarise_days,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


# --- time axis ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("hours", "x"), [(0, 100), (24, 1060), (12, 580), (1, 140), (23.5, 1040)])
def test_axis_is_linear_in_real_time(hours, x):
    axis = TimeAxis(at(0), at(24), left=100, width=960)
    assert axis.x(at(hours)) == pytest.approx(x)


def test_uneven_readings_keep_their_uneven_distances():
    axis = TimeAxis(at(0), at(10), left=0, width=1000)
    xs = [axis.x(at(h)) for h in (0, 0.5, 1, 9)]
    assert xs == [0, 50, 100, 900]


def test_axis_refuses_naive_or_empty_ranges():
    with pytest.raises(ValueError):
        TimeAxis(datetime(2026, 1, 1), datetime(2026, 1, 2), 0, 10)
    with pytest.raises(ValueError):
        TimeAxis(at(1), at(1), 0, 10)


# --- gaps --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("hours", "expected_runs"), [
    ((0, 1, 2, 3), [[0, 1, 2, 3]]),
    ((0, 1, 5, 6), [[0, 1], [5, 6]]),
    ((0, 1.5, 3), [[0, 1.5, 3]]),          # exactly the limit is not a gap
    ((0, 1.6, 3), [[0], [1.6, 3]]),
    ((3, 0, 1), [[0, 1], [3]]),            # charted out of order: sorted by time first
    ((), []),
])
def test_gaps_split_runs(hours, expected_runs):
    runs = split_at_gaps([Point(at(h), 1) for h in hours], timedelta(hours=1.5))
    assert [[(p.at - T0) / timedelta(hours=1) for p in run] for run in runs] == expected_runs


def test_gap_limit_may_depend_on_the_point():
    # A set in a 12-hourly band may be followed 12 h later without a gap; an hourly one may not.
    points = [Point(at(0), 0), Point(at(11), 5), Point(at(14), 5)]
    runs = split_at_gaps(points, lambda p: timedelta(hours=12 if p.value == 0 else 1))
    assert [len(r) for r in runs] == [2, 1]


@given(st.lists(st.integers(0, 10_000), max_size=60), st.integers(1, 500))
def test_runs_partition_the_points_and_never_bridge_a_gap(minutes, limit):
    points = [Point(T0 + timedelta(minutes=m), m) for m in minutes]
    runs = split_at_gaps(points, timedelta(minutes=limit))
    assert sum(len(r) for r in runs) == len(points)
    for run in runs:
        for a, b in zip(run, run[1:], strict=False):
            assert b.at - a.at <= timedelta(minutes=limit)
    for a, b in zip(runs, runs[1:], strict=False):
        assert b[0].at - a[-1].at > timedelta(minutes=limit)


# --- downsampling ------------------------------------------------------------------------------

def test_downsampling_keeps_the_spike_and_the_trough():
    axis = TimeAxis(at(0), at(100), 0, 100)
    values = [80] * 1000
    values[337], values[612] = 190, 31
    points = [Point(at(i / 10), v) for i, v in enumerate(values)]
    kept = downsample(points, axis, columns=10)
    assert len(kept) <= 20
    assert max(p.value for p in kept) == 190 and min(p.value for p in kept) == 31
    assert [p.at for p in kept] == sorted(p.at for p in kept)


def test_fewer_points_than_columns_are_all_kept():
    axis = TimeAxis(at(0), at(10), 0, 100)
    points = [Point(at(h), h) for h in (5, 1, 3)]
    assert [p.value for p in downsample(points, axis, 10)] == [1, 3, 5]


@settings(max_examples=200)
@given(st.lists(st.tuples(st.integers(0, 6000), st.integers(-50, 300)), min_size=1, max_size=400),
       st.integers(1, 80))
def test_downsampling_is_bounded_and_keeps_every_slice_extreme(raw, columns):
    axis = TimeAxis(T0, T0 + timedelta(minutes=6000), 0, columns)
    points = [Point(T0 + timedelta(minutes=m), v) for m, v in raw]
    kept = downsample(points, axis, columns)
    assert len(kept) <= max(len(points) if len(points) <= columns else 0, 2 * columns)
    assert {id(p) for p in kept} <= {id(p) for p in points}
    assert max(p.value for p in kept) == max(p.value for p in points)
    assert min(p.value for p in kept) == min(p.value for p in points)


# --- day summaries -----------------------------------------------------------------------------

def test_spread_by_hand():
    assert spread([88, 72, 101, 95]) == spread([101, 95, 88, 72])
    s = spread([88, 72, 101, 95])
    assert (s.low, s.high, s.median, s.count) == (72, 101, Decimal("91.5"), 4)
    t = spread([Decimal("37.1"), Decimal("38.4"), Decimal("36.9")])
    assert (t.low, t.high, t.median) == (Decimal("36.9"), Decimal("38.4"), Decimal("37.1"))


@pytest.mark.parametrize(("hours", "day"), [(0, 1), (23.99, 1), (24, 2), (47, 2), (48, 3), (-1, 1)])
def test_detox_day_of(hours, day):
    assert detox_day_of(T0, at(hours)) == day


def test_day_summaries_against_hand_computed_values():
    vitals = {"heart_rate": [Point(at(1), 110), Point(at(5), 96), Point(at(9), 104),
                             Point(at(25), 88), Point(at(30), 84)]}
    scores = {"ciwa_ar": [Point(at(2), 18), Point(at(6), 22), Point(at(10), 12), Point(at(26), 6)]}
    doses = [
        Dose(at(3), "Diazepam", Decimal("10"), "mg"),
        Dose(at(7), "Diazepam", Decimal("20"), "mg", is_override=True),
        Dose(at(8), "Lorazepam", Decimal("1"), "mg", is_breach=True),
        Dose(at(27), "Diazepam", Decimal("10"), "mg"),
    ]
    day2, day1 = summarise_days(T0, at(31), vitals, scores, doses)

    assert (day1.day, day1.starts_at, day1.ends_at) == (1, at(0), at(24))
    hr = day1.vitals["heart_rate"]
    assert (hr.low, hr.high, hr.median, hr.count) == (96, 110, 104, 3)
    assert day1.scores["ciwa_ar"].peak == 22 and day1.scores["ciwa_ar"].latest == 12
    assert [(d.drug, d.doses, d.total, d.overrides, d.breaches) for d in day1.drugs] == [
        ("Diazepam", 2, Decimal("30"), 1, 0), ("Lorazepam", 1, Decimal("1"), 0, 1)]
    assert day1.overrides == 1

    assert (day2.day, day2.ends_at) == (2, at(31))
    assert day2.vitals["heart_rate"].median == 86
    assert day2.scores["ciwa_ar"].peak == day2.scores["ciwa_ar"].latest == 6
    assert [(d.drug, d.total) for d in day2.drugs] == [("Diazepam", Decimal("10"))]


@given(st.lists(st.tuples(st.integers(0, 72 * 60), st.integers(0, 67)), max_size=80))
def test_peaks_bound_latest_and_every_score_is_counted_once(raw):
    points = [Point(T0 + timedelta(minutes=m), v) for m, v in raw]
    days = summarise_days(T0, T0 + timedelta(hours=72), {}, {"s": points}, [])
    assert sum(d.scores["s"].count for d in days if "s" in d.scores) == len(points)
    for d in days:
        if "s" in d.scores:
            assert d.scores["s"].latest <= d.scores["s"].peak
