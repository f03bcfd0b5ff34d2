"""Tests for CIWA-Ar: worked examples, refusals, bands, notify and reassessment rules."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.scoring import ciwa_ar

KEYS = ("nausea_vomiting", "tremor", "paroxysmal_sweats", "anxiety", "agitation",
        "tactile_disturbances", "auditory_disturbances", "visual_disturbances", "headache",
        "orientation")


def items(*values):
    return dict(zip(KEYS, values, strict=True))


ALL_ZERO = items(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

# REFERENCE §11: items in table order → total, default band.
WORKED = [
    ((0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, "mild"),
    ((2, 2, 1, 2, 0, 0, 0, 0, 0, 0), 7, "mild"),
    ((2, 2, 1, 2, 1, 0, 0, 0, 0, 0), 8, "moderate"),
    ((3, 3, 2, 3, 2, 0, 0, 0, 1, 0), 14, "moderate"),
    ((7, 7, 7, 7, 7, 7, 7, 7, 7, 4), 67, "severe"),
]


@pytest.mark.parametrize(("values", "total", "band"), WORKED)
def test_worked_examples(values, total, band):
    result = ciwa_ar.score(items(*values))
    assert (result.total, result.band) == (total, band)
    assert result.items == items(*values)


def test_items_in_reference_order_with_ranges_and_anchors():
    assert tuple(item.key for item in ciwa_ar.ITEMS) == KEYS == ciwa_ar.KEYS
    for item in ciwa_ar.ITEMS:
        assert item.max_value == (4 if item.key == "orientation" else 7)
        assert item.label
        assert 0 in item.anchors and item.max_value in item.anchors
        assert set(item.anchors) <= set(range(item.max_value + 1))


@pytest.mark.parametrize(("key", "value"), [
    ("orientation", 5), ("tremor", 8), ("anxiety", 2.5), ("headache", -1),
    ("agitation", True), ("nausea_vomiting", "3"), ("visual_disturbances", None),
])
def test_refuses_values_naming_the_item(key, value):
    with pytest.raises(ValueError, match=key):
        ciwa_ar.score({**ALL_ZERO, key: value})


def test_refuses_a_missing_item():
    values = dict(ALL_ZERO)
    del values["headache"]
    with pytest.raises(ValueError, match="headache is missing"):
        ciwa_ar.score(values)


def test_refuses_an_unknown_item():
    with pytest.raises(ValueError, match="pulse"):
        ciwa_ar.score({**ALL_ZERO, "pulse": 0})


def test_error_carries_the_item_key():
    with pytest.raises(ValueError) as caught:
        ciwa_ar.score({**ALL_ZERO, "orientation": 5})
    assert caught.value.key == "orientation"


def test_unit_bands_are_used():
    bands = ((0, 9, "minimal"), (10, 19, "moderate"), (20, 67, "severe"))
    assert ciwa_ar.score(items(2, 2, 2, 2, 1, 0, 0, 0, 0, 0), bands).band == "minimal"
    assert ciwa_ar.score(items(2, 2, 2, 2, 2, 0, 0, 0, 0, 0), bands).band == "moderate"


@pytest.mark.parametrize("bands", [
    ((0, 7, "mild"), (9, 67, "severe")),      # gap
    ((0, 8, "mild"), (8, 67, "severe")),      # overlap
    ((1, 67, "all"),),                        # does not start at 0
    ((0, 60, "all"),),                        # does not reach the maximum
    ((0, 67, " "),),                          # no name
])
def test_bad_bands_are_refused(bands):
    with pytest.raises(ValueError):
        ciwa_ar.score(ALL_ZERO, bands)


@pytest.mark.parametrize(("total", "previous", "notify"), [
    (19, None, False), (20, None, True), (25, 0, True),
    (15, 15, True), (15, 14, False), (14, 15, False), (16, 19, True), (10, None, False),
])
def test_needs_physician(total, previous, notify):
    assert ciwa_ar.needs_physician(total, previous) is notify


@pytest.mark.parametrize(("totals", "minutes"), [
    ([8], 60), ([20], 60), ([7], 240), ([7, 7], 240), ([3, 2, 1], 480), ([10, 3, 2, 1], 480),
    ([3, 9, 2, 1], 240), ([3, 2, 1, 8], 60), ([0], 240),
])
def test_reassessment_minutes(totals, minutes):
    assert ciwa_ar.reassessment_minutes(totals) == minutes


def test_reassessment_needs_a_total():
    with pytest.raises(ValueError):
        ciwa_ar.reassessment_minutes([])


item_values = st.fixed_dictionaries(
    {item.key: st.integers(0, item.max_value) for item in ciwa_ar.ITEMS}
)
BAND_ORDER = [name for _, _, name in ciwa_ar.DEFAULT_BANDS]


@settings(max_examples=200)
@given(item_values)
def test_total_is_the_bounded_sum(values):
    result = ciwa_ar.score(values)
    assert result.total == sum(values.values())
    assert 0 <= result.total <= ciwa_ar.MAX_TOTAL == 67


@settings(max_examples=200)
@given(item_values, st.sampled_from(KEYS), st.integers(1, 7))
def test_raising_an_item_never_lowers_total_or_band(values, key, step):
    limit = 4 if key == "orientation" else 7
    worse = {**values, key: min(values[key] + step, limit)}
    before, after = ciwa_ar.score(values), ciwa_ar.score(worse)
    assert after.total >= before.total
    assert BAND_ORDER.index(after.band) >= BAND_ORDER.index(before.band)
