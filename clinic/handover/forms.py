"""Forms of the handover: lines added before signing, signing, accepting."""

from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from clinic.forms import IDEMPOTENCY_KEY, RELOAD, TIME_FORMATS, PlainText
from clinic.models.handover import ACCEPT_OUTCOMES, PAPER_SIZES
from clinic.scoring.severity import LEVELS


class ItemForm(FlaskForm):
    """A to-do, an "if … then …", or an adjusted severity for one patient."""

    admission_id = IntegerField(validators=[DataRequired(message="Choose the patient this line is for.")])
    kind = RadioField("Kind", choices=[("todo", "To do"), ("contingency", "If … then"),
                                       ("severity", "Adjust severity")], default="todo")
    text = TextAreaField("Text (for a severity: the reason)", validators=[
        DataRequired(message="Write the line (for a severity, the reason)."), Length(max=500), PlainText()])
    owner = StringField("Who", validators=[Optional(), Length(max=80), PlainText()])
    due_at = DateTimeLocalField("By when", format=TIME_FORMATS, validators=[Optional()])
    level = RadioField("Severity", choices=list(LEVELS.items()), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Here, not as an inline validator: Optional() stops the field's chain when it is empty.
        if self.kind.data == "severity" and not self.level.data:
            self.level.errors = [*self.level.errors, "Choose the severity."]
            return False
        return valid


class SignForm(FlaskForm):
    """The outgoing nurse's signature; the key makes a double tap sign once."""

    idempotency_key = HiddenField(validators=[DataRequired(message=RELOAD), IDEMPOTENCY_KEY])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = uuid.uuid4().hex


class AcceptForm(FlaskForm):
    """The receiving nurse's acceptance, or acceptance with questions."""

    outcome = RadioField("Acceptance", choices=list(ACCEPT_OUTCOMES.items()), default="accepted",
                         validators=[DataRequired(message="Choose accepted, or accepted with questions.")])
    questions = TextAreaField("Questions", validators=[Optional(), Length(max=1000), PlainText()])

    def validate_questions(self, field) -> None:
        if self.outcome.data == "questions" and not (field.data or "").strip():
            raise ValidationError("Write the questions, or accept without them.")


class SettingsForm(FlaskForm):
    """A unit's handover printing settings."""

    paper_size = RadioField("Paper size", choices=list(PAPER_SIZES.items()),
                            validators=[DataRequired(message="Choose a paper size.")])
