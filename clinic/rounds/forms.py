"""Forms for a round (round-level fields plus one small form per patient row), missed checks and levels."""

from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    Form,
    HiddenField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from clinic.forms import RELOAD, TIME_FORMATS, PlainText
from clinic.models.monitoring import SAFETY_ACTIVITIES, SAFETY_LOCATIONS
from clinic.scoring.due import OBSERVATION_LEVELS

#: Round keys become part of each check's idempotency key (64 characters at most).
ROUND_KEY = r"^[A-Za-z0-9_-]{8,40}$"


class RoundForm(FlaskForm):
    """The round as a whole: when the checks were made, why back-dated, and the round's key."""

    checked_at = DateTimeLocalField("Checked at", format=TIME_FORMATS, validators=[Optional()])
    #: The time the page showed; a "Checked at" left at it means "when I save".
    checked_at_shown = HiddenField()
    backdate_reason = StringField(
        "Reason for back-dating", validators=[PlainText(), Optional(), Length(max=1000)],
        render_kw={"autocomplete": "off"},
    )
    #: The round key: every check of the round shares it, so a resubmitted round saves once.
    idempotency_key = HiddenField(validators=[DataRequired(message=RELOAD), Regexp(ROUND_KEY)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = uuid.uuid4().hex

    @property
    def time_changed(self) -> bool:
        """Return whether the nurse typed a check time other than the one the page offered."""
        typed = (self.checked_at.raw_data or [""])[0]
        return bool(typed) and typed != (self.checked_at_shown.data or "")


class CheckRowForm(Form):
    """One patient's row: where, doing what, any concern. Prefixed "p<admission id>"."""

    location = RadioField("Where", choices=list(SAFETY_LOCATIONS.items()), validate_choice=False)
    activity = RadioField("Doing", choices=list(SAFETY_ACTIVITIES.items()), validate_choice=False)
    concern = StringField("Safety concern (optional)", validators=[PlainText(), Optional(), Length(max=1000)],
                          render_kw={"autocomplete": "off"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: Messages about the row as a whole (a rule the service refused).
        self.row_errors: list[str] = []

    @property
    def touched(self) -> bool:
        """Return whether anything was entered in the row; an untouched row is not a check."""
        return bool(self.location.data or self.activity.data or (self.concern.data or "").strip())

    @property
    def has_errors(self) -> bool:
        return bool(self.row_errors or any(f.errors for f in self))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.location.data not in (None, "", *SAFETY_LOCATIONS):
            self.location.errors.append("Tap one of the places shown.")
        if self.activity.data not in (None, "", *SAFETY_ACTIVITIES):
            self.activity.errors.append("Tap one of the activities shown.")
        if self.touched:
            if not self.location.data:
                self.location.errors.append("Tap where the patient was as well.")
            if not self.activity.data:
                self.activity.errors.append("Tap what the patient was doing as well.")
        return valid and not self.has_errors


class MissedNoteForm(FlaskForm):
    """Why a check was missed; the window is named by its due time in ISO UTC."""

    due_at = HiddenField(validators=[DataRequired(message="This missed check could not be identified.")])
    reason = StringField(
        "Why was it missed?",
        validators=[
            PlainText(),
            DataRequired(message="Give the reason the check was missed."),
            Length(max=1000),
        ],
        render_kw={"autocomplete": "off"},
    )


class ObservationLevelForm(FlaskForm):
    level = RadioField("Observation level", choices=list(OBSERVATION_LEVELS.items()),
                       validators=[DataRequired(message="Choose an observation level.")])
    reason = TextAreaField(
        "Reason for the change",
        validators=[PlainText(), DataRequired(message="Give the reason for the change."), Length(max=2000)],
    )
    for_risk = BooleanField("Set for risk (suicide, self-harm, aggression): only a physician or charge "
                            "nurse may lower it")
