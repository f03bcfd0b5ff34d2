"""Views (being written in this change)."""

from clinic.monitoring import bp  # noqa: F401
