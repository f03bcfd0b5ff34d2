"""Forms for accounts, units and beds."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Regexp,
    ValidationError,
)

from clinic.admin.services import (
    MAX_LATE_ENTRY_MINUTES,
    MIN_LATE_ENTRY_MINUTES,
    AdminError,
    check_timezone,
    normalise_pattern,
)
from clinic.auth.passwords import MIN_PASSWORD_LENGTH
from clinic.models.user import ROLES

ROLE_CHOICES = [("", "Choose…"), *ROLES.items()]


def _password_fields(label: str):
    password = PasswordField(
        label,
        validators=[
            DataRequired(message="Enter a password."),
            Length(
                min=MIN_PASSWORD_LENGTH, max=256,
                message=f"Use {MIN_PASSWORD_LENGTH} to 256 characters.",
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Type it again",
        validators=[
            DataRequired(message="Type the password again."),
            EqualTo("password", message="The two passwords are not the same."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class NewUserForm(FlaskForm):
    username = StringField(
        "User name",
        validators=[
            DataRequired(message="Enter a user name."),
            Length(min=2, max=64),
            Regexp(
                r"^\s*[A-Za-z0-9._-]+\s*$",
                message="Use letters, digits, dots, hyphens and underscores only.",
            ),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    display_name = StringField(
        "Full name", validators=[DataRequired(message="Enter the name shown on entries."),
                                 Length(max=120)],
    )
    role = SelectField(
        "Role", choices=ROLE_CHOICES, validators=[DataRequired(message="Choose a role.")]
    )
    password, confirm = _password_fields("Initial password")


class EditUserForm(FlaskForm):
    display_name = StringField(
        "Full name", validators=[DataRequired(message="Enter the name shown on entries."),
                                 Length(max=120)],
    )
    role = SelectField(
        "Role", choices=ROLE_CHOICES, validators=[DataRequired(message="Choose a role.")]
    )


class ResetPasswordForm(FlaskForm):
    password, confirm = _password_fields("New password")


class UnitForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Enter the unit's name."),
                                           Length(max=80)])
    timezone = StringField(
        "Time zone",
        default="Europe/London",
        validators=[DataRequired(message="Enter a time zone such as Europe/London."),
                    Length(max=64)],
        render_kw={"list": "timezone-names", "autocomplete": "off", "spellcheck": "false"},
    )
    shift_pattern = StringField(
        "Shift pattern",
        default="Day 07:00, Night 19:00",
        validators=[DataRequired(message="Enter the shifts, such as “Day 07:00, Night 19:00”."),
                    Length(max=200)],
        render_kw={"spellcheck": "false"},
    )
    late_entry_minutes = IntegerField(
        "Late entry after (minutes)",
        default=60,
        validators=[
            InputRequired(message="Enter a number of minutes."),
            NumberRange(
                min=MIN_LATE_ENTRY_MINUTES, max=MAX_LATE_ENTRY_MINUTES,
                message=f"Enter a number of minutes from {MIN_LATE_ENTRY_MINUTES} "
                f"to {MAX_LATE_ENTRY_MINUTES}.",
            ),
        ],
        render_kw={"inputmode": "numeric", "min": MIN_LATE_ENTRY_MINUTES,
                   "max": MAX_LATE_ENTRY_MINUTES},
    )

    def validate_timezone(self, field):
        try:
            check_timezone(field.data)
        except AdminError as error:
            raise ValidationError(str(error)) from None

    def validate_shift_pattern(self, field):
        try:
            normalise_pattern(field.data)
        except AdminError as error:
            raise ValidationError(str(error)) from None


class BedForm(FlaskForm):
    label = StringField(
        "Bed label", validators=[DataRequired(message="Enter the bed's label."), Length(max=20)],
        render_kw={"autocomplete": "off"},
    )
