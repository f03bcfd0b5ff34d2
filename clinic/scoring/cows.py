"""COWS (opioid withdrawal): items with their allowed values, pulse points and bands."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from clinic.scoring.scale import Band, Item, ScaleResult, score_items


def _item(key: str, label: str, anchors: dict[int, str]) -> Item:
    # COWS skips values (restlessness has no 2), so the anchors are the allowed set.
    allowed = tuple(sorted(anchors))
    return Item(key, label, max(allowed), anchors, allowed)


ITEMS: tuple[Item, ...] = (
    _item("resting_pulse", "Resting pulse after 1 min sitting", {
        0: "80 /min or below",
        1: "81–100 /min",
        2: "101–120 /min",
        4: "above 120 /min",
    }),
    _item("sweating", "Sweating, last half hour", {
        0: "no chills or flushing",
        1: "subjective chills or flushing",
        2: "flushed or observable moistness on face",
        3: "beads of sweat on brow or face",
        4: "sweat streaming off face",
    }),
    _item("restlessness", "Restlessness during assessment", {
        0: "able to sit still",
        1: "reports difficulty sitting still, but is able to",
        3: "frequent shifting or extraneous movements of legs or arms",
        5: "unable to sit still for more than a few seconds",
    }),
    _item("pupil_size", "Pupil size", {
        0: "normal size for room light",
        1: "possibly larger than normal",
        2: "moderately dilated",
        5: "so dilated that only the rim of the iris is visible",
    }),
    _item("bone_joint_aches", "Bone or joint aches", {
        0: "not present",
        1: "mild diffuse discomfort",
        2: "severe diffuse aching of joints or muscles",
        4: "rubbing joints or muscles and unable to sit still because of discomfort",
    }),
    _item("runny_nose_tearing", "Runny nose or tearing", {
        0: "not present",
        1: "nasal stuffiness or unusually moist eyes",
        2: "nose running or tearing",
        4: "nose constantly running or tears streaming down cheeks",
    }),
    _item("gi_upset", "GI upset, last half hour", {
        0: "no GI symptoms",
        1: "stomach cramps",
        2: "nausea or loose stool",
        3: "vomiting or diarrhoea",
        5: "multiple episodes of diarrhoea or vomiting",
    }),
    _item("tremor", "Tremor, hands outstretched", {
        0: "no tremor",
        1: "tremor can be felt, but not observed",
        2: "slight tremor observable",
        4: "gross tremor or muscle twitching",
    }),
    _item("yawning", "Yawning during assessment", {
        0: "no yawning",
        1: "yawning once or twice",
        2: "yawning three or more times",
        4: "yawning several times a minute",
    }),
    _item("anxiety_irritability", "Anxiety or irritability", {
        0: "none",
        1: "reports increasing irritability or anxiousness",
        2: "obviously irritable or anxious",
        4: "so irritable or anxious that participation in the assessment is difficult",
    }),
    _item("gooseflesh", "Gooseflesh skin", {
        0: "skin is smooth",
        3: "piloerection can be felt, or hairs standing up on arms",
        5: "prominent piloerection",
    }),
)

KEYS: tuple[str, ...] = tuple(item.key for item in ITEMS)
MAX_TOTAL = 48

DEFAULT_BANDS: tuple[Band, ...] = (
    (0, 4, "none"),
    (5, 12, "mild"),
    (13, 24, "moderate"),
    (25, 36, "moderately severe"),
    (37, 48, "severe"),
)

#: Default reassessment: routinely, and after each PRN dose for opioid withdrawal.
ROUTINE_MINUTES = 240
AFTER_PRN_MINUTES = 60
#: From "moderately severe" (25) the physician is notified and the interval shortens.
SEVERE_FROM = 25
SEVERE_MINUTES = 60


def pulse_points(heart_rate: int) -> int:
    """Return the resting-pulse item value for a measured heart rate."""
    if isinstance(heart_rate, bool) or not isinstance(heart_rate, int):
        raise ValueError(f"heart_rate: {heart_rate!r} is not a whole number")
    if heart_rate < 0:
        raise ValueError(f"heart_rate: {heart_rate} cannot be negative")
    if heart_rate <= 80:
        return 0
    if heart_rate <= 100:
        return 1
    if heart_rate <= 120:
        return 2
    return 4


def score(items: Mapping[str, int], bands: Sequence[Band] = DEFAULT_BANDS) -> ScaleResult:
    """Validate the eleven item values and return the total and its band."""
    return score_items(ITEMS, items, bands)
