"""What is due, for whom and when: the due list, safety rounds, assignments and overrides."""

from flask import Blueprint, url_for
from werkzeug.routing import BuildError

bp = Blueprint("monitoring", __name__)


@bp.app_template_global()
def monitoring_summary(admission, now):
    """Return the chart card's monitoring summary for an admission (see services.monitoring_summary)."""
    from clinic.monitoring.services import monitoring_summary as summary

    return summary(admission, now)


@bp.app_template_global()
def optional_url(endpoint: str, **values) -> str | None:
    """Return the URL of an endpoint, or None where the app has no such page (a link is then left out)."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


from clinic.monitoring import routes  # noqa: E402,F401
