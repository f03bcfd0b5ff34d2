"""What is due, for whom and when: per-patient monitoring and physician overrides."""

from flask import Blueprint

bp = Blueprint("monitoring", __name__)

from clinic.monitoring import routes  # noqa: E402,F401
