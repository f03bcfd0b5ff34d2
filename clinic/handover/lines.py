"""The line every handover section is made of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Line:
    """One timed line of a section: "03:10 CIWA-Ar 12 (moderate)"."""

    at: datetime | None
    text: str
    #: Drawn with a marker (never colour alone): a gap, an exception, an abnormal value.
    alert: bool = False
