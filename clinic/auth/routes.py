"""Login and logout views."""

from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from clinic.auth import bp, services
from clinic.auth.forms import LoginForm
from clinic.extensions import db, login_manager
from clinic.forms import EmptyForm
from clinic.routing import local_path
from clinic.timefmt import local_time

END_MESSAGES = {
    "idle": "Your session ended after a period without activity. Log in again to continue.",
    "expired": "Your session reached its maximum length. Log in again to continue.",
    "account deactivated": "This account has been deactivated.",
    "ended by administrator": "Your session was ended by an administrator.",
}


@login_manager.user_loader
def load_user(token: str):
    return services.load_session(token)


@login_manager.unauthorized_handler
def unauthorized():
    reason = g.get("session_end_reason")
    target = request.full_path if request.method == "GET" else request.referrer
    return redirect(url_for("auth.login", next=_local_path(target), reason=reason))


def _local_path(target: str | None) -> str | None:
    """Return `target` as a path on this site (a referrer may name this host), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.netloc and parts.netloc != request.host:
        return None
    if parts.scheme or parts.netloc:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return local_path(target.rstrip("?"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    reason = request.args.get("reason")
    if reason in END_MESSAGES and request.method == "GET":
        flash(END_MESSAGES[reason], "info")
    if form.validate_on_submit():
        outcome = services.authenticate(form.username.data, form.password.data)
        if outcome.user is None:
            db.session.commit()
            if outcome.locked_until is not None:
                form.username.errors.append(
                    "Too many failed attempts: logging in with this user name is blocked until "
                    f"{local_time(outcome.locked_until)}. An administrator can unblock it sooner."
                )
            else:
                form.password.errors.append("User name or password not recognised.")
            return render_template("auth/login.html", form=form), 200
        session.clear()
        services.start_session(outcome.user)
        login_user(outcome.user, remember=False)
        db.session.commit()
        return redirect(_local_path(request.args.get("next")) or url_for("main.home"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        session_row = g.get("user_session")
        if session_row is not None:
            services.end_session(session_row, "logout")
            db.session.commit()
        logout_user()
        session.clear()
        flash("You have logged out.", "info")
    return redirect(url_for("auth.login"))
