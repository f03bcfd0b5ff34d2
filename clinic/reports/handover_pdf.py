"""The shift handover as a PDF (ReportLab), drawn from the same `Handover` as the page.

Black and white throughout: severity and gaps are words and markers, never colour alone. Every
page carries the unit, the shift, who printed it and when, "Page x of y" and a confidentiality
line. Each patient is one table with a bounded number of lines per section (a table spanning
many pages builds superlinearly slowly, ENGINEERING.md), and what was left out is counted.
"""

from __future__ import annotations

import io
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from clinic.handover.lines import Line
from clinic.handover.services import Handover, PatientHandover

PAGE_SIZES = {"A4": A4, "letter": letter}
CONFIDENTIAL = ("CONFIDENTIAL: patient-identifiable clinical information. Do not leave unattended; "
                "shred after use.")
#: Lines printed per section of one patient; the rest are counted, never silently dropped.
MAX_LINES = 12
MARK = "[!]"
#: Overdue items listed on the first page; the rest are in each patient's section.
MAX_UNIT_OVERDUE = 80

# Helvetica's encoding lacks these; say them in plain characters rather than print black boxes.
_PLAIN = str.maketrans({"≥": ">=", "≤": "<=", "→": "->", "↑": "up", "↓": "down", "✓": "ok"})

_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=8, leading=9.6)
_BOLD = ParagraphStyle("bold", parent=_BODY, fontName="Helvetica-Bold")
_TITLE = ParagraphStyle("title", parent=_BODY, fontName="Helvetica-Bold", fontSize=13, leading=16,
                        spaceAfter=4)


def _text(value: str) -> str:
    return escape(value.translate(_PLAIN))


