"""Safety rules of issue 11 (stream safety-a): partial NEWS2, overrides, step-down, severe scales."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.scoring import ciwa_ar, due, limits, news2, risk
from clinic.scoring.due import Override, ScorePoint, next_due

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
        assert news2.escalation_for(part.band) is not None
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


@pytest.mark.parametrize(("band", "any_red", "response"), [
    ("high", False, ("emergency", "news2:high")), ("medium", True, ("urgent", "news2:medium")),
    ("low-medium", True, ("urgent", "news2:red")), ("low", False, None), (None, False, None),
])
def test_escalation_for_each_band(band, any_red, response):
    assert news2.escalation_for(band, any_red=any_red) == response


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


# --- item 2: an override outlives no deterioration ----------------------------------------------

def test_override_holds_while_its_band_holds():
    history = [ScorePoint(at=at(8), total=0, band="low")]
    item = next_due("vitals", history, admitted_at=ADMITTED,
                    override=Override(720, "stable, sleeping", band="zero", set_at=at(7)))
    assert (item.due_at, item.overridden, item.override_lapsed_at) == (at(20), True, None)


def test_override_stops_applying_once_news2_worsens():
    history = [ScorePoint(at=at(8), total=0, band="low"), ScorePoint(at=at(9), total=11, band="high"),
               ScorePoint(at=at(10), total=11, band="high")]
    item = next_due("vitals", history, admitted_at=ADMITTED,
                    override=Override(720, "stable, sleeping", band="zero", set_at=at(7)))
    assert item.due_at == at(10, 15)
    assert not item.overridden
    assert item.override_lapsed_at == at(9)
    assert item.override_lapsed_reason == "NEWS2 11 (high) is worse than the band it was set in (zero)"
    assert "no longer applies" in item.reason


def test_ciwa_ar_25_under_a_480_minute_override_is_due_hourly():
    history = [ScorePoint(at=at(8), total=5, band="mild"), ScorePoint(at=at(12), total=25, band="severe")]
    item = next_due("ciwa_ar", history, admitted_at=ADMITTED,
                    override=Override(480, "settled", band="mild", set_at=at(8, 30)))
    assert item.due_at == at(13)
    assert item.override_lapsed_at == at(12)


def test_a_shorter_override_still_applies_after_worsening():
    history = [ScorePoint(at=at(9), total=3, band="low")]
    item = next_due("vitals", history, admitted_at=ADMITTED,
                    override=Override(30, "post-seizure", band="zero", set_at=at(8)))
    assert (item.due_at, item.interval_minutes) == (at(9, 30), 30)
    assert item.reason == "Physician override: every 30 min (shorter than the rules' 4 h) — post-seizure"
    assert item.override_lapsed_at == at(9)


VITALS_BAND_POINTS = [(0, "low"), (2, "low"), (3, "low-medium"), (5, "medium"), (9, "high")]


@settings(max_examples=200, deadline=None)
@given(
    before=st.sampled_from(VITALS_BAND_POINTS), after=st.sampled_from(VITALS_BAND_POINTS),
    minutes=st.integers(1, 720),
)
def test_deterioration_never_lengthens_an_interval(before, after, minutes):
    """Under any override, a worse newest band never gives a later due time than a better one."""
    first = ScorePoint(at=at(8), total=before[0], band=before[1])
    band = due.band_of("vitals", first)
    override = Override(minutes, "x", band=band, set_at=at(8))

    def due_at(total, band_name):
        point = ScorePoint(at=at(9), total=total, band=band_name)
        return next_due("vitals", [first, point], admitted_at=ADMITTED, override=override).due_at

    now_band = due.band_of("vitals", ScorePoint(at(9), *after))
    if due.severity("vitals", now_band) > due.severity("vitals", band):
        # Worse than when it was set: never later than the rules alone, nor than the override.
        plain = next_due("vitals", [first, ScorePoint(at(9), *after)], admitted_at=ADMITTED).due_at
        assert due_at(*after) <= plain
        assert due_at(*after) <= at(9) + timedelta(minutes=minutes)
    # A worse band never gives a longer interval than a better one, override or not.
    better, worse = sorted([before, after], key=lambda p: due.severity(
        "vitals", due.band_of("vitals", ScorePoint(at(9), *p))))
    assert due_at(*worse) <= due_at(*better)


# --- item 3: CIWA-Ar step-down -------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(totals=st.lists(st.integers(0, 30), min_size=1, max_size=6),
       gaps=st.lists(st.integers(30, 600), min_size=6, max_size=6))
def test_ciwa_ar_steps_down_only_after_three_settled_scores(totals, gaps):
    times = [at(0)]
    for gap in gaps[:len(totals) - 1]:
        times.append(times[-1] + timedelta(minutes=gap))
    minutes = ciwa_ar.reassessment_minutes(totals, times=times)
    if minutes == 480:
        last = totals[-3:]
        assert len(last) == 3 and max(last) < 8
        assert last[0] >= last[1] >= last[2]
        run = times[-4:]
        assert all(b - a >= timedelta(minutes=180) for a, b in zip(run, run[1:], strict=False))
    # A score of 8 or more is always hourly; a rise is never rewarded with a longer interval.
    if totals[-1] >= 8:
        assert minutes == 60
    if len(totals) > 1 and totals[-1] > totals[-2]:
        assert minutes <= 240


# --- items 5 and 6: severe withdrawal ------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(protocol=st.sampled_from(["cows", "ciwa_b"]), a=st.integers(0, 80), b=st.integers(0, 80))
def test_a_worse_scale_score_never_gives_a_longer_interval(protocol, a, b):
    top = 48 if protocol == "cows" else 80
    low, high = sorted((min(a, top), min(b, top)))

    def minutes(total):
        return next_due(protocol, [ScorePoint(at(9), total, None)], admitted_at=ADMITTED).interval_minutes

    assert minutes(high) <= minutes(low)
    if due.severe_total(protocol, high):
        assert minutes(high) <= 60


@settings(max_examples=200, deadline=None)
@given(news=st.sampled_from([(0, "low"), (2, "low"), (5, "medium"), (8, "high")]),
       ciwa=st.integers(0, 67), cows_total=st.integers(0, 48))
def test_severe_scales_never_lengthen_the_vitals_interval(news, ciwa, cows_total):
    vitals = next_due("vitals", [ScorePoint(at(9), *news)], admitted_at=ADMITTED)
    scales = {}
    for protocol, total in (("ciwa_ar", ciwa), ("cows", cows_total)):
        point = ScorePoint(at(9, 30), total, None)
        scales[protocol] = (next_due(protocol, [point], admitted_at=ADMITTED), point)
    combined = due.with_severe_scales(vitals, scales)
    assert combined.due_at <= vitals.due_at
    for item, point in scales.values():
        if due.severe(item.protocol, point):
            assert combined.due_at <= item.due_at


# --- item 13: glucose in the unit's unit ---------------------------------------------------------

@pytest.mark.parametrize(("unit", "typed", "tier", "mixup"), [
    ("mmol/L", "5.5", "ok", False),
    ("mmol/L", "3.0", "confirm", False),
    ("mmol/L", "40", "confirm", True),        # 40 mg/dL typed on a mmol/L unit: hypoglycaemia
    ("mmol/L", "25.0", "confirm", True),
    ("mmol/L", "50.1", "refuse", True),       # impossible in mmol/L, 2.8 mmol/L in mg/dL
    ("mg/dL", "99", "ok", False),
    ("mg/dL", "5.5", "refuse", True),         # 5.5 mmol/L typed on a mg/dL unit
    ("mg/dL", "40", "confirm", True),
    ("mg/dL", "60", "confirm", False),
    ("mg/dL", "200", "flag", False),
    ("mg/dL", "901", "refuse", False),
    ("mg/dL", "HI", "confirm", False),
])
def test_glucose_tiers_by_unit_and_the_likely_mixup(unit, typed, tier, mixup):
    verdict = limits.check_glucose(typed, unit)
    assert verdict.tier == tier
    assert ("looks like" in verdict.message) is mixup


def test_glucose_mixup_names_both_units():
    assert limits.check_glucose("40", "mmol/L").message.endswith(
        "40 is very high in mmol/L but looks like mg/dL: 40 mg/dL is 2.2 mmol/L. "
        "Check the meter's unit; this unit charts mmol/L")
    assert "5.5 mmol/L is 99 mg/dL" in limits.check_glucose("5.5", "mg/dL").message


# --- risk flags: seizure or DT history in the first 72 h ----------------------------------------

def test_seizure_history_shortens_ciwa_ar_and_stops_the_step_down_for_72_hours():
    until = risk.seizure_risk_until({"seizure_dt"}, ADMITTED)
    assert until == ADMITTED + timedelta(hours=72)
    settled = [ScorePoint(at(8), 5, "mild"), ScorePoint(at(12), 4, "mild"), ScorePoint(at(16), 3, "mild")]
    plain = next_due("ciwa_ar", settled, admitted_at=ADMITTED)
    flagged = next_due("ciwa_ar", settled, admitted_at=ADMITTED, seizure_risk_until=until)
    assert (plain.interval_minutes, flagged.interval_minutes) == (480, 120)
    assert flagged.reason == "CIWA-Ar 3 (below 8), seizure or DT history, first 72 h: every 2 h"
    high = next_due("ciwa_ar", [ScorePoint(at(8), 12, "moderate")], admitted_at=ADMITTED,
                    seizure_risk_until=until)
    assert high.interval_minutes == 60
    after = [ScorePoint(at(8, day=14), 3, "mild")]
    assert next_due("ciwa_ar", after, admitted_at=ADMITTED,
                    seizure_risk_until=until).interval_minutes == 240
    assert risk.seizure_risk_until({"falls"}, ADMITTED) is None
