"""Badges for scores, trends, allergies and due times, shared by every page that shows them.

Python rather than Jinja macros: the unit board draws several per bed on every refresh, and a
function returning Markup costs a fraction of a macro call. f-strings with `escape` on every
value, as Markup.format parses its template in Python on each call. Registered as template
globals.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from clinic.scoring import ciwa_ar, ciwa_b, cows
from clinic.scoring.due import DUE, OVERDUE
from clinic.scoring.news2 import PARAMETER_LABELS, missing_from_points
from clinic.scoring.scale import band_label

#: Allergy entries that mean "none known", shown without a warning.
NO_KNOWN_ALLERGIES = ("nkda", "no known drug allergies", "no known allergies", "none known")


def news2_badge(total: int | None, band: str | None, points: dict | None = None) -> Markup:
    """Return the NEWS2 total and band; a partial set says so, names what is missing (given its
    points) and the least band its parameters present imply, never "low"."""
    if total is None:
        missing = ""
        if points is not None:
            names = ", ".join(PARAMETER_LABELS[name] for name in missing_from_points(points))
            missing = f' <span class="small">(missing: {escape(names)})</span>'
        if band is None:
            return Markup(f'<span class="badge badge-muted">NEWS2 incomplete{missing}</span>')
        return Markup(f'<span class="badge news2-{escape(band.replace(" ", "-"))}">NEWS2 incomplete · '
                      f'at least {escape(band)}{missing}</span>')
    return Markup(f'<span class="badge news2-{escape((band or "").replace(" ", "-"))}">'
                  f'NEWS2 {escape(total)} · {escape(band)}</span>')


_RISK_STYLE = {"high": "badge-allergy", "moderate": "badge-allergy", "low": "badge-warn"}


#: Each banded scale's published bands, for the range its badge shows beside the band name.
_SCALE_BANDS = {"ciwa_ar": ciwa_ar.DEFAULT_BANDS, "cows": cows.DEFAULT_BANDS, "ciwa_b": ciwa_b.DEFAULT_BANDS}


def score_badge(result) -> Markup:
    """Return a scale result (an assessment or a row with its columns): total and band, the
    ketamine checklist's burden and flags, or "unable to assess"."""
    if result.outcome == "unable":
        return Markup('<span class="badge badge-warn">Unable to assess</span>')
    if result.scale == "suicide_screen":
        risk = result.suicide_risk or "none"
        style = _RISK_STYLE.get(risk, "badge-muted")
        return Markup(f'<span class="badge {style}">Suicide risk: {escape(risk)}</span>')
    if result.scale == "ketamine":
        flags = result.flags
        if not flags:
            return Markup(f'<span class="badge badge-muted">Burden {escape(result.total)}</span>')
        return Markup(f'<span class="badge badge-allergy">Burden {escape(result.total)} · ⚑ {len(flags)} '
                      f'flag{"s" if len(flags) > 1 else ""}</span>')
    band_class = escape((result.band or "").replace(" ", "-"))
    # The published band names stay ("mild" at CIWA-Ar 0); the range says what the name covers.
    bands = _SCALE_BANDS.get(result.scale)
    band = band_label(result.total, result.band, bands) if bands and result.band else result.band
    return Markup(f'<span class="badge band-{band_class}">'
                  f'{escape(result.total)} · {escape(band)}</span>')


_ARROWS = {
    "up": Markup('<span class="trend trend-up" title="higher than the previous score">▲ '
                 '<span class="visually-hidden">rising</span></span>'),
    "down": Markup('<span class="trend trend-down" title="lower than the previous score">▼ '
                   '<span class="visually-hidden">falling</span></span>'),
    "same": Markup('<span class="trend" title="same as the previous score">= '
                   '<span class="visually-hidden">unchanged</span></span>'),
}


def trend_arrow(direction: str | None) -> Markup:
    """Return ▲, ▼ or = with words for screen readers; nothing when there is no previous score."""
    return _ARROWS.get(direction, Markup(""))


def allergy_badge(allergies: str | None) -> Markup:
    """Return the allergies, a warning when they are not recorded, muted when none are known."""
    text = (allergies or "").strip()
    if not text:
        return Markup('<span class="badge badge-warn">⚠ Allergies not recorded</span>')
    if text.lower() in NO_KNOWN_ALLERGIES:
        return Markup(f'<span class="badge badge-muted">{escape(text)}</span>')
    return Markup(f'<span class="badge badge-allergy">⚠ Allergy: {escape(text)}</span>')


def status_badge(entry) -> Markup:
    """Return a due entry's state: overdue, due now or due soon; nothing when later."""
    if entry.status == OVERDUE:
        return Markup('<span class="badge due-badge due-overdue">⚠ Overdue</span>')
    if entry.status == DUE and entry.due_in_minutes == 0:
        return Markup('<span class="badge due-badge due-now">Due now</span>')
    if entry.status == DUE:
        return Markup('<span class="badge due-badge due-soon">Due soon</span>')
    return Markup("")


TEMPLATE_GLOBALS = {
    f.__name__: f for f in (news2_badge, score_badge, trend_arrow, allergy_badge, status_badge)
}
TEMPLATE_GLOBALS["news2_labels"] = PARAMETER_LABELS
