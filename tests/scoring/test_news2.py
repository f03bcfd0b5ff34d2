"""Tests for NEWS2 scoring: worked examples, every boundary, refusals and properties."""

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from clinic.scoring import news2

ORDER = ("respiratory_rate", "spo2", "on_oxygen", "systolic_bp", "heart_rate", "consciousness",
         "temperature")

# REFERENCE §11: inputs RR, SpO2, scale, air/O2, SBP, pulse, ACVPU, temp → points, total, band.
WORKED = [
    ("all mid-normal", (16, 97, 1, False, 125, 75, "A", "37.0"), (0, 0, 0, 0, 0, 0, 0), 0, "low"),
    ("lower edges of 0-bands", (12, 96, 1, False, 111, 51, "A", "36.1"), (0, 0, 0, 0, 0, 0, 0), 0,
     "low"),
    ("first abnormal values", (21, 95, 1, False, 110, 91, "A", "36.0"), (2, 1, 0, 1, 1, 0, 1), 6,
     "medium"),
    ("single red 3", (25, 97, 1, False, 120, 80, "A", "37.0"), (3, 0, 0, 0, 0, 0, 0), 3,
     "low-medium"),
    ("7 without a red", (9, 93, 1, False, 100, 50, "A", "35.1"), (1, 2, 0, 2, 1, 0, 1), 7, "high"),
    ("new confusion", (16, 97, 1, False, 125, 75, "C", "37.0"), (0, 0, 0, 0, 0, 3, 0), 3,
     "low-medium"),
    ("scale 2 on air", (18, 90, 2, False, 130, 80, "A", "37.0"), (0, 0, 0, 0, 0, 0, 0), 0, "low"),
    ("same on scale 1", (18, 90, 1, False, 130, 80, "A", "37.0"), (0, 3, 0, 0, 0, 0, 0), 3,
     "low-medium"),
    ("scale 2, 93 on O2", (18, 93, 2, True, 130, 80, "A", "37.0"), (0, 1, 2, 0, 0, 0, 0), 3, "low"),
]


def observations(rr, spo2, scale, oxygen, sbp, hr, acvpu, temp):
    return dict(respiratory_rate=rr, spo2=spo2, spo2_scale=scale, on_oxygen=oxygen,
                systolic_bp=sbp, heart_rate=hr, consciousness=acvpu, temperature=temp)


NORMAL = observations(16, 97, 1, False, 125, 75, "A", "37.0")


@pytest.mark.parametrize(("case", "inputs", "points", "total", "band"), WORKED,
                         ids=[row[0] for row in WORKED])
def test_worked_examples(case, inputs, points, total, band):
    result = news2.score(**observations(*inputs))
    assert tuple(result.points[key] for key in ORDER) == points
    assert result.total == total
    assert result.band == band


def test_points_keys_are_the_parameters():
    assert tuple(news2.score(**NORMAL).points) == news2.PARAMETERS == ORDER


@pytest.mark.parametrize(("value", "points"), [
    (0, 3), (8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3), (60, 3),
])
def test_respiratory_rate_boundaries(value, points):
    assert news2.respiratory_rate_points(value) == points


@pytest.mark.parametrize(("value", "points"), [
    (50, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0),
])
def test_spo2_scale_1_boundaries(value, points):
    assert news2.spo2_points(value) == points
    # Oxygen scores separately on scale 1; it does not change the SpO2 points.
    assert news2.spo2_points(value, on_oxygen=True) == points


@pytest.mark.parametrize(("value", "on_oxygen", "points"), [
    (83, False, 3), (84, False, 2), (85, False, 2), (86, False, 1), (87, False, 1),
    (88, False, 0), (92, False, 0), (93, False, 0), (100, False, 0),
    (83, True, 3), (84, True, 2), (87, True, 1), (88, True, 0), (92, True, 0),
    (93, True, 1), (94, True, 1), (95, True, 2), (96, True, 2), (97, True, 3), (100, True, 3),
])
def test_spo2_scale_2_boundaries(value, on_oxygen, points):
    assert news2.spo2_points(value, spo2_scale=2, on_oxygen=on_oxygen) == points


@pytest.mark.parametrize(("on_oxygen", "points"), [(False, 0), (True, 2)])
def test_on_oxygen_points(on_oxygen, points):
    assert news2.on_oxygen_points(on_oxygen) == points


@pytest.mark.parametrize(("value", "points"), [
    (40, 3), (90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3),
])
def test_systolic_bp_boundaries(value, points):
    assert news2.systolic_bp_points(value) == points


