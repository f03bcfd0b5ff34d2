"""Security headers on every response."""

from flask import Flask, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def register_security_headers(app: Flask) -> None:
    """Add CSP, frame denial, nosniff and a same-origin referrer policy."""

    @app.after_request
    def set_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        # Not no-referrer: Flask-WTF's HTTPS referrer check would then reject every form.
        response.headers["Referrer-Policy"] = "same-origin"
        if request.endpoint != "static":
            # Patient data must not stay in shared browser caches.
            response.headers["Cache-Control"] = "no-store"
        return response
