"""Observation rounds: chart a check for several patients at once, missed checks, history, levels."""

from __future__ import annotations

import re
from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from clinic import audit
from clinic.auth.decorators import role_required
from clinic.board.services import choose_unit
from clinic.db import utc_now
from clinic.entries import ChartingError
from clinic.extensions import db
from clinic.models import Admission
from clinic.models.monitoring import SAFETY_ACTIVITIES, SAFETY_LOCATIONS
from clinic.rounds import bp, services
from clinic.rounds.forms import CheckRowForm, MissedNoteForm, ObservationLevelForm, RoundForm
from clinic.rounds.services import BACKDATE_MINUTES, RoundEntry, is_continuous, round_checks, row_field
from clinic.routing import CHARTING_ROLES, admission_or_404, local_now, safe_next, saved
from clinic.saved import flash_saved
from clinic.scoring.due import OBSERVATION_LEVELS
from clinic.timefmt import from_local

_ROW_FIELD = re.compile(r"^p([0-9]{1,9})-(location|activity|concern)$")
TIME_INPUT = "%Y-%m-%dT%H:%M"


def _row_form(admission_id: int, formdata=None) -> CheckRowForm:
    return CheckRowForm(formdata, prefix=row_field(admission_id))


def _saved_already(form: RoundForm, unit):
    count = len(round_checks(form.idempotency_key.data))
    flash(f"This round was already saved ({count} {'check' if count == 1 else 'checks'}); "
          "nothing was charted twice.", "info")
    return saved(form.idempotency_key.data, safe_next(url_for("rounds.round", unit_id=unit.id)))


def _strays(unit, shown: set[int]) -> list[Admission]:
    """Return admissions filled in on the form that are no longer listed (discharged, moved)."""
    ids = {int(m.group(1)) for key, value in request.form.items()
           if (m := _ROW_FIELD.match(key)) and value.strip()}
    missing = ids - shown
    if not missing:
        return []
    return list(db.session.scalars(
        select(Admission).options(joinedload(Admission.patient), joinedload(Admission.bed))
        .where(Admission.id.in_(missing))
    ))


def _place_error(error: ChartingError, form: RoundForm, rows: dict[int, CheckRowForm]) -> None:
    """Put a refusal next to the field or row it concerns, else at the top of the page."""
    target = getattr(form, error.field, None) if error.field else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, str(error)]
        return
    match = re.match(r"^p(\d+)(?:-(\w+))?$", error.field or "")
    row = rows.get(int(match.group(1))) if match else None
    if row is None:
        form.form_errors.append(str(error))
    elif match.group(2) and hasattr(row, match.group(2)):
        field = getattr(row, match.group(2))
        field.errors = [*field.errors, str(error)]
    else:
        row.row_errors.append(str(error))


def _save_round(form: RoundForm, unit, rows, row_forms: dict[int, CheckRowForm]):
    """Save the filled rows as one round and redirect, or leave the refusal on the forms (None)."""
    filled = [(r.admission, row_forms[r.admission.id]) for r in rows if row_forms[r.admission.id].touched]
    filled += [(a, _row_form(a.id, request.form)) for a in _strays(unit, set(row_forms))]
    if not filled:
        form.form_errors.append("Nothing to save: for each patient checked, tap where they were and "
                                "what they were doing.")
        return None
    # A time left as the page offered it means "now": a round walked slowly is not back-dated.
    checked_at = from_local(form.checked_at.data, unit.zone) if form.time_changed else utc_now()
    try:
        checks = services.record_round(
            by=current_user, unit=unit, round_key=form.idempotency_key.data,
            entries=[RoundEntry(a, f.location.data, f.activity.data, f.concern.data) for a, f in filled],
            checked_at=checked_at, backdate_reason=form.backdate_reason.data,
        )
        db.session.commit()
    except ChartingError as error:
        db.session.rollback()
        _place_error(error, form, row_forms)
        return None
    except IntegrityError:
        # A double tap raced past the check above: the other request saved this round.
        db.session.rollback()
        if round_checks(form.idempotency_key.data):
            return _saved_already(form, unit)
        raise
    count = len(checks)
    flash_saved("Safety checks" if count > 1 else "Safety check", [a.patient for a, _ in filled],
                f"checked at {checked_at.astimezone(unit.zone):%H:%M}")
    return saved(form.idempotency_key.data, safe_next(url_for("rounds.round", unit_id=unit.id)))


