"""CIWA-B (benzodiazepine withdrawal): twenty items scored 0–4, and bands."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from clinic.scoring.scale import Band, Item, ScaleResult, score_items

ANCHORS: dict[int, str] = {
    0: "not at all",
    1: "mild",
    2: "moderate",
    3: "severe",
    4: "very severe",
}

# Labels are worded so that a higher value always means more withdrawal: the two sleep items
# are asked as "how restful / enough", so their labels name the lack of it.
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
    ("restful_sleep", "Sleep last night not restful"),
    ("weak", "Feels weak"),
    ("enough_sleep", "Not enough sleep last night"),
    ("visual_disturbances", "Visual disturbances (light sensitivity, blurred vision)"),
    ("fearful", "Feels fearful"),
    ("worrying_misfortunes", "Worrying about possible misfortunes"),
)
_OBSERVED = (
    ("restlessness", "Restlessness, agitation (observed)"),
    ("tremor", "Tremor (observed)"),
    ("sweating", "Sweating (observed)"),
)

ITEMS: tuple[Item, ...] = tuple(Item(key, label, 4, ANCHORS) for key, label in _ASKED + _OBSERVED)
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


def score(items: Mapping[str, int], bands: Sequence[Band] = DEFAULT_BANDS) -> ScaleResult:
    """Validate the twenty item values and return the total and its band."""
    return score_items(ITEMS, items, bands)