@pytest.mark.parametrize(("value", "points"), [
    (20, 3), (40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2),
    (130, 2), (131, 3), (250, 3),
])
def test_heart_rate_boundaries(value, points):
    assert news2.heart_rate_points(value) == points


@pytest.mark.parametrize(("value", "points"), [("A", 0), ("C", 3), ("V", 3), ("P", 3), ("U", 3)])
def test_consciousness_points(value, points):
    assert news2.consciousness_points(value) == points


TEMPERATURE_BOUNDARIES = [
    ("34.0", 3), ("35.0", 3), ("35.1", 1), ("36.0", 1), ("36.1", 0), ("38.0", 0),
    ("38.1", 1), ("39.0", 1), ("39.1", 2), ("42.0", 2),
]


@pytest.mark.parametrize("kind", [str, float, Decimal])
@pytest.mark.parametrize(("text", "points"), TEMPERATURE_BOUNDARIES)
def test_temperature_boundaries_as_string_float_and_decimal(text, points, kind):
    assert news2.temperature_points(kind(text)) == points


@pytest.mark.parametrize(("value", "points"), [(35, 3), (36, 1), (37, 0), (39, 1), (40, 2)])
def test_temperature_accepts_int(value, points):
    assert news2.temperature_points(value) == points


@pytest.mark.parametrize(("value", "points"), [
    # Rounded half-up to tenths before comparing.
    ("35.04", 3), ("35.05", 1), (36.049999, 1), ("38.04", 0), ("38.05", 1), (" 37.0 ", 0),
])
def test_temperature_is_rounded_to_tenths(value, points):
    assert news2.temperature_points(value) == points


@pytest.mark.parametrize("value", ["NaN", "inf", "-Infinity", "abc", "", float("nan"),
                                   float("inf"), True, [37]])
def test_temperature_refuses_non_numbers(value):
    with pytest.raises(ValueError, match="temperature"):
        news2.temperature_points(value)


def test_integral_floats_and_decimals_are_accepted():
    result = news2.score(**{**NORMAL, "respiratory_rate": 16.0, "heart_rate": Decimal("75")})
    assert result.total == 0


@pytest.mark.parametrize("parameter", ["respiratory_rate", "spo2", "systolic_bp", "heart_rate"])
@pytest.mark.parametrize("value", [16.5, Decimal("90.1"), "16", True, False, float("nan"),
                                   float("inf"), -1])
def test_whole_number_parameters_refuse_other_values(parameter, value):
    with pytest.raises(ValueError, match=parameter):
        news2.score(**{**NORMAL, parameter: value})


@pytest.mark.parametrize("parameter", [*ORDER, "spo2_scale"])
def test_missing_parameter_is_named(parameter):
    with pytest.raises(ValueError, match=f"{parameter} is missing"):
        news2.score(**{**NORMAL, parameter: None})


@pytest.mark.parametrize(("parameter", "value"), [
    ("consciousness", "X"), ("consciousness", "a"), ("consciousness", ""),
    ("on_oxygen", 1), ("on_oxygen", "yes"),
    ("spo2_scale", 3), ("spo2_scale", 0), ("spo2_scale", True), ("spo2_scale", 1.0),
    ("spo2", 101),
])
def test_invalid_values_are_named(parameter, value):
    with pytest.raises(ValueError, match=parameter):
        news2.score(**{**NORMAL, parameter: value})


@pytest.mark.parametrize(("changes", "band", "monitoring", "minutes"), [
    ({}, "low", "at least every 12 h", 720),
    ({"respiratory_rate": 10}, "low", "at least every 4–6 h", 240),
    ({"respiratory_rate": 22, "heart_rate": 115}, "low", "at least every 4–6 h", 240),
    ({"consciousness": "V"}, "low-medium", "at least hourly; urgent ward review", 60),
    ({"consciousness": "V", "respiratory_rate": 10}, "low-medium",
     "at least hourly; urgent ward review", 60),
    ({"respiratory_rate": 22, "heart_rate": 115, "temperature": "38.5"}, "medium",
     "at least hourly; urgent review by a clinician", 60),
    ({"consciousness": "U", "respiratory_rate": 22}, "medium",
     "at least hourly; urgent review by a clinician", 60),
    ({"consciousness": "U", "respiratory_rate": 22, "heart_rate": 95, "temperature": "38.5"},
     "high", "continuous monitoring; emergency response", 15),
])
def test_band_and_monitoring(changes, band, monitoring, minutes):
    result = news2.score(**{**NORMAL, **changes})
    assert result.band == band
    assert result.monitoring == monitoring
    assert result.monitoring_interval_minutes == minutes


