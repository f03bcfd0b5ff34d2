"""Nurse-to-bed assignments per shift."""

from flask import Blueprint

bp = Blueprint("assignments", __name__)

from clinic.assignments import routes  # noqa: E402,F401
