"""Suicide-screen reviews, hourly attestations of continuous observation, the thiamine prompt."""

from flask import Blueprint

bp = Blueprint("safety", __name__)

from clinic.safety import routes  # noqa: E402,F401