def test_three_made_of_ones_and_twos_is_low_not_low_medium():
    result = news2.score(**{**NORMAL, "respiratory_rate": 22, "heart_rate": 95})
    assert result.total == 3
    assert not result.any_red
    assert result.band == "low"


def test_any_red():
    assert news2.score(**{**NORMAL, "systolic_bp": 90}).any_red
    assert not news2.score(**{**NORMAL, "systolic_bp": 95}).any_red


def test_result_records_spo2_scale():
    assert news2.score(**{**NORMAL, "spo2_scale": 2}).spo2_scale == 2


def test_score_partial_returns_none_and_missing_names_the_gaps():
    partial = {**NORMAL, "temperature": None, "consciousness": None}
    assert news2.score_partial(**partial) is None
    assert news2.missing(**partial) == ["consciousness", "temperature"]
    assert news2.missing() == list(ORDER)
    assert news2.missing(**NORMAL) == []


def test_score_partial_scores_a_complete_set():
    assert news2.score_partial(**NORMAL) == news2.score(**NORMAL)


def test_score_partial_still_refuses_bad_values():
    with pytest.raises(ValueError, match="heart_rate"):
        news2.score_partial(**{**NORMAL, "temperature": None, "heart_rate": 75.5})
    with pytest.raises(ValueError, match="spo2_scale"):
        news2.score_partial(spo2_scale=None)


# Properties. Temperatures are drawn as whole tenths so they are exact.
temperatures = st.integers(min_value=300, max_value=440).map(lambda tenths: Decimal(tenths) / 10)
vitals = st.fixed_dictionaries({
    "respiratory_rate": st.integers(0, 70),
    "spo2": st.integers(50, 100),
    "spo2_scale": st.sampled_from([1, 2]),
    "on_oxygen": st.booleans(),
    "systolic_bp": st.integers(40, 300),
    "heart_rate": st.integers(20, 250),
    "consciousness": st.sampled_from(news2.CONSCIOUSNESS_LEVELS),
    "temperature": temperatures,
})


@settings(max_examples=200)
@given(vitals)
def test_total_is_the_bounded_sum_of_points(values):
    result = news2.score(**values)
    assert result.total == sum(result.points.values())
    assert 0 <= result.total <= news2.MAX_TOTAL
    assert set(result.points.values()) <= {0, 1, 2, 3}
    assert result.band in news2.BANDS


def _worst():
    return news2.score(respiratory_rate=5, spo2=80, on_oxygen=True, systolic_bp=80,
                       heart_rate=150, consciousness="U", temperature="34.0")


def test_maximum_total_is_reachable():
    assert _worst().total == news2.MAX_TOTAL == 20


# Points fall towards a centre and rise away from it; "more abnormal" means further from it.
CENTRES = {"respiratory_rate": 16, "systolic_bp": 165, "heart_rate": 70,
           "temperature": Decimal("37.0")}
RANGES = {"respiratory_rate": st.integers(0, 70), "systolic_bp": st.integers(40, 300),
          "heart_rate": st.integers(20, 250), "temperature": temperatures,
          "spo2": st.integers(50, 100)}


def _spo2_centre(values):
    return 90 if values["spo2_scale"] == 2 and values["on_oxygen"] else 100


def _rank(band):
    return news2.BANDS.index(band)


@settings(max_examples=300)
@given(vitals, st.sampled_from(sorted(RANGES)), st.data())
def test_more_abnormal_never_lowers_total_or_band(values, parameter, data):
    centre = _spo2_centre(values) if parameter == "spo2" else CENTRES[parameter]
    first = data.draw(RANGES[parameter])
    second = data.draw(RANGES[parameter])
    assume((first - centre) * (second - centre) >= 0)  # same side of the centre
    nearer, further = sorted((first, second), key=lambda v: abs(v - centre))
    milder = news2.score(**{**values, parameter: nearer})
    worse = news2.score(**{**values, parameter: further})
    assert worse.points[parameter] >= milder.points[parameter]
    assert worse.total >= milder.total
    assert _rank(worse.band) >= _rank(milder.band)


@settings(max_examples=100)
@given(vitals)
def test_oxygen_or_lower_consciousness_never_lowers_total(values):
    base = news2.score(**{**values, "on_oxygen": False, "consciousness": "A"})
    for changes in ({"on_oxygen": True}, {"consciousness": "C"}):
        worse = news2.score(**{**values, "on_oxygen": False, "consciousness": "A", **changes})
        assert worse.total >= base.total
        assert _rank(worse.band) >= _rank(base.band)
