"""The unit board: one row per bed, the landing page of clinical staff."""

from flask import Blueprint

bp = Blueprint("board", __name__)

from clinic.board import routes  # noqa: E402,F401
