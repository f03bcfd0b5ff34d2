"""Due entries drawn in Python: the link into the right form, the due time on the unit clock,
and the due list's rows.

Shared by the due list and the unit board, which draw these for every patient on every view and
refresh. As Jinja macros they took about a third of a board's render; here they are f-strings,
with every value from the record passed through `escape`.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from clinic.badges import status_badge
from clinic.duelist.services import PRN_EFFECT, SAFETY_CHECK, DueEntry
from clinic.routing import url_pattern
from clinic.timefmt import local_time


class DueLinks:
    """The form links of one page; saving a form opened from one returns to `back`."""

    def __init__(self, back: str):
        # Encoded as url_for would encode it.
        self._then = urlencode({"next": back}, safe="!$'()*,/:;?@")
        self._round = url_pattern("rounds.round", "unit_id")
        self._vitals = url_pattern("vitals.new", "admission_id")
        self._assessment = url_pattern("assessments.new", "admission_id")
        self._chart = url_pattern("admissions.chart", "admission_id")
        self._prn_effect = url_pattern("prn.effect", "admission_id", "dose_id")
        self._thiamine = url_pattern("safety.thiamine", "admission_id")

    def chart(self, admission) -> str:
        return self._chart(admission_id=admission.id)

    def form(self, entry: DueEntry) -> str:
        """Return the link into the right form for the right patient."""
        admission = entry.admission
        if entry.kind in (SAFETY_CHECK, "attestation"):
            return f"{self._round(unit_id=admission.unit_id)}?{self._then}#admission-{admission.id}"
        if entry.kind == PRN_EFFECT:
            return f"{self._prn_effect(admission_id=admission.id, dose_id=entry.target_id)}?{self._then}"
        if entry.kind == "thiamine":
            return f"{self._thiamine(admission_id=admission.id)}?{self._then}"
        if entry.kind == "vitals":
            return f"{self._vitals(admission_id=admission.id)}?{self._then}"
        return f"{self._assessment(admission_id=admission.id)}?scale={entry.kind}&{self._then}"


def due_clock(entry: DueEntry, zone: ZoneInfo, now: datetime) -> Markup:
    """Return the due time on the unit clock, with the date only when it is not today."""
    same_day = entry.due_at.astimezone(zone).date() == now.astimezone(zone).date()
    return Markup(f'<time datetime="{entry.due_at.isoformat()}">'
                  f'{escape(local_time(entry.due_at, zone, date=not same_day))}</time>')


def due_row(entry: DueEntry, links: DueLinks, zone: ZoneInfo, now: datetime) -> Markup:
    """Return one row of the due list: when, for whom, and the link to do it."""
    admission = entry.admission
    name, bed = escape(admission.patient.display_name), escape(admission.bed.label)
    form = escape(links.form(entry))
    # A patient may have several PRN effect checks open at once: each row keeps an id of its own.
    row_id = f"due-{escape(entry.kind)}-{admission.id}"
    if entry.target_id is not None:
        row_id += f"-{entry.target_id}"
    return Markup(
        f'<tr id="{row_id}" class="due-row due-row-{escape(entry.status)}">\n'
        f'  <td class="due-when">\n    {due_clock(entry, zone, now)}<br>\n'
        f'    {status_badge(entry)} <span class="due-words">{escape(entry.words)}</span>\n  </td>\n'
        f'  <td class="due-patient">\n    <a class="name" href="{links.chart(admission)}">{name}</a><br>\n'
        f'    <span>Bed {bed}</span>\n  </td>\n'
        f'  <td class="due-what">\n    <a class="due-link" href="{form}">{escape(entry.what)}'
        f'<span class="visually-hidden"> for {name}, bed {bed}</span></a>\n'
        f'    <p class="hint">{escape(entry.reason)}</p>\n  </td>\n</tr>'
    )
