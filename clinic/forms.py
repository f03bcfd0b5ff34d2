"""Forms and fields shared by several features."""

import uuid

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST-only buttons."""


class EntryForm(FlaskForm):
    """Fields every charting form has: the clinical time and a key that makes saving idempotent."""

    observed_at = DateTimeLocalField(
        "Time observed", format=TIME_FORMATS,
        validators=[DataRequired(message="Enter the time (it may be earlier, never later, than now).")],
    )
    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=64)])
    correction_reason = TextAreaField(
        "Reason for the correction", validators=[Optional(), Length(max=2000)]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = uuid.uuid4().hex


class RetractForm(FlaskForm):
    reason = TextAreaField(
        "Why was this entered in error?",
        validators=[DataRequired(message="Give the reason."), Length(max=2000)],
    )
