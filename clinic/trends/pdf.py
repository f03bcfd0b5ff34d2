"""The timeline on paper: the same Drawing as the page, on A4 or Letter."""

from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus.flowables import Flowable

from clinic.db import utc_now
from clinic.trends import chart
from clinic.trends.model import Timeline, when

MARGIN = 12 * mm
CONFIDENTIAL = "Confidential patient information: keep secure, shred when no longer needed."


class _Scaled(Flowable):
    """A drawing shrunk, if need be, to the frame it is placed in."""

    def __init__(self, drawing):
        super().__init__()
        self.drawing = drawing

    def wrap(self, avail_width, avail_height):
        self.scale = min(1.0, avail_width / self.drawing.width, avail_height / self.drawing.height)
        return self.drawing.width * self.scale, self.drawing.height * self.scale

    def draw(self):
        self.canv.scale(self.scale, self.scale)
        self.drawing.drawOn(self.canv, 0, 0)


class _NumberedCanvas:
    """Page x of y needs the page count, known only once every page is laid out."""

    @staticmethod
    def make(footer: str):
        from reportlab.pdfgen.canvas import Canvas

        class NumberedCanvas(Canvas):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self._pages = []

            def showPage(self):
                self._pages.append(dict(self.__dict__))
                self._startPage()

            def save(self):
                total = len(self._pages)
                for state in self._pages:
                    self.__dict__.update(state)
                    width, _height = self._pagesize
                    self.setFont("Helvetica", 7)
                    self.drawString(MARGIN, 6 * mm, footer)
                    self.drawRightString(width - MARGIN, 6 * mm, f"Page {self._pageNumber} of {total}")
                    self.drawString(MARGIN, 3 * mm, CONFIDENTIAL)
                    super().showPage()
                super().save()

        return NumberedCanvas


def _days_key(timeline: Timeline) -> str:
    """Say what a short day label stands for: on A4 a fortnight's days have room for "D5" only."""
    key = "dashed lines: detox days (D5: day 5), each 24 h after admission or the day before"
    hours = timeline.hours_since_use(timeline.admitted_at)
    if hours is not None:
        key += f"; day 1 began {hours} h after last use"
    return key


def timeline_pdf(admission, timeline: Timeline, rows, *, printed_by: str, paper: str = "a4") -> bytes:
    """Return the PDF of the timeline for `admission`."""
    pagesize = LETTER if paper == "letter" else A4
    buffer = BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=pagesize, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=12 * mm,
                            title=f"Trends: {admission.patient.display_name}", author=printed_by)
    styles = getSampleStyleSheet()
    patient = admission.patient
    zone = timeline.zone
    heading = (f"<b>{escape(patient.display_name)}</b> · MRN {escape(patient.mrn)} · "
               f"born {patient.date_of_birth.strftime('%d %b %Y')} · {escape(admission.unit.name)} bed "
               f"{escape(admission.bed.label)}")
    allergies = f"Allergies: {escape(patient.allergies)}"
    span = (f"Trends {when(timeline.start, zone)} – {when(timeline.end, zone)} "
            f"({timeline.end.astimezone(zone).strftime('%Z')})")
    if rows.reviews:
        last = rows.reviews[0]
        span += f" · last reviewed {when(last.reviewed_at, zone)} by {escape(last.author)}"
    else:
        span += " · not reviewed yet"
    drawing = chart.build(timeline, chart.ChartSize(width=doc.width, panel=44, font=7, interactive=False))
    story = [Paragraph(heading, styles["Normal"]), Paragraph(allergies, styles["Normal"]),
             Paragraph(span, styles["Normal"]), Spacer(1, 3 * mm), _Scaled(drawing),
             Paragraph("● normal · ■ outside normal · hollow square: corrected value · lines break where "
                       "a reading came later than expected · " + _days_key(timeline), styles["Italic"])]
    footer = (f"{admission.unit.name} · printed {when(utc_now(), zone)} "
              f"{utc_now().astimezone(zone).strftime('%Z')} by {printed_by}")
    doc.build(story, canvasmaker=_NumberedCanvas.make(footer))
    return buffer.getvalue()
