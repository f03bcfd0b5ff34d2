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

# Helvetica's encoding lacks these; say them in plain characters rather than print black boxes.
_PLAIN = str.maketrans({"≥": ">=", "≤": "<=", "→": "->", "↑": "up", "↓": "down", "✓": "ok"})

_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=8, leading=9.6)
_BOLD = ParagraphStyle("bold", parent=_BODY, fontName="Helvetica-Bold")
_TITLE = ParagraphStyle("title", parent=_BODY, fontName="Helvetica-Bold", fontSize=13, leading=16,
                        spaceAfter=4)
_HEAD = ParagraphStyle("head", parent=_BODY, fontName="Helvetica-Bold", fontSize=10, leading=12)


def _text(value: str) -> str:
    return escape(value.translate(_PLAIN))


def _p(value: str, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(value, style)


def _lines(h: Handover, lines: list[Line], empty: str) -> Paragraph:
    """Return a section's lines as one paragraph, at most MAX_LINES, the rest counted."""
    if not lines:
        return _p(_text(empty))
    shown = [
        (f"<b>{MARK}</b> " if line.alert else "") + (f"{h.time(line.at)} " if line.at else "")
        + _text(line.text)
        for line in lines[:MAX_LINES]
    ]
    if len(lines) > MAX_LINES:
        shown.append(f"<i>… {len(lines) - MAX_LINES} more not printed: see the chart</i>")
    return _p("<br/>".join(shown))


def _actions(h: Handover, p: PatientHandover) -> Paragraph:
    rows = [
        f"To do: {_text(a.text)}" + (f" — {_text(a.owner)}" if a.owner else "")
        + (f", by {h.time(a.due_at)}" if a.due_at else "") for a in p.actions
    ] + [f"If … then: {_text(c.text)}" for c in p.contingencies]
    return _p("<br/>".join(rows) if rows else "None added")


def _gaps(h: Handover, p: PatientHandover) -> Paragraph:
    if p.gaps:
        return _lines(h, p.gaps, "")
    return _p(f"None: the due rules found nothing overdue or missed as of {h.time(h.as_of)}")


def _patient_table(h: Handover, p: PatientHandover, width: float) -> Table:
    severity = f"<b>{p.level_label.upper()}</b>"
    if p.adjusted:
        severity += (f" (adjusted by {_text(p.adjusted[2])}: {_text(p.adjusted[1])}; "
                     f"suggested {p.suggested.label.lower()})")
    elif p.suggested.reasons:
        severity += " — suggested: " + _text("; ".join(p.suggested.reasons))
    else:
        severity += " — suggested: nothing in the record raises concern"
    hours = f"{p.hours_since_last_use} h since last use" if p.hours_since_last_use is not None else \
        "last use unknown"
    summary = (f"{p.age} y, {_text(p.sex)}. Day {p.detox_day}, {hours}. Substances: "
               f"{_text(', '.join(p.substances) or 'none recorded')}. Protocols: "
               f"{_text(', '.join(p.protocols) or 'none')}. Observation: {_text(p.observation_level)}. "
               f"Attending: {_text(p.attending or 'not recorded')}.")
    if p.risk_flags:
        summary += f" <b>Risk: {_text('; '.join(p.risk_flags))}</b>"
    prn_lines = p.prn if p.prn_available else [Line(None, "PRN record not available in this build")]
    rows = [
        [_p(f"Bed {_text(p.bed)} — {_text(p.name)}&nbsp;&nbsp;&nbsp;<font size=9>MRN {_text(p.mrn)}</font>",
            _HEAD), ""],
        [_p("ALLERGIES", _BOLD), _p(f"<b>{_text(p.allergies)}</b>")],
        [_p("Illness severity", _BOLD), _p(severity)],
        [_p("Patient summary", _BOLD), _p(summary)],
        [_p("Vitals / NEWS2", _BOLD), _lines(h, p.vitals, "No complete vitals set recorded")],
        [_p("Scales this shift", _BOLD), _lines(h, p.scales, "None recorded this shift")],
        [_p("PRN this shift", _BOLD), _lines(h, prn_lines, "No PRN doses this shift")],
        [_p("PRN next eligible", _BOLD), _lines(h, p.prn_next, "No active PRN orders")],
        [_p("Safety checks", _BOLD), _lines(h, p.safety, "No exceptions (none missed, late or back-dated)")],
        [_p("Escalations", _BOLD), _lines(h, p.escalations, "None this shift")],
        [_p("Notes", _BOLD), _lines(h, p.notes, "None this shift")],
        [_p("GAPS (not done)", _BOLD), _gaps(h, p)],
        [_p("Next due", _BOLD), _lines(h, p.next_due, "Nothing scheduled")],
        [_p("Action list / if … then", _BOLD), _actions(h, p)],
    ]
    table = Table(rows, colWidths=[32 * mm, width - 32 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("SPAN", (0, 0), (1, 0)),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
        ("LINEBELOW", (0, 0), (-1, 0), 1.2, colors.black),
        ("BOX", (0, 11), (-1, 11), 1.2, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.88, 0.88, 0.88)),
    ]))
    return table


def _summary(h: Handover, width: float) -> list:
    flow = [_p("Shift handover (I-PASS)" + (" — single patient" if h.single_patient else ""), _TITLE)]
    flow.append(_p(f"Gaps are what the due rules find overdue as of {h.time(h.as_of, day=True)} "
                   f"{h.as_of.astimezone(h.zone):%Z}; work not recorded is not shown as done."))
    flow.append(Spacer(1, 3 * mm))
    if h.census is not None:
        c = h.census
        by = ", ".join(f"{label} {c.by_severity[level]}" for level, label in
                       (("unstable", "unstable"), ("watcher", "watcher"), ("stable", "stable")))
        rows = [
            [_p("Census", _BOLD), _p(f"{c.current} patients: {by}")],
            [_p("Admitted", _BOLD), _p(_text(", ".join(c.admitted) or "none"))],
            [_p("Discharged", _BOLD), _p(_text(", ".join(c.discharged) or "none"))],
            [_p("Transferred", _BOLD), _p(_text(", ".join(c.transferred) or "none"))],
        ]
        overdue = [f"<b>{MARK}</b> Bed {_text(bed)} {_text(name)}: {_text(line.text)}"
                   for bed, name, line in h.overdue[:60]]
        if len(h.overdue) > 60:
            overdue.append(f"… {len(h.overdue) - 60} more in the patients' sections")
        rows.append([_p("Overdue or missed on the unit", _BOLD),
                     _p("<br/>".join(overdue) if overdue else "None: the due rules found nothing overdue or missed")])
        table = Table(rows, colWidths=[32 * mm, width - 32 * mm])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                                   ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        flow += [table, Spacer(1, 4 * mm)]
    return flow


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
