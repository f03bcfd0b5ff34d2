"""Tests for CIWA-B: the twenty items, bands at every edge and properties."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.scoring import ciwa_b

KEYS = ("irritable", "fatigued", "tense", "difficulty_concentrating", "loss_of_appetite",
        "numbness_burning", "palpitations", "head_full_achy", "muscle_aches", "anxious", "upset",
        "restful_sleep", "weak", "enough_sleep", "visual_disturbances", "fearful",
        "worrying_misfortunes", "restlessness", "tremor", "sweating")


def with_total(total):
    """Spread a total over the items, four points at a time."""
    values = {}
    for key in KEYS:
        values[key] = min(4, total)
        total -= values[key]
    return values


def test_twenty_items_scored_0_to_4():
    assert ciwa_b.KEYS == KEYS
    assert ciwa_b.OBSERVED_KEYS == ("restlessness", "tremor", "sweating")
    for item in ciwa_b.ITEMS:
        assert item.max_value == 4
        if item.key in ("restful_sleep", "enough_sleep") or item.key in ciwa_b.OBSERVED_KEYS:
            continue
        assert item.anchors == {0: "not at all", 1: "mild", 2: "moderate", 3: "severe",
                                4: "very severe"}


def test_the_sleep_items_are_asked_as_the_instrument_asks_them():
    items = {item.key: item for item in ciwa_b.ITEMS}
    assert items["restful_sleep"].label == "Did you have restful sleep last night?"
    assert items["restful_sleep"].anchors == {0: "very restful", 4: "not at all"}
    assert items["enough_sleep"].label == "Did you have enough sleep last night?"
    assert items["enough_sleep"].anchors == {0: "enough", 4: "not at all"}


def test_observed_items_have_observation_anchors():
    items = {item.key: item for item in ciwa_b.ITEMS}
    assert items["tremor"].anchors[1] == "not visible, can be felt in fingers"
    assert items["sweating"].anchors[3] == "beads of sweat on forehead"
    assert items["restlessness"].anchors[4] == "paces back and forth, unable to sit still"


@given(st.decimals(min_value=-100, max_value=100, places=1, allow_nan=False),
       st.integers(min_value=-10, max_value=3000))
def test_sleep_answers_are_refused_exactly_outside_a_night(hours, minutes):
    errors = ciwa_b.sleep_errors(hours, Decimal(minutes))
    assert ("sleep_hours" in errors) == (not 0 <= hours <= 24)
    assert ("sleep_latency" in errors) == (not 0 <= minutes <= 1440)


def test_blank_sleep_answers_are_allowed():
    assert ciwa_b.sleep_errors(None, None) == {}


@pytest.mark.parametrize(("total", "band"), [
    (0, "none"), (1, "mild"), (20, "mild"), (21, "moderate"), (40, "moderate"),
    (41, "severe"), (60, "severe"), (61, "very severe"), (80, "very severe"),
])
def test_band_edges(total, band):
    result = ciwa_b.score(with_total(total))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(("key", "value"), [
    ("irritable", 5), ("sweating", -1), ("tremor", 1.5), ("fearful", "2"), ("weak", True),
])
def test_refuses_values_naming_the_item(key, value):
    with pytest.raises(ValueError, match=key):
        ciwa_b.score({**with_total(0), key: value})


def test_unscored_sleep_questions_are_not_items():
    with pytest.raises(ValueError, match="hours_slept"):
        ciwa_b.score({**with_total(0), "hours_slept": 6})
    values = with_total(0)
    del values["enough_sleep"]
    with pytest.raises(ValueError, match="enough_sleep is missing"):
        ciwa_b.score(values)


item_values = st.fixed_dictionaries({key: st.integers(0, 4) for key in KEYS})
BAND_ORDER = [name for _, _, name in ciwa_b.DEFAULT_BANDS]


@settings(max_examples=200)
@given(item_values)
def test_total_is_the_bounded_sum(values):
    result = ciwa_b.score(values)
    assert result.total == sum(values.values())
    assert 0 <= result.total <= ciwa_b.MAX_TOTAL == 80


@settings(max_examples=200)
@given(item_values, st.sampled_from(KEYS), st.integers(1, 4))
def test_raising_an_item_never_lowers_total_or_band(values, key, step):
    before = ciwa_b.score(values)
    after = ciwa_b.score({**values, key: min(4, values[key] + step)})
    assert after.total >= before.total
    assert BAND_ORDER.index(after.band) >= BAND_ORDER.index(before.band)
