"""The flowsheet: the timeline's values as a table, time in columns (newest first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from clinic.trends.model import Timeline, when


@dataclass(frozen=True)
class Cell:
    text: str
    label: str = ""
    abnormal: bool = False
    corrected: bool = False
    tone: str = ""


@dataclass(frozen=True)
class Row:
    key: str
    title: str
    cells: list[Cell | None]
    #: "vital", "score" or "prn": the table groups rows under these headings.
    group: str = "vital"


@dataclass(frozen=True)
class Flowsheet:
    times: list[datetime]
    rows: list[Row]
    #: Each column's heading in the unit's time: ("05 Mar", "14:30").
    headings: list[tuple[str, str]]


def build_flowsheet(timeline: Timeline) -> Flowsheet:
    """Lay out every plotted value by its time; each charted moment is one column."""
    series = [(panel, s) for panel in timeline.panels for s in panel.series]
    times = sorted({p.at for _panel, s in series for p in s.points}
                   | {d.at for d in timeline.dose_marks}, reverse=True)
    column = {at: i for i, at in enumerate(times)}
    table = []
    for panel, s in series:
        cells: list[Cell | None] = [None] * len(times)
        for point in s.points:
            fact = s.fact(point)
            cells[column[point.at]] = Cell(str(point.value), fact.label, fact.abnormal, fact.corrected)
        group = "vital" if panel.key in {"heart_rate", "bp", "respiratory_rate", "temperature", "spo2"} \
            else "score"
        unit = f" ({panel.subtitle.split(' ·')[0]})" if group == "vital" else ""
        table.append(Row(s.key, f"{s.label}{unit}", cells, group))
    by_drug: dict[str, list[Cell | None]] = {}
    for dose in timeline.dose_marks:
        cells = by_drug.setdefault(dose.text, [None] * len(times))
        cells[column[dose.at]] = Cell(dose.cell, dose.label, dose.tone == "danger", False, dose.tone)
    for drug, cells in sorted(by_drug.items()):
        table.append(Row(f"prn-{drug}", f"PRN {drug}", cells, "prn"))
    headings = [(local[:6], local[7:]) for local in (when(at, timeline.zone) for at in times)]
    return Flowsheet(times, table, headings)
