"""Views (being written in this change)."""
from clinic.duelist import bp  # noqa: F401
