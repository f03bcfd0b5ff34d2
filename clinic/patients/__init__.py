"""Finding patients: search by name, MRN or date of birth, and each unit's discharged list."""

from flask import Blueprint

bp = Blueprint("patients", __name__)

from clinic.patients import routes  # noqa: E402,F401
