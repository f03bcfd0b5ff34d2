"""CIWA-B (benzodiazepine withdrawal): twenty items scored 0–4, and bands."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from clinic.scoring.scale import Band, Item, ScaleResult, score_items

ANCHORS: dict[int, str] = {
    0: "not at all",
    1: "mild",
    2: "moderate",
    3: "severe",
    4: "very severe",
}

# Asked as the instrument asks them. The two scored sleep items are questions whose own answer
# words run from the good answer (0) to "not at all" (4), so what the patient says maps straight
# to the score (REFERENCE §4).
_ASKED = (
    ("irritable", "Feels irritable"),
    ("fatigued", "Feels fatigued"),
    ("tense", "Feels tense"),
    ("difficulty_concentrating", "Difficulty concentrating"),
    ("loss_of_appetite", "Loss of appetite"),
    ("numbness_burning", "Numbness or burning on face, hands or feet"),
    ("palpitations", "Heart racing (palpitations)"),
    ("head_full_achy", "Head feels full or achy"),
    ("muscle_aches", "Muscles ache or feel stiff"),
    ("anxious", "Feels anxious, nervous or jittery"),
    ("upset", "Feels upset"),
    ("restful_sleep", "Did you have restful sleep last night?"),
    ("weak", "Feels weak"),
    ("enough_sleep", "Did you have enough sleep last night?"),
    ("visual_disturbances", "Visual disturbances (light sensitivity, blurred vision)"),
    ("fearful", "Feels fearful"),
    ("worrying_misfortunes", "Worrying about possible misfortunes"),
)
#: The sleep items' own answer words: only the ends are worded on the instrument.
SLEEP_ANCHORS: dict[str, dict[int, str]] = {
    "restful_sleep": {0: "very restful", 4: "not at all"},
    "enough_sleep": {0: "enough", 4: "not at all"},
}
_OBSERVED = (
    ("restlessness", "Restlessness, agitation (observed)"),
    ("tremor", "Tremor (observed)"),
    ("sweating", "Sweating (observed)"),
)
#: What the nurse sees, for the observed items (the instrument's observation anchors).
OBSERVATION_ANCHORS: dict[str, dict[int, str]] = {
    "restlessness": {0: "none, normal activity", 2: "restless",
                     4: "paces back and forth, unable to sit still"},
    "tremor": {0: "no tremor", 1: "not visible, can be felt in fingers", 2: "visible but mild",
               3: "moderate, with arms extended", 4: "severe, with arms not extended"},
    "sweating": {0: "no sweating visible", 1: "barely perceptible sweating, palms moist",
                 2: "palms and forehead moist, reports armpit sweating",
                 3: "beads of sweat on forehead", 4: "severe drenching sweats"},
}

ITEMS: tuple[Item, ...] = tuple(
    Item(key, label, 4, SLEEP_ANCHORS.get(key) or OBSERVATION_ANCHORS.get(key) or ANCHORS)
    for key, label in _ASKED + _OBSERVED
)
KEYS: tuple[str, ...] = tuple(item.key for item in ITEMS)
#: Items the nurse scores by observation rather than by asking.
OBSERVED_KEYS: tuple[str, ...] = tuple(key for key, _ in _OBSERVED)
MAX_TOTAL = 80

DEFAULT_BANDS: tuple[Band, ...] = (
    (0, 0, "none"),
    (1, 20, "mild"),
    (21, 40, "moderate"),
    (41, 60, "severe"),
    (61, 80, "very severe"),
)

#: Default reassessment; from "severe" (41), with its seizure risk, the physician is notified
#: and the interval shortens.
ROUTINE_MINUTES = 240
SEVERE_FROM = 41
SEVERE_MINUTES = 60


#: The two unscored sleep questions, with their plausible ranges.
SLEEP_HOURS_QUESTION = "How many hours did you sleep last night?"
SLEEP_LATENCY_QUESTION = "How many minutes did it take you to fall asleep?"
MAX_SLEEP_HOURS = Decimal(24)
MAX_SLEEP_LATENCY_MINUTES = 1440


def sleep_errors(hours: Decimal | None, latency_minutes: Decimal | None) -> dict[str, str]:
    """Return a message per unscored sleep answer outside what a night can hold (blank is allowed)."""
    errors = {}
    if hours is not None and not Decimal(0) <= hours <= MAX_SLEEP_HOURS:
        errors["sleep_hours"] = f"Hours slept must be from 0 to {MAX_SLEEP_HOURS}, not {hours}."
    if latency_minutes is not None and (
            latency_minutes != latency_minutes.to_integral_value()
            or not 0 <= latency_minutes <= MAX_SLEEP_LATENCY_MINUTES):
        errors["sleep_latency"] = (f"Minutes to fall asleep must be a whole number from 0 to "
                                   f"{MAX_SLEEP_LATENCY_MINUTES}, not {latency_minutes}.")
    return errors


def score(items: Mapping[str, int], bands: Sequence[Band] = DEFAULT_BANDS) -> ScaleResult:
    """Validate the twenty item values and return the total and its band."""
    return score_items(ITEMS, items, bands)
