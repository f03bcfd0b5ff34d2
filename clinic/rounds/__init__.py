"""Safety observation rounds: checks for several patients at once, lateness, missed checks."""

from flask import Blueprint

bp = Blueprint("rounds", __name__)

from clinic.rounds import routes  # noqa: E402,F401
