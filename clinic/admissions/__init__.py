"""Admit, transfer, discharge and the patient chart."""

from flask import Blueprint

bp = Blueprint("admissions", __name__)

from clinic.admissions import risk, routes  # noqa: E402,F401
