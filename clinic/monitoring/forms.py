"""A physician's per-protocol override: set an interval with a reason, or end it with a reason."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, StopValidation

from clinic.forms import PlainText, StrictIntegerField
from clinic.monitoring.services import OVERRIDE_MAX_MINUTES, OVERRIDE_MIN_MINUTES

_RANGE = f"Enter a whole number of minutes from {OVERRIDE_MIN_MINUTES} to {OVERRIDE_MAX_MINUTES}."


def _in_range(form, field):
    if field.process_errors:
        raise StopValidation()  # already refused as not a number, with the same message
    if field.data is None or not OVERRIDE_MIN_MINUTES <= field.data <= OVERRIDE_MAX_MINUTES:
        raise StopValidation(_RANGE)


_in_range.field_flags = {"required": True}


class OverrideForm(FlaskForm):
    """One protocol's override; the page shows one per protocol, each with the protocol as prefix."""

    interval_minutes = StrictIntegerField(
        "Reassess every (minutes)",
        validators=[_in_range],
        digits=5,
        message=_RANGE,
        render_kw={"inputmode": "numeric", "min": OVERRIDE_MIN_MINUTES, "max": OVERRIDE_MAX_MINUTES},
    )
    reason = TextAreaField(
        "Clinical reason",
        validators=[PlainText(), DataRequired(message="Give the clinical reason."), Length(max=1000)],
        render_kw={"rows": 2},
    )


class EndOverrideForm(FlaskForm):
    """End one protocol's override; the unit's rules then compute its interval again."""

    reason = TextAreaField(
        "Why end it?",
        validators=[
            PlainText(),
            DataRequired(message="Give the reason for ending the override."),
            Length(max=1000),
        ],
        render_kw={"rows": 2},
    )
