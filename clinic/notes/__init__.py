"""Nursing notes."""

from flask import Blueprint

bp = Blueprint("notes", __name__)

from clinic.notes import routes  # noqa: E402,F401
