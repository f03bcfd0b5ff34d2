"""Views (being written in this change)."""
from clinic.assignments import bp  # noqa: F401