def _p(value: str, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(value, style)


def _wrap(text: str, width: float, font: str = "Helvetica", size: float = 8) -> str:
    """Return text broken into lines that fit `width`, for a plain table cell.

    Plain strings in cells, not Paragraphs: laying out some three thousand Paragraphs made a
    40-bed handover take 1.4 s, ten times ReportLab's own pace on plain cells.
    """
    return "\n".join(line for part in text.translate(_PLAIN).split("\n")
                     for line in (simpleSplit(part, font, size, width) or [""]))


def _lines(h: Handover, lines: list[Line], empty: str) -> str:
    """Return a section's lines, at most MAX_LINES, the rest counted."""
    if not lines:
        return empty
    shown = [(f"{MARK} " if line.alert else "") + (f"{h.time(line.at)} " if line.at else "") + line.text
             for line in lines[:MAX_LINES]]
    if len(lines) > MAX_LINES:
        shown.append(f"… {len(lines) - MAX_LINES} more not printed: see the chart")
    return "\n".join(shown)


def _actions(h: Handover, p: PatientHandover) -> str:
    rows = [
        f"To do: {a.text}" + (f" — {a.owner}" if a.owner else "")
        + (f", by {h.time(a.due_at)}" if a.due_at else "")
        for a in p.actions
    ] + [f"If … then: {c.text}" for c in p.contingencies]
    return "\n".join(rows) if rows else "None added"


def _severity(p: PatientHandover) -> str:
    text = p.level_label.upper()
    if p.adjusted:
        by, reason = p.adjusted[2], p.adjusted[1]
        return text + f" (adjusted by {by}: {reason}; suggested {p.suggested.label.lower()})"
    if p.suggested.reasons:
        return text + " — suggested: " + "; ".join(p.suggested.reasons)
    return text + " — suggested: nothing in the record raises concern"


def _summary_text(p: PatientHandover) -> str:
    substances = ", ".join(p.substances) or "none recorded"
    text = (f"{p.age} y, {p.sex}. Day {p.detox_day}, {p.since_use}. Substances: {substances}. "
            f"Protocols: {', '.join(p.protocols) or 'none'}. Observation: {p.observation_level}. "
            f"Attending: {p.attending or 'not recorded'}.")
    if p.risk_flags:
        text += f"\nRISK: {'; '.join(p.risk_flags)}"
    return text


#: Rows drawn in bold: the allergies, the severity and the gaps (never colour alone).
_BOLD_ROWS = (1, 2, 11)
_LABEL_WIDTH = 32 * mm
#: ReportLab's default cell padding, left and right.
_PADDING = 6


def _patient_table(h: Handover, p: PatientHandover, width: float) -> Table:
    prn_lines = p.prn if p.prn_available else [Line(None, "PRN record not available in this build")]
    gaps = _lines(h, p.gaps, "") if p.gaps else \
        f"None: the due rules found nothing overdue or missed as of {h.time(h.as_of)}"
    sections = [
        ("ALLERGIES", p.allergies),
        ("Illness severity", _severity(p)),
        ("Patient summary", _summary_text(p)),
        ("Vitals / NEWS2", _lines(h, p.vitals, "No complete vitals set recorded")),
        ("Scales this shift", _lines(h, p.scales, "None recorded this shift")),
        ("PRN this shift", _lines(h, prn_lines, "No PRN doses this shift")),
        ("PRN next eligible", _lines(h, p.prn_next, "No active PRN orders")),
        ("Safety checks", _lines(h, p.safety, "No exceptions (none missed, late or back-dated)")),
        ("Escalations", _lines(h, p.escalations, "None this shift")),
        ("Notes", _lines(h, p.notes, "None this shift")),
        ("GAPS (not done)", gaps),
        ("Next due", _lines(h, p.next_due, "Nothing scheduled")),
        ("Action list / if … then", _actions(h, p)),
    ]
    text_width = width - _LABEL_WIDTH - 2 * _PADDING
    label_width = _LABEL_WIDTH - 2 * _PADDING
    rows = [[_wrap(f"Bed {p.bed} — {p.name}    MRN {p.mrn}", width - 2 * _PADDING, "Helvetica-Bold", 10), ""]]
    for number, (label, text) in enumerate(sections, start=1):
        font = "Helvetica-Bold" if number in _BOLD_ROWS else "Helvetica"
        rows.append([_wrap(label, label_width, "Helvetica-Bold"), _wrap(text, text_width, font)])
    table = Table(rows, colWidths=[_LABEL_WIDTH, width - _LABEL_WIDTH], repeatRows=1)
    table.setStyle(_PATIENT_STYLE)
    return table


# One style for every patient's table, built once; each cell-style command costs a pass over
# every cell it covers, so there are as few as the look needs (paddings stay ReportLab's).
_PATIENT_STYLE = TableStyle([
    ("FONT", (0, 0), (-1, -1), "Helvetica-Bold", 8, 9.6),
    ("FONT", (1, 3), (1, 10), "Helvetica", 8, 9.6),
    ("FONT", (1, 12), (1, 13), "Helvetica", 8, 9.6),
    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 10, 12),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("SPAN", (0, 0), (1, 0)),
    ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
    ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
    ("LINEBELOW", (0, 0), (-1, 0), 1.2, colors.black),
    ("BOX", (0, 11), (-1, 11), 1.2, colors.black),
    ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.88, 0.88, 0.88)),
])


def _summary(h: Handover, width: float) -> list:
    flow = [_p("Shift handover (I-PASS)" + (" — single patient" if h.single_patient else ""), _TITLE)]
    flow.append(_p(f"Gaps are what the due rules find overdue as of {h.time(h.as_of, day=True)} "
                   f"{h.as_of.astimezone(h.zone):%Z}; work not recorded is not shown as done."))
    flow.append(Spacer(1, 3 * mm))
    if h.census is not None:
        c = h.census
        by = ", ".join(f"{label} {c.by_severity[level]}" for level, label in
                       (("unstable", "unstable"), ("watcher", "watcher"), ("stable", "stable")))
        text_width = width - _LABEL_WIDTH - 12
        rows = [
            ["Census", f"{c.current} patients: {by}"],
            ["Admitted", _wrap(", ".join(c.admitted) or "none", text_width)],
            ["Discharged", _wrap(", ".join(c.discharged) or "none", text_width)],
            ["Transferred", _wrap(", ".join(c.transferred) or "none", text_width)],
        ]
        # One row per item, so a long list splits across pages.
        overdue = [_wrap(f"{MARK} Bed {bed} {name}: {line.text}", text_width)
                   for bed, name, line in h.overdue[:MAX_UNIT_OVERDUE]]
        if len(h.overdue) > MAX_UNIT_OVERDUE:
            overdue.append(f"… {len(h.overdue) - MAX_UNIT_OVERDUE} more in the patients' sections")
        overdue = overdue or ["None: the due rules found nothing overdue or missed"]
        rows += [["Overdue / missed" if i == 0 else "", item] for i, item in enumerate(overdue)]
        table = Table(rows, colWidths=[_LABEL_WIDTH, width - _LABEL_WIDTH])
        table.setStyle(_SUMMARY_STYLE)
        flow += [table, Spacer(1, 4 * mm)]
    return flow


