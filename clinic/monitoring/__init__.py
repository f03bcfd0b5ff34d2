"""What is due, for whom and when: the due list, safety rounds, assignments and overrides."""

from flask import Blueprint

bp = Blueprint("monitoring", __name__)

from clinic.monitoring import routes  # noqa: E402,F401
