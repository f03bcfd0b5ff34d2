"""The board's lines on the suicide-risk screen, continuous observation and thiamine, as f-strings."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from clinic.models.patient import SUBSTANCES
from clinic.monitoring.safety import SafetyFacts
from clinic.scoring import safety
from clinic.scoring.due import OBSERVATION_LEVELS
from clinic.timefmt import local_time


def since_use_text(admission, now: datetime) -> str:
    """Return hours since last use of the primary substance and of each with an active scale, as
    plain text ("Alcohol 80 h since last use · Benzodiazepines 60 h since last use")."""
    shown = safety.hours_since_use(
        [(s.substance, s.is_primary, s.last_use_at) for s in admission.substances], admission.protocols, now)
    if not shown:
        return "last use unknown"
    return " · ".join(
        f"{SUBSTANCES.get(s.substance, s.substance)} "
        + (f"{s.hours} h since last use" if s.hours is not None else "last use unknown")
        for s in shown)


def since_use_words(admission, now: datetime) -> Markup:
    """Return `since_use_text` for a page."""
    return escape(since_use_text(admission, now))


_RISK_CLASS = {"high": "badge-allergy", "moderate": "badge-allergy", "low": "badge-warn"}


def board_lines(facts: SafetyFacts | None, zone: ZoneInfo, now: datetime) -> Markup:
    """Return the latest risk and its time, a pending review, a proposed level, missing hours."""
    if facts is None:
        return Markup("")
    parts = []
    screen = facts.screen
    if screen is None:
        parts.append('<span class="muted small suicide-risk">Suicide screen: none yet</span>')
    else:
        risk = screen.risk or "none"
        parts.append(f'<span class="badge {_RISK_CLASS.get(risk, "badge-muted")} suicide-risk">'
                     f'Suicide risk: {escape(risk)}</span> '
                     f'<span class="small">{local_time(screen.observed_at, zone, date=False)}</span>')
    if facts.review_pending is not None:
        at = local_time(facts.review_pending.observed_at, zone, date=False)
        parts.append('<span class="badge badge-allergy review-needed">⚠ Suicide screen: review needed</span> '
                     f'<span class="small">(yes at {at}; physician or charge nurse, this shift)</span>')
    if facts.proposed_level is not None:
        parts.append(f'<span class="badge badge-warn">Proposed observation level: '
                     f'{escape(OBSERVATION_LEVELS[facts.proposed_level])}</span>')
    missing = len(facts.missing_hours(now))
    if missing:
        parts.append(f'<span class="badge badge-warn">⚠ {missing} {"hour" if missing == 1 else "hours"} '
                     'of continuous observation not attested</span>')
    if facts.thiamine_prompted and facts.thiamine is None:
        parts.append('<span class="badge badge-warn">Thiamine: not yet recorded</span>')
    return Markup('<br>\n' + '<br>\n'.join(parts))
