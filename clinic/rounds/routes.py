"""Views (being written in this change)."""
from clinic.rounds import bp  # noqa: F401
