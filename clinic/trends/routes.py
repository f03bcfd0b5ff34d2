"""Trend pages: timeline, flowsheet and day summaries (clinical staff), review sign-off (physician)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from clinic import audit
from clinic.auth.decorators import role_required
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Admission
from clinic.models.user import CLINICAL_ROLES
from clinic.monitoring.services import definition_for
from clinic.saved import flash_saved
from clinic.timefmt import from_local, to_local_input
from clinic.trends import bp, chart, pdf, queries
from clinic.trends.board import REVIEW_OVERDUE
from clinic.trends.flowsheet import build_flowsheet
from clinic.trends.forms import ReviewForm
from clinic.trends.model import VITALS, build_timeline, day_summaries
from clinic.trends.services import ReviewError, record_review

RANGES = {"shift": "This shift", "24h": "24 h", "72h": "72 h", "stay": "Whole stay", "custom": "Chosen range"}
DEFAULT_RANGE = "72h"
SCORE_LABELS = {"news2": "NEWS2", "ciwa_ar": "CIWA-Ar", "cows": "COWS", "ciwa_b": "CIWA-B",
                "ketamine": "Ketamine checklist (unvalidated)"}
#: The flowsheet shows at most this much per page, paging back through the stay.
FLOWSHEET_PAGE = timedelta(hours=72)


@dataclass(frozen=True)
class Window:
    code: str
    start: datetime
    end: datetime
    error: str | None = None


def _load(admission_id: int) -> Admission:
    admission = queries.load_admission(admission_id)
    if admission is None:
        abort(404)
    return admission


def _stay_end(admission: Admission, now: datetime) -> datetime:
    return admission.discharged_at if admission.discharged_at is not None else now


def _parse_local(text: str, admission: Admission) -> datetime | None:
    try:
        return from_local(datetime.strptime(text, "%Y-%m-%dT%H:%M"), admission.unit.zone)
    except (TypeError, ValueError):
        return None


def choose_window(admission: Admission, args, now: datetime) -> Window:
    """Return the time range asked for, within the stay (72 h when the request names none)."""
    code = args.get("range", DEFAULT_RANGE)
    end = _stay_end(admission, now)
    error = None
    if code == "custom":
        start = _parse_local(args.get("from", ""), admission)
        chosen_end = _parse_local(args.get("to", ""), admission)
        if start is None or chosen_end is None:
            error = "Give both the start and the end of the range (date and time)."
        elif chosen_end <= start:
            error = "The end of the range must be after its start."
        else:
            end = min(max(chosen_end, admission.admitted_at + timedelta(minutes=1)), end)
            return Window(code, max(min(start, end - timedelta(minutes=1)), admission.admitted_at), end)
        code = DEFAULT_RANGE
    if code == "shift":
        start = admission.unit.shift_for(end).starts_at
    elif code == "24h":
        start = end - timedelta(hours=24)
    elif code == "stay":
        start = admission.admitted_at
    else:
        code, start = DEFAULT_RANGE, end - timedelta(hours=72)
    start = max(start, admission.admitted_at)
    if end - start < timedelta(minutes=1):
        end = start + timedelta(minutes=1)
    return Window(code, start, end, error)


def _audit_view(admission: Admission, page: str, window: Window, action: str = "view") -> None:
    audit.record(action, object_type="admission", object_id=admission.id, patient_id=admission.patient_id,
                 detail={"page": page, "range": window.code, "from": window.start.isoformat(),
                         "to": window.end.isoformat()})


def _timeline_for(admission: Admission, window: Window):
    definition, _version = definition_for(admission.unit)
    rows = queries.trend_rows(admission, window.start, window.end)
    return rows, build_timeline(admission, rows, definition)


def _common(admission: Admission, window: Window, rows, tab: str) -> dict:
    zone = admission.unit.zone
    return dict(admission=admission, window=window, ranges=RANGES, tab=tab, now=utc_now(),
                review_overdue=REVIEW_OVERDUE, zone=zone,
                reviews=rows.reviews,
                review_form=ReviewForm() if current_user.has_role("physician") else None,
                from_value=to_local_input(window.start, zone), to_value=to_local_input(window.end, zone),
                range_args={"range": window.code} | ({"from": to_local_input(window.start, zone),
                                                        "to": to_local_input(window.end, zone)}
                                                       if window.code == "custom" else {}))


@bp.route("/admissions/<int:admission_id>/trends")
@role_required(*CLINICAL_ROLES)
def timeline(admission_id: int):
    admission = _load(admission_id)
    window = choose_window(admission, request.args, utc_now())
    rows, timeline = _timeline_for(admission, window)
    drawing = chart.build(timeline)
    svg = chart.to_svg(drawing, f"Timeline of {admission.patient.display_name}")
    page = render_template("trends/timeline.html", svg=svg, timeline=timeline,
                           **_common(admission, window, rows, "timeline"))
    _audit_view(admission, "trends", window)
    db.session.commit()
    return page


@bp.route("/admissions/<int:admission_id>/trends/flowsheet")
@role_required(*CLINICAL_ROLES)
def flowsheet(admission_id: int):
    admission = _load(admission_id)
    window = choose_window(admission, request.args, utc_now())
    page_end = window.end
    before = _parse_local(request.args.get("before", ""), admission)
    if before is not None and window.start < before < window.end:
        page_end = before
    page_start = max(window.start, page_end - FLOWSHEET_PAGE)
    paged = Window(window.code, page_start, page_end, window.error)
    rows, timeline = _timeline_for(admission, paged)
    sheet = build_flowsheet(timeline)
    zone = admission.unit.zone
    older = to_local_input(page_start, zone) if page_start > window.start else None
    newer_end = page_end + FLOWSHEET_PAGE
    newer = None
    if page_end < window.end:
        newer = "" if newer_end >= window.end else to_local_input(newer_end, zone)
    page = render_template("trends/flowsheet.html", sheet=sheet, page_start=page_start, page_end=page_end,
                           older=older, newer=newer, **_common(admission, window, rows, "flowsheet"))
    _audit_view(admission, "flowsheet", paged)
    db.session.commit()
    return page


@bp.route("/admissions/<int:admission_id>/trends/days")
@role_required(*CLINICAL_ROLES)
def days(admission_id: int):
    admission = _load(admission_id)
    window = choose_window(admission, request.args, utc_now())
    rows, timeline = _timeline_for(admission, window)
    summaries = day_summaries(admission, timeline, _stay_end(admission, utc_now()))
    page = render_template("trends/days.html", summaries=summaries, timeline=timeline, fmt=_fmt,
                           vital_rows=[v for v in VITALS if v[0] != "news2"], score_labels=SCORE_LABELS,
                           **_common(admission, window, rows, "days"))
    _audit_view(admission, "day summaries", window)
    db.session.commit()
    return page


def _fmt(number) -> str:
    """Show a summary number without trailing zeros (a median of 91.50 reads 91.5)."""
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


@bp.route("/admissions/<int:admission_id>/trends.pdf")
@role_required(*CLINICAL_ROLES)
def timeline_pdf(admission_id: int):
    admission = _load(admission_id)
    window = choose_window(admission, request.args, utc_now())
    paper = "letter" if request.args.get("paper") == "letter" else "a4"
    rows, timeline = _timeline_for(admission, window)
    body = pdf.timeline_pdf(admission, timeline, rows, printed_by=current_user.display_name, paper=paper)
    _audit_view(admission, "trends pdf", window, action="print")
    db.session.commit()
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="trends-{admission.patient.mrn}.pdf"',
        "Cache-Control": "no-store",
    })


@bp.route("/admissions/<int:admission_id>/trends/review", methods=["POST"])
@role_required("physician")
def review(admission_id: int):
    admission = _load(admission_id)
    form = ReviewForm()
    back = url_for("trends.timeline", admission_id=admission.id, **{
        k: v for k, v in request.args.items() if k in {"range", "from", "to"}})
    if form.validate_on_submit():
        try:
            record_review(by=current_user, admission=admission, comment=form.comment.data,
                          idempotency_key=form.idempotency_key.data)
            db.session.commit()
        except ReviewError as error:
            db.session.rollback()
            flash(str(error), "error")
        except IntegrityError:
            # The same form submitted twice at once: the other request saved it.
            db.session.rollback()
        else:
            flash_saved("Trends review", admission.patient)
            return redirect(back)
    # An invalid comment: show the timeline again with the message and what was typed.
    window = choose_window(admission, request.args, utc_now())
    rows, timeline = _timeline_for(admission, window)
    svg = chart.to_svg(chart.build(timeline), f"Timeline of {admission.patient.display_name}")
    context = _common(admission, window, rows, "timeline")
    context["review_form"] = form
    page = render_template("trends/timeline.html", svg=svg, timeline=timeline, **context)
    _audit_view(admission, "trends", window)
    db.session.commit()
    return page, 422
