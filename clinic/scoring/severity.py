"""I-PASS illness severity suggested from the record (REFERENCE §8): stable, watcher, unstable.

A suggestion only: the outgoing nurse may adjust it with a reason, and both are kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

STABLE = "stable"
WATCHER = "watcher"
UNSTABLE = "unstable"
LEVELS = {STABLE: "Stable", WATCHER: "Watcher", UNSTABLE: "Unstable"}
_RANK = {STABLE: 0, WATCHER: 1, UNSTABLE: 2}

#: Scale bands that make a patient unstable, and those that make them a watcher.
UNSTABLE_SCALE_BANDS = frozenset({"severe", "moderately severe", "very severe"})
WATCHER_SCALE_BANDS = frozenset({"moderate"})


@dataclass(frozen=True)
class Severity:
    """A suggested level and the reasons for it, most serious first."""

    level: str
    reasons: tuple[str, ...]

    @property
    def label(self) -> str:
        return LEVELS[self.level]


def suggest(*, news2_total: int | None, news2_band: str | None, scale_bands: Iterable[tuple[str, str]] = (),
            open_escalations: Iterable[str] = (), suicide_risk: str | None = None,
            scale_flagged: bool = False) -> Severity:
    """Suggest a severity from NEWS2, the latest scale bands, open escalations and the suicide screen.

    Unstable: NEWS2 high or medium, a single red parameter (low-medium), a severe scale band, an
    open emergency escalation, or a moderate or high suicide risk. Watcher: NEWS2 1-4, a moderate
    scale band, a flagged ketamine checklist, any open escalation, or a low suicide risk. No
    vitals at all is a watcher: nothing recorded is not the same as stable.
    """
    unstable: list[str] = []
    watcher: list[str] = []
    escalations = list(open_escalations)
    if news2_total is None:
        watcher.append("no complete vitals set recorded")
    elif news2_band in ("high", "medium"):
        unstable.append(f"NEWS2 {news2_total} ({news2_band})")
    elif news2_band == "low-medium":
        unstable.append(f"NEWS2 {news2_total} with a single parameter scoring 3")
    elif news2_total > 0:
        watcher.append(f"NEWS2 {news2_total}")
    for scale, band in scale_bands:
        if band in UNSTABLE_SCALE_BANDS:
            unstable.append(f"{scale} {band}")
        elif band in WATCHER_SCALE_BANDS:
            watcher.append(f"{scale} {band}")
    if scale_flagged:
        watcher.append("ketamine checklist flagged")
    if "emergency" in escalations:
        unstable.append("open emergency escalation")
    elif escalations:
        watcher.append(f"{len(escalations)} open escalation{'s' if len(escalations) > 1 else ''}")
    if suicide_risk in ("moderate", "high"):
        unstable.append(f"suicide-risk screen {suicide_risk}")
    elif suicide_risk == "low":
        watcher.append("suicide-risk screen positive (low)")
    if unstable:
        return Severity(UNSTABLE, tuple(unstable + watcher))
    if watcher:
        return Severity(WATCHER, tuple(watcher))
    return Severity(STABLE, ())


def more_severe(a: str, b: str) -> str:
    """Return the more severe of two levels."""
    return a if _RANK[a] >= _RANK[b] else b
