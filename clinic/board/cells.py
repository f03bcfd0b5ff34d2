"""The unit board's cells, drawn in Python.

The board is drawn for every bed on every view and every minute's refresh. In Jinja, its rows
took about 150 µs each (a quarter of the whole request). Here they are f-strings, with every
value from the record passed through `escape` (Markup.format parses its template in Python,
and cost as much as Jinja did); links come from url_pattern, and are escaped where they carry
a query. The table around the cells, the empty beds and the page stay in templates/board/.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from jinja2.filters import do_truncate
from markupsafe import Markup, escape

from clinic.badges import allergy_badge, news2_badge, score_badge, status_badge, trend_arrow
from clinic.duelist.cells import DueLinks, due_clock
from clinic.duelist.services import BedDue
from clinic.models.patient import PROTOCOL_SHORT
from clinic.monitoring.queries import CurrentAdmission, Trend
from clinic.monitoring.services import PatientDue
from clinic.risk_flags import risk_badges
from clinic.routing import url_pattern
from clinic.safety.cells import board_lines, since_use_words
from clinic.scoring.due import DUE, OBSERVATION_LEVELS, OVERDUE
from clinic.timefmt import ago, local_time


@dataclass(frozen=True)
class BoardLine:
    """One occupied bed's row: its classes and the HTML of each cell."""

    classes: str
    patient: Markup
    news2: Markup
    scores: Markup
    next_due: Markup
    observation: Markup
    escalations: Markup


def _risk_line(flags: dict) -> Markup:
    return Markup(f'<br><span class="risk-flags">{risk_badges(flags)}</span>') if flags else Markup("")


