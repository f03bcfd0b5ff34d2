"""Forms of the suicide-screen review, the hourly attestation and the thiamine prompt."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from clinic.forms import PlainText
from clinic.models.safety import NOTE_MAX, REASON_MAX


class ReviewForm(FlaskForm):
    note = TextAreaField(
        "What the review found and decided",
        validators=[DataRequired(message="Record what the review found and decided."),
                    Length(max=NOTE_MAX), PlainText()])


class AttestationForm(FlaskForm):
    hour_start = HiddenField(validators=[DataRequired(message="Reload the page: the hour is missing.")])
    outcome = RadioField("This hour", choices=[("no_concern", "Observed continuously, no concern"),
                                               ("concern", "Concern (say what)")],
                         validators=[DataRequired(message="Choose no concern, or record the concern.")])
    concern = StringField("Concern", validators=[Optional(), Length(max=NOTE_MAX), PlainText()])


class ThiamineForm(FlaskForm):
    given = RadioField("Thiamine at admission", choices=[("yes", "Given"), ("no", "Not given")],
                       validators=[DataRequired(message="Choose given or not given.")])
    reason = StringField("Why not given", validators=[Optional(), Length(max=REASON_MAX), PlainText()])
