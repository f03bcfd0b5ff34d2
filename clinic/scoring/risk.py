"""Risk flags on an admission and what they change (REFERENCE §8; issue 11 "also expected")."""

from __future__ import annotations

from datetime import datetime, timedelta

SEIZURE_DT = "seizure_dt"
FLAGS: dict[str, str] = {
    SEIZURE_DT: "Seizure or DT history",
    "falls": "Falls risk",
    "aggression": "Aggression",
    "pregnancy": "Pregnancy",
}
#: Seizure or DT history shortens CIWA-Ar reassessment for this long after admission, when
#: withdrawal seizures and delirium tremens are most likely.
SEIZURE_WINDOW_HOURS = 72


def seizure_risk_until(flags: set[str] | frozenset[str], admitted_at: datetime) -> datetime | None:
    """Return until when seizure or DT history shortens CIWA-Ar reassessment, or None."""
    if SEIZURE_DT not in flags:
        return None
    return admitted_at + timedelta(hours=SEIZURE_WINDOW_HOURS)
