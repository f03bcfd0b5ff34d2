"""Withdrawal assessments: CIWA-Ar, COWS, CIWA-B and the ketamine checklist with its suicide-risk screen."""

from flask import Blueprint

bp = Blueprint("assessments", __name__)

from clinic.assessments import routes  # noqa: E402,F401
