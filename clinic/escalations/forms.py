"""Forms to raise an escalation by hand and to record what happened next.

The three update forms share one page, so each names its fields' HTML ids itself; the field
names stay plain (`idempotency_key`, `happened_at`) so browser drafts and refusals work alike.
"""

from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from clinic.escalations.services import LEVELS
from clinic.forms import IDEMPOTENCY_KEY, RELOAD, TIME_FORMATS, PlainText

TIME_MESSAGE = "Enter the time (it may be earlier, never later, than now)."


class KeyedForm(FlaskForm):
    """A form with a key that makes saving it idempotent."""

    idempotency_key = HiddenField(validators=[DataRequired(message=RELOAD), IDEMPOTENCY_KEY])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = uuid.uuid4().hex


class RaiseForm(KeyedForm):
    level = RadioField(
        "How urgent?", choices=list(LEVELS.items()), validate_choice=False,
        validators=[DataRequired(message="Choose urgent or emergency.")],
    )
    reason = TextAreaField(
        "Why are you escalating?",
        validators=[PlainText(), DataRequired(message="Say why you are escalating."), Length(max=4000)],
    )
    informed_who = StringField(
        "Who have you informed? (name and role)", validators=[PlainText(), Optional(), Length(max=120)]
    )
    informed_at = DateTimeLocalField("When were they told?", format=TIME_FORMATS,
                                     validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.level.data and self.level.data not in LEVELS:
            self.level.errors.append("Choose urgent or emergency.")
            valid = False
        if (self.informed_who.data or "").strip() and self.informed_at.data is None \
                and not self.informed_at.errors:
            self.informed_at.errors.append(TIME_MESSAGE)
            valid = False
        return valid


def _when(field_id: str, label: str = "When") -> DateTimeLocalField:
    return DateTimeLocalField(label, format=TIME_FORMATS, id=field_id,
                              validators=[DataRequired(message=TIME_MESSAGE)])


class InformedForm(KeyedForm):
    informed_who = StringField(
        "Who was informed? (name and role)", id="informed-who",
        validators=[
            PlainText(),
            DataRequired(message="Say who was informed (name and role)."),
            Length(max=120),
        ],
    )
    happened_at = _when("informed-at", "When were they told?")


class ResponseForm(KeyedForm):
    text = TextAreaField(
        "What was decided or done?", id="response-text",
        validators=[PlainText(), DataRequired(message="Record the response (what was decided or done)."),
                    Length(max=4000)],
    )
    happened_at = _when("response-at")


class CloseForm(KeyedForm):
    text = TextAreaField(
        "Closing note", id="close-text",
        validators=[PlainText(), DataRequired(message="Write a closing note (why the escalation can close)."),
                    Length(max=4000)],
    )
    happened_at = _when("close-at", "Closed at")


#: Update kind (as posted in the form's `kind` field) -> its form.
UPDATE_FORMS: dict[str, type[KeyedForm]] = {
    "informed": InformedForm,
    "response": ResponseForm,
    "closed": CloseForm,
}
