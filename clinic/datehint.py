"""Say, next to a date field, the format the record uses and the zone it is read in.

The browser draws date inputs in the tablet's locale ("12/01/2026, 09:16 PM") while the record
shows "01 Dec 2026 21:16 GMT"; the hint is server-rendered so it shows without JavaScript too.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request

from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Admission, Unit


def _page_zone() -> ZoneInfo:
    """Return the zone of the unit (or admission's unit) the page is about, else the app's."""
    args = (request.view_args or {}) if has_request_context() else {}
    if isinstance(args.get("admission_id"), int):
        admission = db.session.get(Admission, args["admission_id"])
        if admission is not None:
            return admission.unit.zone
    # The admit form names its unit in the query.
    unit_id = args.get("unit_id") if isinstance(args.get("unit_id"), int) else (
        request.args.get("unit", type=int) if has_request_context() else None)
    if unit_id is not None and 0 < unit_id < 2**31:
        unit = db.session.get(Unit, unit_id)
        if unit is not None:
            return unit.zone
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def date_hint(field_type: str) -> str | None:
    """Return the format hint for a date or date-time field type, or None for other fields."""
    if field_type == "DateField":
        return "Day month year."
    if field_type == "DateTimeLocalField":
        abbreviation = utc_now().astimezone(_page_zone()).strftime("%Z")
        return f"Day month year, 24-hour clock, unit time ({abbreviation})."
    return None
