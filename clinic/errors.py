"""App-wide error pages; they say plainly whether what was typed was saved."""

from urllib.parse import urlsplit

from flask import Flask, flash, g, has_request_context, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from clinic.extensions import db

#: Said when the unit has not configured its own downtime procedure (DOWNTIME_PROCEDURE).
DEFAULT_DOWNTIME_PROCEDURE = (
    "If it keeps failing, follow the unit's downtime procedure: chart on the paper downtime chart "
    "and tell the charge nurse."
)


@event.listens_for(Session, "after_commit")
def _note_commit(_session) -> None:
    # An error after this point must not tell the nurse that the entry was lost.
    if has_request_context():
        g.committed = True


def _same_site_referrer() -> str | None:
    """Return the referring page's path if it is on this site."""
    referrer = urlsplit(request.referrer or "")
    if not referrer.path or (referrer.netloc and referrer.netloc != request.host):
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


def describe_database_error(error: DBAPIError) -> str:
    """Return what failed, without the values: the driver's error, its code and the SQL.

    The driver's message is left out: PostgreSQL's names the offending value ("Failing row
    contains (…)", "invalid input syntax … \"…\""), which may be a note or a patient's name.
    """
    orig = error.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None) or "?"
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    statement = " ".join((error.statement or "").split())[:200]
    return (f"{type(orig).__name__} ({code})"
            + (f" on constraint {constraint}" if constraint else "")
            + f" in: {statement}")


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def register_error_handlers(app: Flask) -> None:
    """Render errors as pages, rolling the session back first."""

    def page(status: int, title: str, message: str):
        db.session.rollback()
        if _wants_json():
            return {"error": title, "message": message}, status
        return render_template("errors/error.html", title=title, message=message), status

    @app.errorhandler(403)
    def forbidden(_error):
        return page(403, "Not allowed", "Your role does not allow this page or action.")

    @app.errorhandler(404)
    def not_found(_error):
        return page(404, "Not found", "There is no such page or record.")

    @app.errorhandler(405)
    def method_not_allowed(_error):
        return page(405, "Not allowed", "That action cannot be done this way.")

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        db.session.rollback()
        back = _same_site_referrer()
        message = (
            "Nothing was saved. The form's security check failed (it may have been open across "
            "a logout). What you typed is kept on this device: choose “Restore it”, check, and save again."
        )
        if back is not None and not _wants_json():
            flash(message, "error")
            return redirect(back, code=303)
        return page(400, "Not saved", message)

    def unavailable_page(status: int, title: str, *paragraphs: str):
        """Render an error without touching the database (the layout would load the user)."""
        try:
            db.session.rollback()
        except SQLAlchemyError:
            pass  # the connection is gone; the session is discarded at teardown anyway
        if _wants_json():
            return {"error": title, "message": " ".join(paragraphs)}, status
        # Straight from the environment: render_template's context processors would load the
        # user (Flask-Login does, for every template) and with it the database.
        page = app.jinja_env.get_template("errors/unavailable.html")
        return page.render(title=title, paragraphs=paragraphs), status

    def downtime() -> str:
        return app.config.get("DOWNTIME_PROCEDURE") or DEFAULT_DOWNTIME_PROCEDURE

    def saved_already():
        return unavailable_page(
            500, "Saved, but the next page failed",
            "What you entered WAS saved; only the page after it failed. Open the patient's chart "
            "to check it is there before entering anything again.",
            "The error has been logged.",
        )

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def database_unavailable(error):
        app.logger.error("database error: %s", describe_database_error(error))
        if g.get("committed") and request.method == "POST":
            return saved_already()
        if request.method == "POST":
            return unavailable_page(
                503, "Not saved: the record is unavailable",
                "The database could not be reached. Your entry was NOT saved.",
                "What you typed is kept in this browser: go back to the form (choose “Restore it” "
                "if it is empty) and save again in a minute.",
                downtime(),
            )
        return unavailable_page(
            503, "The record is unavailable",
            "The database cannot be reached just now: nothing can be shown, and an entry made "
            "now would be NOT saved. Try again in a minute.",
            downtime(),
        )

    @app.errorhandler(500)
    def internal_error(_error):
        if g.get("committed") and request.method == "POST":
            return saved_already()
        return unavailable_page(
            500, "Something went wrong",
            "The request failed and nothing was saved. The error has been logged.",
            "What you typed is kept in this browser: go back to the form and try again.",
        )
