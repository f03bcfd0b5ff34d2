"""App-wide error pages; a database outage says plainly that nothing was saved."""

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError

from clinic.extensions import db


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
        return page(
            400,
            "Form expired",
            "The form could not be checked (it may have been open across a logout). "
            "Nothing was saved. Go back, and submit it again.",
        )

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def database_unavailable(error):
        app.logger.error("database error: %s", error)
        return page(
            503,
            "Not saved: the record is unavailable",
            "The database could not be reached. Your entry was NOT saved. "
            "Go back: what you typed is still in the form. Try again in a minute; "
            "if it keeps failing, use the paper downtime chart and tell the charge nurse.",
        )

    @app.errorhandler(500)
    def internal_error(_error):
        return page(
            500,
            "Something went wrong",
            "The request failed and nothing was saved. The error has been logged.",
        )
