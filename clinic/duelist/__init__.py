"""The unit due list: everything due in the next hour and everything overdue."""

from flask import Blueprint

bp = Blueprint("duelist", __name__)

from clinic.duelist import routes  # noqa: E402,F401