class BoardCells:
    """Draws the cells of one board view; links are built from patterns made once per view."""

    def __init__(self, *, now: datetime, zone: ZoneInfo, links: DueLinks, due_list_url: str,
                 is_charge: bool):
        self.now, self.zone, self.links = now, zone, links
        self.due_list_url = due_list_url
        self.is_charge = is_charge
        self._vitals = url_pattern("vitals.show", "admission_id", "vitals_id")
        self._assessment = url_pattern("assessments.show", "admission_id", "assessment_id")
        self._escalation = url_pattern("escalations.show", "admission_id", "escalation_id")
        self._transfer = url_pattern("admissions.transfer", "admission_id")
        self._discharge = url_pattern("admissions.discharge", "admission_id")

    def line(self, admission: CurrentAdmission, *, scores: dict[str, Trend], due: BedDue,
             patient_due: PatientDue, escalations: list) -> BoardLine:
        next_entry = due.next
        classes = " ".join(filter(None, [
            "has-alert" if escalations else "",
            "has-overdue" if next_entry is not None and next_entry.status == OVERDUE else "",
        ]))
        return BoardLine(
            classes,
            patient=self.patient(admission) + _risk_line(patient_due.risk_flags),
            news2=self.news2(admission, scores.get("news2")),
            scores=self.scores(admission, scores),
            next_due=self.next_due(admission, due),
            observation=self.observation(admission, due, patient_due)
            + board_lines(patient_due.safety, self.zone, self.now),
            escalations=self.escalations(admission, escalations),
        )

    def _ago(self, at: datetime) -> str:
        return f'<span class="muted small ago">{ago(at, self.now)}</span>'

    def patient(self, admission: CurrentAdmission) -> Markup:
        patient = admission.patient
        since = since_use_words(admission, self.now)
        html = (
            f'<a class="name" href="{self.links.chart(admission)}">{escape(patient.display_name)}</a><br>\n'
            f'<span class="muted">MRN {escape(patient.mrn)} · {patient.age_on(self.now.date())} y · '
            f'{escape(patient.sex.capitalize())}</span><br>\n'
            f'{allergy_badge(patient.allergies)}<br>\n'
            f'<strong>Day {admission.detox_day(self.now)}</strong> · {since}\n'
            f'<span class="muted small">({escape(admission.substance_labels)})</span>'
        )
        if self.is_charge:
            transfer = self._transfer(admission_id=admission.id)
            discharge = self._discharge(admission_id=admission.id)
            html += (f'\n<br><span class="bed-actions small"><a href="{transfer}">Transfer</a> ·\n'
                     f'<a href="{discharge}">Discharge</a></span>')
        return Markup(html)

    def news2(self, admission: CurrentAdmission, trend: Trend | None) -> Markup:
        if trend is None or trend.latest is None:
            return Markup('<span class="muted">No complete set</span>')
        latest = trend.latest
        link = self._vitals(admission_id=admission.id, vitals_id=latest.id)
        return Markup(
            f'<a href="{link}">{news2_badge(latest.total, latest.band, latest.flags or {})}</a>\n'
            f'{trend_arrow(trend.direction)}<br>{self._ago(latest.observed_at)}'
        )

    def scores(self, admission: CurrentAdmission, scores: dict[str, Trend]) -> Markup:
        items = []
        for code in admission.protocols:
            if code == "vitals":
                continue
            trend = scores.get(code)
            if trend is not None and trend.latest is not None:
                latest = trend.latest
                link = self._assessment(admission_id=admission.id, assessment_id=latest.id)
                shown = (f'<a href="{link}">{score_badge(latest)}</a>\n'
                         f'{trend_arrow(trend.direction)} {self._ago(latest.observed_at)}')
            else:
                shown = '<span class="muted">not yet</span>'
            items.append(f'<li><span class="scale-name">{escape(PROTOCOL_SHORT.get(code, code))}:</span>\n'
                         f'{shown}</li>')
        return Markup('<ul class="plain scores">\n' + "\n".join(items) + "\n</ul>")

    def next_due(self, admission: CurrentAdmission, due: BedDue) -> Markup:
        entry = due.next
        if entry is None:
            return Markup('<span class="muted">Nothing scheduled</span>')
        html = (
            f'{status_badge(entry)}\n<a href="{escape(self.links.form(entry))}">{escape(entry.label)}'
            f'<span class="visually-hidden"> for {escape(admission.patient.display_name)}</span></a><br>\n'
            f'<span class="due-words">{escape(entry.words)}</span> '
            f'<span class="muted small">({due_clock(entry, self.zone, self.now)})</span>'
        )
        if due.more:
            html += (f'\n<br><a class="small" href="{escape(self.due_list_url)}">'
                     f'+{due.more} more due within the hour</a>')
        return Markup(html)

    def observation(self, admission: CurrentAdmission, due: BedDue, patient_due: PatientDue) -> Markup:
        schedule = patient_due.checks
        level = admission.observation_level
        parts = [f'<span class="obs-level">{escape(OBSERVATION_LEVELS.get(level, level))}</span><br>']
        if schedule is not None and schedule.last_check is not None:
            last = schedule.last_check
            parts.append(f'<span class="small">Last check {local_time(last, self.zone, date=False)}</span>\n'
                         f'<span class="muted small ago">({ago(last, self.now)})</span>')
        else:
            parts.append('<span class="muted small">No check this shift</span>')
        check = due.check
        if check is not None and check.status == OVERDUE:
            parts.append('<br><span class="badge due-badge due-overdue">⚠ Check overdue</span> '
                         f'<span class="small">{escape(check.words)}</span>')
        elif check is not None and check.status == DUE and check.due_in_minutes == 0:
            parts.append('<br><span class="badge due-badge due-now">Check due now</span>')
        if schedule is not None and schedule.missed:
            missed = len(schedule.missed)
            parts.append(f'<br><span class="badge badge-warn">⚠ {missed} missed this shift</span>')
            noted = sum(1 for window in schedule.missed if window.due_at in patient_due.missed_notes)
            if noted:
                parts.append(f' <span class="muted small">({noted} with a note)</span>')
        return Markup("\n".join(parts))

    def escalations(self, admission: CurrentAdmission, escalations: list) -> Markup:
        if not escalations:
            return Markup('<span class="muted">None</span>')
        lines = []
        for e in escalations:
            link = self._escalation(admission_id=admission.id, escalation_id=e.id)
            reason = do_truncate(current_app.jinja_env, e.reason, 60)
            # One colour per severity on every page: emergency red, urgent amber (as the escalations list).
            tone = "badge-allergy" if e.level == "emergency" else "badge-warn"
            lines.append(f'<p class="escalation-line"><span class="badge {tone}">⚠ '
                         f'{escape(e.level.capitalize())}</span>\n<a href="{link}">{escape(reason)}</a>\n'
                         f'{self._ago(e.raised_at)}</p>')
        return Markup("\n".join(lines))