@bp.route("/units/<int:unit_id>/rounds", methods=["GET", "POST"])
@role_required(*CHARTING_ROLES)
def round(unit_id: int):
    unit = choose_unit(unit_id)
    now = utc_now()
    shift = unit.shift_for(now)
    rows, definition = services.round_rows(unit, now=now, shift=shift)
    posted = request.method == "POST"
    form = RoundForm()
    row_forms = {r.admission.id: _row_form(r.admission.id, request.form if posted else None) for r in rows}
    if not posted:
        form.checked_at.data = local_now(unit)
        form.checked_at_shown.data = form.checked_at.data.strftime(TIME_INPUT)
    status = 200
    if posted:
        status = 422
        round_valid = form.validate_on_submit()
        rows_valid = all([row.validate() for row in row_forms.values()])
        if round_valid and round_checks(form.idempotency_key.data):
            return _saved_already(form, unit)
        if round_valid and rows_valid:
            response = _save_round(form, unit, rows, row_forms)
            if response is not None:
                return response
    html = render_template(
        "rounds/round.html", unit=unit, rows=rows, form=form, row_forms=row_forms, now=now,
        error_ids={admission_id for admission_id, f in row_forms.items() if f.has_errors},
        shift=shift, definition=definition, levels=OBSERVATION_LEVELS, continuous=is_continuous,
        locations=SAFETY_LOCATIONS, activities=SAFETY_ACTIVITIES, backdate_minutes=BACKDATE_MINUTES,
        next_url=safe_next(""),
    )
    # Rendered first: the commit expires every loaded row, and re-reading them would cost a query each.
    audit.record(
        "view", object_type="rounds", object_id=unit.id,
        detail={"patients": [r.admission.patient_id for r in rows], "unit": unit.name},
    )
    db.session.commit()
    return html, status


def _parse_due_at(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


@bp.route("/admissions/<int:admission_id>/missed-checks", methods=["POST"])
@role_required(*CHARTING_ROLES)
def annotate_missed(admission_id: int):
    admission = admission_or_404(admission_id)
    form = MissedNoteForm()
    back = safe_next(url_for("rounds.history", admission_id=admission.id))
    error = None
    if form.validate_on_submit():
        due_at = _parse_due_at(form.due_at.data)
        try:
            if due_at is None:
                raise ChartingError("This missed check could not be identified; reload the page.")
            services.annotate_missed(by=current_user, admission=admission, due_at=due_at,
                                     reason=form.reason.data)
            db.session.commit()
        except ChartingError as refused:
            db.session.rollback()
            error = str(refused)
        except IntegrityError:
            db.session.rollback()
            error = "A note has already been recorded for this missed check; it cannot be replaced."
        else:
            flash_saved("Note on a missed check", admission.patient,
                        "the check stays shown as missed, with your note")
            return redirect(back)
    else:
        error = next(iter(e for errors in form.errors.values() for e in errors), "Not saved.")
    # Show the history with the refusal next to the window and the typed reason kept.
    return _render_history(admission, whole_stay=request.args.get("view") == "stay",
                           note_error=(form.due_at.data, error, form.reason.data), status=422)


def _render_history(admission, *, whole_stay: bool, note_error=None, status=200):
    now = utc_now()
    history = services.check_history(admission, now=now, whole_stay=whole_stay)
    shown = {line.window.due_at.isoformat() for line in history.lines if line.kind == "missed"}
    # A refusal about a window not on this page goes at the top instead of next to it.
    note_error_top = note_error[1] if note_error and note_error[0] not in shown else None
    html = render_template(
        "rounds/history.html", admission=admission, history=history, now=now,
        levels=OBSERVATION_LEVELS, locations=SAFETY_LOCATIONS, activities=SAFETY_ACTIVITIES,
        note_error=note_error, note_error_top=note_error_top,
        continuous=is_continuous(admission.observation_level, history.definition),
    )
    audit.record("view", object_type="safety_checks", object_id=admission.id,
                 patient_id=admission.patient_id,
                 detail={"page": "safety checks", "view": "stay" if whole_stay else "shift"})
    db.session.commit()
    return html, status


@bp.route("/admissions/<int:admission_id>/checks")
@role_required(*CHARTING_ROLES)
def history(admission_id: int):
    admission = admission_or_404(admission_id)
    return _render_history(admission, whole_stay=request.args.get("view") == "stay")


@bp.route("/admissions/<int:admission_id>/observation-level", methods=["GET", "POST"])
@role_required(*CHARTING_ROLES)
def observation_level(admission_id: int):
    admission = admission_or_404(admission_id)
    form = ObservationLevelForm()
    if request.method == "GET":
        # A proposal from the suicide-risk screen links here with its level and the risk tick.
        proposed = request.args.get("level")
        form.level.data = proposed if proposed in OBSERVATION_LEVELS else admission.observation_level
        form.for_risk.data = request.args.get("for_risk") == "1"
        if not admission.is_current:
            flash("This admission has ended; the observation level cannot be changed.", "error")
    if form.validate_on_submit():
        try:
            services.change_observation_level(by=current_user, admission=admission, level=form.level.data,
                                              reason=form.reason.data, for_risk=form.for_risk.data)
            db.session.commit()
        except ChartingError as error:
            db.session.rollback()
            target = getattr(form, error.field, None) if error.field else None
            (target.errors if target is not None else form.form_errors).append(str(error))
        else:
            flash_saved("Observation level", admission.patient,
                        f"now {OBSERVATION_LEVELS[admission.observation_level]}, from "
                        f"{admission.observation_level_since.astimezone(admission.unit.zone):%H:%M}")
            return redirect(safe_next(url_for("rounds.round", unit_id=admission.unit_id)))
    return render_template(
        "rounds/observation_level.html", form=form, admission=admission, levels=OBSERVATION_LEVELS,
        changes=services.level_changes(admission), next_url=safe_next(""),
        set_for_risk=services.level_set_for_risk(admission),
    ), (422 if form.errors or form.form_errors else 200)

