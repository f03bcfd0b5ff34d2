"""Administration views: accounts, roles and sessions; units, shift patterns and beds."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from clinic.admin import bp, services
from clinic.admin.forms import (
    BedForm,
    EditUserForm,
    NewUserForm,
    ResetPasswordForm,
    UnitForm,
    due_rules_form,
)
from clinic.auth.decorators import role_required
from clinic.auth.policy import MIN_PASSWORD_LENGTH
from clinic.extensions import db
from clinic.forms import EmptyForm
from clinic.models import Bed, Unit, User, UserSession


@bp.context_processor
def _admin_context():
    return {"min_password_length": MIN_PASSWORD_LENGTH}


def _load(model, object_id: int):
    row = db.session.get(model, object_id)
    if row is None:
        abort(404)
    return row


def _attach_error(form, error: services.AdminError) -> None:
    """Put a refused rule's message next to its field, or at the top of the page."""
    target = getattr(form, error.field, None) if error.field and form is not None else None
    if target is not None:
        target.errors = [*target.errors, str(error)]
    else:
        flash(str(error), "error")


# --- Users -------------------------------------------------------------------------------


@bp.route("/users")
@role_required("admin")
def users():
    return render_template("admin/users.html", rows=services.list_users())


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def new_user():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                by=current_user, username=form.username.data, display_name=form.display_name.data,
                role=form.role.data, password=form.password.data,
            )
            db.session.commit()
        except services.AdminError as error:
            db.session.rollback()
            _attach_error(form, error)
        except IntegrityError:
            db.session.rollback()
            form.username.errors.append("That user name has just been taken. Choose another.")
        else:
            flash(f"Created {user.role_label.lower()} account “{user.username}”.", "success")
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_new.html", form=form), (422 if form.errors else 200)


def _render_user(user: User, status: int = 200):
    return render_template(
        "admin/user.html", user=user, sessions=services.live_sessions(user),
        current_session=g.get("user_session"), button_form=EmptyForm(),
    ), status


@bp.route("/users/<int:user_id>")
@role_required("admin")
def user(user_id: int):
    return _render_user(_load(User, user_id))


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit_user(user_id: int):
    user = _load(User, user_id)
    form = EditUserForm(obj=user)
    if form.validate_on_submit():
        try:
            renamed = services.rename_user(
                by=current_user, user=user, display_name=form.display_name.data
            )
            role_changed = services.change_role(by=current_user, user=user, role=form.role.data)
            db.session.commit()
        except services.AdminError as error:
            db.session.rollback()
            _attach_error(form, error)
        else:
            if role_changed:
                flash(f"{user.display_name} is now {user.role_label.lower()}.", "success")
            elif renamed:
                flash(f"Saved the name “{user.display_name}”.", "success")
            else:
                flash("Nothing changed.", "info")
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_edit.html", form=form, user=user), (
        422 if form.errors else 200
    )


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@role_required("admin")
def deactivate_user(user_id: int):
    return _account_action(user_id, services.deactivate_user)


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@role_required("admin")
def reactivate_user(user_id: int):
    return _account_action(user_id, services.reactivate_user)