_SUMMARY_STYLE = TableStyle([
    ("FONT", (0, 0), (-1, -1), "Helvetica", 8, 9.6),
    ("FONT", (0, 0), (0, -1), "Helvetica-Bold", 8, 9.6),
    ("GRID", (0, 0), (-1, 3), 0.4, colors.black),
    ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
    ("LINEAFTER", (0, 0), (0, -1), 0.4, colors.black),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("TOPPADDING", (0, 4), (-1, -1), 1),
    ("BOTTOMPADDING", (0, 4), (-1, -1), 1),
])


def _signature_block(h: Handover, width: float, signed: tuple[str, str, datetime] | None) -> Table:
    name, when = ("", "")
    if signed is not None:
        name = f"{_text(signed[0])} ({_text(signed[1])}), signed in the record"
        when = f"{signed[2].astimezone(h.zone):%d %b %H:%M}"
    rows = [[_p("Handed over by (outgoing)", _BOLD), _p(name), _p("Time", _BOLD), _p(when)],
            [_p("Accepted by (receiving)", _BOLD), _p(""), _p("Time", _BOLD), _p("")],
            [_p("Questions", _BOLD), _p(""), _p(""), _p("")]]
    table = Table(rows, colWidths=[45 * mm, width - 90 * mm, 15 * mm, 30 * mm], rowHeights=9 * mm)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                               ("SPAN", (1, 2), (3, 2)), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _numbered_canvas(h: Handover, printed: str):
    """Return a canvas class that draws header and footer once the page count is known."""

    class NumberedCanvas(pdf_canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):  # noqa: N802 (ReportLab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._frame(total)
                super().showPage()
            super().save()

        def _frame(self, total: int) -> None:
            width, height = self._pagesize
            left, right = 15 * mm, width - 15 * mm
            self.setFont("Helvetica-Bold", 9)
            self.drawString(left, height - 10 * mm, h.unit_name.translate(_PLAIN))
            self.setFont("Helvetica", 8)
            self.drawString(left, height - 14 * mm, h.shift_label.translate(_PLAIN))
            self.drawRightString(right, height - 10 * mm, printed.translate(_PLAIN))
            self.line(left, height - 15.5 * mm, right, height - 15.5 * mm)
            self.line(left, 13 * mm, right, 13 * mm)
            self.setFont("Helvetica", 7)
            self.drawString(left, 9 * mm, CONFIDENTIAL)
            self.setFont("Helvetica-Bold", 8)
            self.drawRightString(right, 9 * mm, f"Page {self._pageNumber} of {total}")

    return NumberedCanvas


def build_pdf(h: Handover, *, printed_by: str, printed_at: datetime,
              signed: tuple[str, str, datetime] | None = None) -> bytes:
    """Return the handover as PDF bytes: the unit summary first, then one table per patient.

    `signed` (name, role, time) fills the outgoing nurse's line of the copy stored at signing.
    """
    buffer = io.BytesIO()
    pagesize = PAGE_SIZES.get(h.paper_size, A4)
    doc = SimpleDocTemplate(
        buffer, pagesize=pagesize, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=19 * mm,
        bottomMargin=16 * mm, title=f"Handover {h.unit_name} {h.shift_label}", author=printed_by,
        invariant=1,
    )
    width = pagesize[0] - 30 * mm
    story = _summary(h, width)
    if not h.patients:
        story.append(_p("No current patients on the unit."))
    for patient in h.patients:
        story += [_patient_table(h, patient, width), Spacer(1, 4 * mm)]
    story.append(KeepTogether([_signature_block(h, width, signed)]))
    printed = f"Printed by {printed_by}, {printed_at.astimezone(h.zone):%d %b %Y %H:%M %Z}"
    doc.build(story, canvasmaker=_numbered_canvas(h, printed))
    return buffer.getvalue()
