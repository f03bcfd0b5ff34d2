"""CIWA-Ar (alcohol withdrawal): items, default bands, reassessment and notify rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from clinic.scoring.scale import Band, Item, ScaleResult, score_items

_PERCEPTUAL_SEVERE = {
    4: "moderately severe hallucinations",
    5: "severe hallucinations",
    6: "extremely severe hallucinations",
    7: "continuous hallucinations",
}

ITEMS: tuple[Item, ...] = (
    Item("nausea_vomiting", "Nausea and vomiting", 7, {
        0: "no nausea, no vomiting",
        1: "mild nausea, no vomiting",
        4: "intermittent nausea with dry heaves",
        7: "constant nausea, frequent dry heaves and vomiting",
    }),
    Item("tremor", "Tremor, arms extended", 7, {
        0: "no tremor",
        1: "not visible, can be felt fingertip to fingertip",
        4: "moderate, with arms extended",
        7: "severe, even with arms not extended",
    }),
    Item("paroxysmal_sweats", "Paroxysmal sweats", 7, {
        0: "no sweat visible",
        1: "barely perceptible sweating, palms moist",
        4: "beads of sweat obvious on forehead",
        7: "drenching sweats",
    }),
    Item("anxiety", "Anxiety", 7, {
        0: "no anxiety, at ease",
        1: "mildly anxious",
        4: "moderately anxious, or guarded",
        7: "equivalent to acute panic states",
    }),
    Item("agitation", "Agitation", 7, {
        0: "normal activity",
        1: "somewhat more than normal activity",
        4: "moderately fidgety and restless",
        7: "paces back and forth, or constantly thrashes about",
    }),
    Item("tactile_disturbances", "Tactile disturbances (itching, pins and needles, crawling)", 7, {
        0: "none",
        1: "very mild itching, pins and needles, burning or numbness",
        2: "mild itching, pins and needles, burning or numbness",
        3: "moderate itching, pins and needles, burning or numbness",
        **_PERCEPTUAL_SEVERE,
    }),
    Item("auditory_disturbances", "Auditory disturbances (sounds harsh, hearing things)", 7, {
        0: "not present",
        1: "very mild harshness or ability to frighten",
        2: "mild harshness or ability to frighten",
        3: "moderate harshness or ability to frighten",
        **_PERCEPTUAL_SEVERE,
    }),
    Item("visual_disturbances", "Visual disturbances (light too bright, seeing things)", 7, {
        0: "not present",
        1: "very mild sensitivity",
        2: "mild sensitivity",
        3: "moderate sensitivity",
        **_PERCEPTUAL_SEVERE,
    }),
    Item("headache", "Headache, fullness in head (not dizziness)", 7, {
        0: "not present",
        1: "very mild",
        2: "mild",
        3: "moderate",
        4: "moderately severe",
        5: "severe",
        6: "very severe",
        7: "extremely severe",
    }),
    Item("orientation", "Orientation and clouding of sensorium", 4, {
        0: "oriented and can do serial additions",
        1: "cannot do serial additions or is uncertain about date",
        2: "disoriented for date by no more than 2 calendar days",
        3: "disoriented for date by more than 2 calendar days",
        4: "disoriented for place and/or person",
    }),
)

KEYS: tuple[str, ...] = tuple(item.key for item in ITEMS)
MAX_TOTAL = 67

#: Default bands; published schemes differ, so units may configure their own.
DEFAULT_BANDS: tuple[Band, ...] = ((0, 7, "mild"), (8, 15, "moderate"), (16, 67, "severe"))

#: Default reassessment rule (REFERENCE §2), in minutes.
FREQUENT_THRESHOLD = 8
FREQUENT_MINUTES = 60
ROUTINE_MINUTES = 240
SETTLED_MINUTES = 480
SETTLED_AFTER = 3
#: Default routine interval in the first 72 h with seizure or DT history (a unit setting).
SEIZURE_RISK_MINUTES = 120

#: The default "severe" band starts here: vitals are then due with each reassessment.
SEVERE_FROM = 16

#: Default physician-notify thresholds.
NOTIFY_AT = 20
NOTIFY_CONSECUTIVE_AT = 15


def score(items: Mapping[str, int], bands: Sequence[Band] = DEFAULT_BANDS) -> ScaleResult:
    """Validate the ten item values and return the total and its band."""
    return score_items(ITEMS, items, bands)


def needs_physician(
    total: int,
    previous_total: int | None = None,
    *,
    notify_at: int = NOTIFY_AT,
    consecutive_at: int = NOTIFY_CONSECUTIVE_AT,
) -> bool:
    """Return whether this score (with the previous one) should be reported to the physician."""
    if total >= notify_at:
        return True
    if previous_total is None:
        return False
    return total >= consecutive_at and previous_total >= consecutive_at


#: A score counts as taken at the routine interval from this share of it after the one before.
ON_SCHEDULE_SHARE = 0.75


def steps_down(
    recent_totals: Sequence[int],
    times: Sequence[datetime] | None = None,
    *,
    threshold: int = FREQUENT_THRESHOLD,
    routine: int = ROUTINE_MINUTES,
    settled_after: int = SETTLED_AFTER,
) -> bool:
    """Return whether the newest scores allow the step-down (REFERENCE §2).

    The newest ``settled_after`` scores are all below the threshold, none higher than the one
    before it (not rising), and, when their times are given, each was taken at the routine
    interval: at least three quarters of it after the score before (the one before the run
    included, when there is one), so hourly scores squeezed in never count.
    """
    last = list(recent_totals[-settled_after:])
    if len(last) < settled_after or any(total >= threshold for total in last):
        return False
    if any(later > earlier for earlier, later in zip(last, last[1:], strict=False)):
        return False
    if times is not None:
        if len(times) != len(recent_totals):
            raise ValueError("one time per total is needed")
        run_times = list(times[-(settled_after + 1):])
        least = timedelta(minutes=routine * ON_SCHEDULE_SHARE)
        if any(later - earlier < least for earlier, later in zip(run_times, run_times[1:], strict=False)):
            return False
    return True


def reassessment_minutes(
    recent_totals: Sequence[int],
    *,
    threshold: int = FREQUENT_THRESHOLD,
    frequent: int = FREQUENT_MINUTES,
    routine: int = ROUTINE_MINUTES,
    settled: int = SETTLED_MINUTES,
    settled_after: int = SETTLED_AFTER,
    times: Sequence[datetime] | None = None,
    seizure_risk: bool = False,
) -> int:
    """Return minutes until the next assessment, given the totals (and times) so far, latest last.

    With ``seizure_risk`` (seizure or DT history in the first 72 h) there is no step-down.
    """
    if not recent_totals:
        raise ValueError("at least one total is needed")
    if recent_totals[-1] >= threshold:
        return frequent
    if not seizure_risk and steps_down(recent_totals, times, threshold=threshold, routine=routine,
                                       settled_after=settled_after):
        return settled
    return routine

