"""Safety rules of issue 11 (stream safety-a): partial NEWS2, overrides, step-down, severe scales."""

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.scoring import news2
from clinic.scoring.due import ScorePoint, next_due

ADMITTED = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)


def at(hour, minute=0, day=10):
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


# --- item 1: a part-filled set -------------------------------------------------------------------

@pytest.mark.parametrize(("values", "red", "band", "missing"), [
    # The case: RR 6, SpO2 82, systolic 85, pulse 135, U, no temperature.
    ({"respiratory_rate": 6, "spo2": 82, "on_oxygen": False, "systolic_bp": 85, "heart_rate": 135,
      "consciousness": "U"},
     ("respiratory_rate", "spo2", "systolic_bp", "heart_rate", "consciousness"), "high", ("temperature",)),
    ({"respiratory_rate": 25}, ("respiratory_rate",), "low-medium",
     ("spo2", "on_oxygen", "systolic_bp", "heart_rate", "consciousness", "temperature")),
    ({"consciousness": "C", "heart_rate": 75}, ("consciousness",), "low-medium",
     ("respiratory_rate", "spo2", "on_oxygen", "systolic_bp", "temperature")),
    ({"respiratory_rate": 22, "heart_rate": 125, "spo2": 95}, (), "medium",
     ("on_oxygen", "systolic_bp", "consciousness", "temperature")),
    ({"heart_rate": 72, "spo2": 96}, (), None,
     ("respiratory_rate", "on_oxygen", "systolic_bp", "consciousness", "temperature")),
    ({"temperature": "29.9"}, ("temperature",), "low-medium",
     ("respiratory_rate", "spo2", "on_oxygen", "systolic_bp", "heart_rate", "consciousness")),
])
def test_partial_set_scores_what_is_there(values, red, band, missing):
    part = news2.partial(**values)
    assert part.red == red
    assert part.band == band
    assert part.missing == missing


@settings(max_examples=200, deadline=None)
@given(
    rr=st.none() | st.integers(0, 80), spo2=st.none() | st.integers(0, 100),
    oxygen=st.none() | st.booleans(), sbp=st.none() | st.integers(20, 300),
    hr=st.none() | st.integers(0, 300), acvpu=st.none() | st.sampled_from("ACVPU"),
    temp=st.none() | st.integers(250, 450),
)
def test_partial_band_is_never_above_the_complete_sets(rr, spo2, oxygen, sbp, hr, acvpu, temp):
    values = dict(respiratory_rate=rr, spo2=spo2, on_oxygen=oxygen, systolic_bp=sbp, heart_rate=hr,
                  consciousness=acvpu, temperature=None if temp is None else f"{temp / 10:.1f}")
    part = news2.partial(**values)
    if any(p == 3 for p in part.points.values()):
        # A single parameter scoring 3 always gives an escalation band and an hourly interval.
        assert part.band is not None
        point = ScorePoint(at=at(10), total=None, band=part.band)
        item = next_due("vitals", [point], admitted_at=ADMITTED)
        assert item.interval_minutes <= 60
    # Filling the missing values with the best possible ones reaches at least the partial band.
    best = dict(respiratory_rate=16, spo2=97, on_oxygen=False, systolic_bp=120, heart_rate=70,
                consciousness="A", temperature="37.0")
    full = news2.score(**{k: (best[k] if v is None else v) for k, v in values.items()})
    order = (None, *news2.BANDS)
    assert part.band != "low"
    assert order.index(part.band) <= order.index(full.band)


def test_partial_set_with_a_band_counts_for_the_vitals_interval():
    complete = ScorePoint(at=at(8), total=0, band="low")
    partial_red = ScorePoint(at=at(10), total=None, band="low-medium")
    item = next_due("vitals", [complete, partial_red], admitted_at=ADMITTED)
    assert item.due_at == at(11)
    assert "NEWS2 incomplete" in item.reason


def test_partial_set_without_a_band_does_not_reset_the_clock():
    complete = ScorePoint(at=at(8), total=2, band="low")
    partial_unknown = ScorePoint(at=at(10), total=None, band=None)
    item = next_due("vitals", [complete, partial_unknown], admitted_at=ADMITTED)
    assert item.due_at == at(12)
