"""Vital signs with NEWS2."""

from flask import Blueprint

bp = Blueprint("vitals", __name__)

from clinic.vitals import routes  # noqa: E402,F401