def _account_action(user_id: int, action):
    user = _load(User, user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        ended = action(by=current_user, user=user)
        db.session.commit()
    except services.AdminError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _render_user(user, 422)
    if user.active:
        flash(f"{user.display_name} can log in again.", "success")
    else:
        flash(
            f"{user.display_name} is deactivated; {_sessions_phrase(ended)} ended. "
            "Their entries stay on the record under their name.",
            "success",
        )
    return redirect(url_for("admin.user", user_id=user.id))


def _sessions_phrase(count: int) -> str:
    return "1 session was" if count == 1 else f"{count} sessions were"


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@role_required("admin")
def reset_password(user_id: int):
    user = _load(User, user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            ended = services.reset_password(
                by=current_user, user=user, password=form.password.data,
                keep_session=g.get("user_session") if user.id == current_user.id else None,
            )
            db.session.commit()
        except services.AdminError as error:
            db.session.rollback()
            _attach_error(form, error)
        else:
            flash(
                f"Set a new password for {user.display_name}; {_sessions_phrase(ended)} ended "
                "and any login block on the account was lifted. Give them the password in person.",
                "success",
            )
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_password.html", form=form, user=user), (
        422 if form.errors else 200
    )


@bp.route("/users/<int:user_id>/sessions/<int:session_id>/end", methods=["POST"])
@role_required("admin")
def end_session(user_id: int, session_id: int):
    user = _load(User, user_id)
    session_row = db.session.scalar(
        select(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id)
    )
    if session_row is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    ended = services.end_user_session(by=current_user, session_row=session_row)
    db.session.commit()
    if ended:
        flash(f"Ended a session of {user.display_name}.", "success")
    else:
        flash("That session had already ended.", "info")
    return redirect(url_for("admin.user", user_id=user.id))


# --- Units and beds ----------------------------------------------------------------------


@bp.route("/units")
@role_required("admin")
def units():
    all_units = db.session.scalars(select(Unit).order_by(Unit.name)).all()
    return render_template("admin/units.html", units=all_units)


@bp.route("/units/new", methods=["GET", "POST"])
@role_required("admin")
def new_unit():
    form = UnitForm()
    if form.validate_on_submit():
        try:
            unit = services.create_unit(by=current_user, **_unit_fields(form))
            db.session.commit()
        except services.AdminError as error:
            db.session.rollback()
            _attach_error(form, error)
        except IntegrityError:
            db.session.rollback()
            form.name.errors.append("A unit with this name has just been created. Choose another.")
        else:
            flash(f"Created {unit.name}. Add its beds below.", "success")
            return redirect(url_for("admin.edit_unit", unit_id=unit.id))
    return render_template(
        "admin/unit_new.html", form=form, timezone_names=services.timezone_names()
    ), (422 if form.errors else 200)


def _unit_fields(form: UnitForm) -> dict:
    return {
        "name": form.name.data,
        "timezone": form.timezone.data,
        "shift_pattern": form.shift_pattern.data,
        "late_entry_minutes": form.late_entry_minutes.data,
    }


def _render_unit(unit: Unit, *, form: UnitForm | None = None, bed_form: BedForm | None = None,
                 status: int = 200):
    # Only the form that was submitted reads the request; the other shows stored values.
    return render_template(
        "admin/unit_edit.html", unit=unit,
        form=form or UnitForm(formdata=None, obj=unit),
        bed_form=bed_form or BedForm(formdata=None),
        occupants=services.bed_occupants(unit), button_form=EmptyForm(),
        timezone_names=services.timezone_names(),
    ), status


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_unit(unit_id: int):
    unit = _load(Unit, unit_id)
    form = UnitForm(obj=unit)
    if form.validate_on_submit():
        try:
            changed = services.update_unit(by=current_user, unit=unit, **_unit_fields(form))
            db.session.commit()
        except services.AdminError as error:
            db.session.rollback()
            _attach_error(form, error)
        except IntegrityError:
            db.session.rollback()
            form.name.errors.append("Another unit has just taken this name. Choose another.")
        else:
            flash(f"Saved {unit.name}." if changed else "Nothing changed.",
                  "success" if changed else "info")
            return redirect(url_for("admin.edit_unit", unit_id=unit.id))
    return _render_unit(unit, form=form, status=422 if form.errors else 200)


@bp.route("/units/<int:unit_id>/beds", methods=["POST"])
@role_required("admin")
def add_bed(unit_id: int):
    unit = _load(Unit, unit_id)
    bed_form = BedForm()
    if bed_form.validate_on_submit():
        try:
            bed = services.add_bed(by=current_user, unit=unit, label=bed_form.label.data)
            db.session.commit()
        except services.AdminError as error:
            db.session.rollback()
            _attach_error(bed_form, error)
        except IntegrityError:
            db.session.rollback()
            bed_form.label.errors.append("A bed with this label has just been added.")
        else:
            flash(f"Added bed {bed.label} to {unit.name}.", "success")
            return redirect(url_for("admin.edit_unit", unit_id=unit.id, _anchor="beds"))
    return _render_unit(unit, bed_form=bed_form, status=422)


@bp.route("/units/<int:unit_id>/beds/<int:bed_id>/close", methods=["POST"])
@role_required("admin")
def close_bed(unit_id: int, bed_id: int):
    return _bed_action(unit_id, bed_id, services.close_bed, "Closed bed {label}.")


@bp.route("/units/<int:unit_id>/beds/<int:bed_id>/reopen", methods=["POST"])
@role_required("admin")
def reopen_bed(unit_id: int, bed_id: int):
    return _bed_action(unit_id, bed_id, services.reopen_bed, "Reopened bed {label}.")


def _bed_action(unit_id: int, bed_id: int, action, success: str):
    unit = _load(Unit, unit_id)
    bed = _load(Bed, bed_id)
    if bed.unit_id != unit.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        action(by=current_user, bed=bed)
        db.session.commit()
    except services.AdminError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _render_unit(unit, status=422)
    flash(success.format(label=bed.label), "success")
    return redirect(url_for("admin.edit_unit", unit_id=unit.id, _anchor="beds"))


# --- Due rules ---------------------------------------------------------------------------


@bp.route("/units/<int:unit_id>/due-rules", methods=["GET", "POST"])
@role_required("admin")
def due_rules(unit_id: int):
    unit = _load(Unit, unit_id)
    definition, newest = services.due_rules_of(unit)
    current = services.flat_due_settings(definition)
    form = due_rules_form(
        sorted(definition.prn_effect_minutes),
        data={services.due_field_name(path): value for path, value in current.items()},
    )
    if request.method == "GET":
        form.based_on.data = str(newest.version if newest else 0)
    if form.validate_on_submit():
        try:
            row = services.save_due_rules(by=current_user, unit=unit, settings=form.settings(),
                                          based_on=form.based_on_version())
            db.session.commit()
        except services.StaleDueRules as error:
            db.session.rollback()
            form.form_errors.append(str(error))
            # Saving again now means saving over the newer version, knowingly.
            form.based_on.data = str(newest.version if newest else 0)
        except services.AdminError as error:
            db.session.rollback()
            target = getattr(form, error.field, None) if error.field else None
            (target.errors if target is not None else form.form_errors).append(str(error))
        except IntegrityError:
            db.session.rollback()
            form.form_errors.append("Another administrator saved these rules at the same moment. "
                                    "Nothing was saved: reload the page and check.")
        else:
            if row is None:
                flash("Nothing changed.", "info")
            else:
                flash(f"Saved version {row.version} of the due rules for {unit.name}. "
                      "Due times use it from now on; entries already charted are unchanged.", "success")
            return redirect(url_for("admin.due_rules", unit_id=unit.id))
    versions = services.due_rule_versions(unit)
    return render_template(
        "admin/due_rules.html", unit=unit, form=form, newest=newest, versions=versions,
        changes=services.due_rule_changes(versions),
        labels={form.paths[name]: f"{legend}: {form[name].label.text}"
                for legend, _hint, names in form.groups for name in names},
    ), (422 if form.errors or form.form_errors else 200)
