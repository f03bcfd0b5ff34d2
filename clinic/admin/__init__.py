"""Administration: users and roles, units, beds and shift patterns."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from clinic.admin import glucose, routes  # noqa: E402,F401
