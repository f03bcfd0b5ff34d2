"""Security headers on every response, and refused requests written to the audit trail."""

from flask import Flask, request
from flask_login import current_user

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
#: One year: browsers then refuse plain HTTP to this host even on the first visit of a day.
HSTS = "max-age=31536000; includeSubDomains"


def register_security_headers(app: Flask) -> None:
    """Add CSP, frame denial, nosniff, a same-origin referrer policy and, over HTTPS, HSTS."""

    @app.after_request
    def set_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        # Not no-referrer: Flask-WTF's HTTPS referrer check would then reject every form.
        response.headers["Referrer-Policy"] = "same-origin"
        if app.config.get("HTTPS"):
            response.headers["Strict-Transport-Security"] = HSTS
        if request.endpoint != "static":
            # Patient data must not stay in shared browser caches.
            response.headers["Cache-Control"] = "no-store"
        return response


def register_refusal_audit(app: Flask) -> None:
    """Record every 403 answer as a "refused" audit event: probing shows up in the trail."""
    from clinic import audit
    from clinic.extensions import db

    @app.after_request
    def record_refusal(response):
        if response.status_code != 403:
            return response
        try:
            # Whatever the refused request had started is not kept; only the refusal is.
            db.session.rollback()
            audit.record(
                "refused",
                object_type="request",
                # The path names ids only; the query string may hold typed text, so it is left out.
                detail={"method": request.method, "path": request.path[:200],
                        "endpoint": request.endpoint},
                user=current_user if current_user.is_authenticated else None,
            )
            db.session.commit()
        except Exception:
            db.session.rollback()
            app.logger.exception("could not record a refused request in the audit trail")
        return response
