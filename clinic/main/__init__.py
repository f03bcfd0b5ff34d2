"""The landing route: each role to its own starting page."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from clinic.main import routes  # noqa: E402,F401
