"""Trends for physicians: the timeline, the flowsheet, day summaries, review sign-off, the PDF."""

from flask import Blueprint

bp = Blueprint("trends", __name__)

from clinic.trends import routes  # noqa: E402,F401
