"""PRN doses for the handover, read through the PRN feature's own queries when it is installed."""

from __future__ import annotations

from datetime import datetime

from clinic.scoring import due

#: Whether the PRN feature (clinic.prn) is part of this build; the handover says so when not.
AVAILABLE = False


def for_handover(admission_ids: list[int], *, start: datetime, end: datetime,
                 definition: due.DueDefinition) -> dict[int, tuple[list, list, list]]:
    """Return per admission: the shift's dose lines, next-eligible lines and effect gaps."""
    return {}
