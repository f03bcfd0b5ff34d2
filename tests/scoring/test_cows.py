"""Tests for COWS: worked examples, allowed values, pulse points and properties."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.scoring import cows
from clinic.scoring.scale import band_for

KEYS = ("resting_pulse", "sweating", "restlessness", "pupil_size", "bone_joint_aches",
        "runny_nose_tearing", "gi_upset", "tremor", "yawning", "anxiety_irritability",
        "gooseflesh")
ALLOWED = {
    "resting_pulse": {0, 1, 2, 4},
    "sweating": {0, 1, 2, 3, 4},
    "restlessness": {0, 1, 3, 5},
    "pupil_size": {0, 1, 2, 5},
    "bone_joint_aches": {0, 1, 2, 4},
    "runny_nose_tearing": {0, 1, 2, 4},
    "gi_upset": {0, 1, 2, 3, 5},
    "tremor": {0, 1, 2, 4},
    "yawning": {0, 1, 2, 4},
    "anxiety_irritability": {0, 1, 2, 4},
    "gooseflesh": {0, 3, 5},
}


def items(*values):
    return dict(zip(KEYS, values, strict=True))


ALL_ZERO = items(*[0] * 11)

# REFERENCE §11: items in table order → total, band.
WORKED = [
    ((0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, "none"),
    ((1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0), 4, "none"),
    ((1, 0, 0, 0, 0, 1, 0, 1, 1, 1, 0), 5, "mild"),
    ((2, 2, 3, 1, 2, 1, 1, 0, 0, 0, 0), 12, "mild"),
    ((2, 2, 3, 1, 2, 1, 1, 1, 0, 0, 0), 13, "moderate"),
    ((4, 4, 5, 5, 4, 4, 5, 4, 4, 4, 5), 48, "severe"),
]


@pytest.mark.parametrize(("values", "total", "band"), WORKED)
def test_worked_examples(values, total, band):
    result = cows.score(items(*values))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(("total", "band"), [
    (24, "moderate"), (25, "moderately severe"), (36, "moderately severe"), (37, "severe"),
])
def test_upper_band_edges(total, band):
    assert band_for(total, cows.DEFAULT_BANDS) == band


def test_items_have_exactly_the_allowed_values_with_anchors():
    assert cows.KEYS == KEYS
    for item in cows.ITEMS:
        assert set(item.allowed_values) == ALLOWED[item.key]
        assert set(item.anchors) == ALLOWED[item.key]
        assert item.label


@pytest.mark.parametrize(("key", "value"), [
    ("restlessness", 2), ("pupil_size", 3), ("gi_upset", 4), ("gooseflesh", 1),
    ("resting_pulse", 3), ("sweating", 5), ("tremor", 1.0), ("yawning", False),
])
def test_refuses_values_naming_the_item(key, value):
    with pytest.raises(ValueError, match=key):
        cows.score({**ALL_ZERO, key: value})


def test_refuses_missing_and_unknown_items():
    with pytest.raises(ValueError, match="gooseflesh is missing"):
        cows.score({key: 0 for key in KEYS[:-1]})
    with pytest.raises(ValueError, match="blood_pressure"):
        cows.score({**ALL_ZERO, "blood_pressure": 0})


@pytest.mark.parametrize(("heart_rate", "points"), [
    (40, 0), (80, 0), (81, 1), (100, 1), (101, 2), (120, 2), (121, 4), (180, 4),
])
def test_pulse_points(heart_rate, points):
    assert cows.pulse_points(heart_rate) == points


@pytest.mark.parametrize("heart_rate", [80.5, "90", True, None, -1])
def test_pulse_points_refuses_non_rates(heart_rate):
    with pytest.raises(ValueError, match="heart_rate"):
        cows.pulse_points(heart_rate)


item_values = st.fixed_dictionaries(
    {key: st.sampled_from(sorted(allowed)) for key, allowed in ALLOWED.items()}
)
BAND_ORDER = [name for _, _, name in cows.DEFAULT_BANDS]


@settings(max_examples=200)
@given(item_values)
def test_total_is_the_bounded_sum(values):
    result = cows.score(values)
    assert result.total == sum(values.values())
    assert 0 <= result.total <= cows.MAX_TOTAL == 48


@settings(max_examples=200)
@given(item_values, st.sampled_from(KEYS), st.data())
def test_raising_an_item_never_lowers_total_or_band(values, key, data):
    higher = data.draw(st.sampled_from(sorted(v for v in ALLOWED[key] if v >= values[key])))
    before, after = cows.score(values), cows.score({**values, key: higher})
    assert after.total >= before.total
    assert BAND_ORDER.index(after.band) >= BAND_ORDER.index(before.band)
