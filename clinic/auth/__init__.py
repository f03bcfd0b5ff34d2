"""Login, logout and server-side sessions."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from clinic.auth import routes  # noqa: E402,F401
