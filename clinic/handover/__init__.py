"""Shift handover: per unit and shift, or one patient; on screen, as a PDF, signed and accepted."""

from flask import Blueprint

bp = Blueprint("handover", __name__)

from clinic.handover import routes  # noqa: E402,F401
