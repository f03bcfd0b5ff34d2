"""Escalations: raised by rules or by hand, informed, answered, closed."""

from flask import Blueprint

bp = Blueprint("escalations", __name__)

from clinic.escalations import routes  # noqa: E402,F401
