"""Forms for accounts, units and beds."""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Regexp,
    StopValidation,
    ValidationError,
)

from clinic.admin.services import (
    MAX_LATE_ENTRY_MINUTES,
    MIN_LATE_ENTRY_MINUTES,
    AdminError,
    check_timezone,
    due_field_name,
    normalise_pattern,
)
from clinic.auth.policy import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem
from clinic.forms import PlainText, StrictIntegerField
from clinic.models.user import ROLES
from clinic.numbers import parse_decimal, parse_int
from clinic.scoring.due import OBSERVATION_LEVELS

ROLE_CHOICES = [("", "Choose…"), *ROLES.items()]


def _not_guessable(form, field):
    if field.errors:
        return
    username = form.username.data if "username" in form else None
    problem = password_problem(field.data or "", username=(username or "").strip() or None)
    if problem is not None:
        raise ValidationError(problem)


def _password_fields(label: str):
    password = PasswordField(
        label,
        validators=[
            PlainText(),
            DataRequired(message="Enter a password."),
            Length(
                min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
                message=f"Use {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters.",
            ),
            _not_guessable,
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Type it again",
        validators=[
            PlainText(),
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
            PlainText(),
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
        "Full name", validators=[PlainText(), DataRequired(message="Enter the name shown on entries."),
                                 Length(max=120)],
    )
    role = SelectField(
        "Role", choices=ROLE_CHOICES, validators=[DataRequired(message="Choose a role.")]
    )
    password, confirm = _password_fields("Initial password")


class EditUserForm(FlaskForm):
    display_name = StringField(
        "Full name", validators=[PlainText(), DataRequired(message="Enter the name shown on entries."),
                                 Length(max=120)],
    )
    role = SelectField(
        "Role", choices=ROLE_CHOICES, validators=[DataRequired(message="Choose a role.")]
    )


class ResetPasswordForm(FlaskForm):
    password, confirm = _password_fields("New password")


class UnitForm(FlaskForm):
    name = StringField("Name", validators=[PlainText(), DataRequired(message="Enter the unit's name."),
                                           Length(max=80)])
    timezone = StringField(
        "Time zone",
        default="Europe/London",
        validators=[PlainText(), DataRequired(message="Enter a time zone such as Europe/London."),
                    Length(max=64)],
        render_kw={"list": "timezone-names", "autocomplete": "off", "spellcheck": "false"},
    )
    shift_pattern = StringField(
        "Shift pattern",
        default="Day 07:00, Night 19:00",
        validators=[PlainText(), DataRequired(message="Enter the shifts, such as “Day 07:00, Night 19:00”."),
                    Length(max=200)],
        render_kw={"spellcheck": "false"},
    )
    late_entry_minutes = StrictIntegerField(
        "Late entry after (minutes)",
        default=60,
        digits=4,
        message=f"Enter a number of minutes from {MIN_LATE_ENTRY_MINUTES} to {MAX_LATE_ENTRY_MINUTES}.",
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
        "Bed label", validators=[PlainText(), DataRequired(message="Enter the bed's label."), Length(max=20)],
        render_kw={"autocomplete": "off"},
    )


# --- Due rules ---------------------------------------------------------------------------

#: The due-rule settings by group: (legend, hint, [(setting path, label, unit)]). PRN routes are
#: added per unit (their names are data); "min" fields are minutes.
DUE_RULE_GROUPS: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    ("Vital signs, by NEWS2 band", "A sicker band may never be seen less often than a well one.", [
        ("vitals_minutes_by_band.zero", "NEWS2 0", "min"),
        ("vitals_minutes_by_band.low", "Low (1–4)", "min"),
        ("vitals_minutes_by_band.low-medium", "Low-medium (3 in one parameter)", "min"),
        ("vitals_minutes_by_band.medium", "Medium (5–6)", "min"),
        ("vitals_minutes_by_band.high", "High (7 or more)", "min"),
        ("vitals_initial_minutes", "Grace period after admission (first observations and scales)", "min"),
    ]),
    ("CIWA-Ar", "Frequent ≤ routine ≤ settled.", [
        ("ciwa_ar_frequent_threshold", "Frequent at a score of", "or more"),
        ("ciwa_ar_frequent_minutes", "Frequent interval", "min"),
        ("ciwa_ar_routine_minutes", "Routine interval (below the score)", "min"),
        ("ciwa_ar_settled_minutes", "Settled interval", "min"),
        ("ciwa_ar_settled_after", "Settled after this many scores in a row below it", "scores"),
        ("ciwa_ar_seizure_risk_minutes", "Interval below the score with seizure or DT history, first 72 h",
         "min"),
    ]),
    ("COWS", "", [
        ("cows_minutes", "Routine interval", "min"),
        ("cows_after_prn_minutes", "Reassess after a PRN dose", "min"),
        ("cows_severe_minutes", "Interval from moderately severe (25 or more)", "min"),
    ]),
    ("CIWA-B", "", [("ciwa_b_minutes", "Interval", "min"),
                    ("ciwa_b_severe_minutes", "Interval from severe (41 or more)", "min")]),
    ("Ketamine checklist", "Flagged ≤ routine.", [
        ("ketamine_minutes", "Routine interval", "min"),
        ("ketamine_flagged_minutes", "Interval when flagged", "min"),
    ]),
    ("Unable to assess", "", [("unable_minutes", "Reassess within", "min")]),
    ("PRN effect, by route", "How long after a dose its effect is reassessed.", []),
    ("Safety observation levels", "0 means continuous observation: no scheduled checks.", [
        *((f"observation_minutes.{code}", label, "min") for code, label in OBSERVATION_LEVELS.items()),
        ("on_time_factor", "A check is on time within this many intervals", "× interval"),
    ]),
]
PRN_GROUP = "PRN effect, by route"


class _FactorField(DecimalField):
    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse_decimal(valuelist[0], int_digits=2, frac_digits=2, signed=True)
        except ValueError:
            self.data = None
            raise ValueError("Enter a number such as 1.5.") from None


class DueRulesForm(FlaskForm):
    """Every number of a unit's due rules; fields are added per unit by due_rules_form."""

    #: The version the form was opened from (0: the built-in defaults).
    based_on = HiddenField(default="0")
    #: Field name -> setting path, in form order.
    paths: dict[str, str] = {}
    groups: list[tuple[str, str, list[str]]] = []

    def settings(self) -> dict[str, object]:
        """Return the typed values as flat settings (see admin.services.flat_due_settings)."""
        result: dict[str, object] = {}
        for name, path in self.paths.items():
            value = self[name].data
            result[path] = float(value) if isinstance(value, Decimal) else value
        return result

    def based_on_version(self) -> int:
        try:
            value = parse_int(self.based_on.data, digits=9)
        except ValueError:
            return -1
        return -1 if value is None else value


def due_rules_form(routes: list[str], **kwargs) -> DueRulesForm:
    """Build the due-rules form with a field per setting, and one per PRN route in `routes`."""

    class Form(DueRulesForm):
        pass

    Form.paths = {}
    Form.groups = []
    for legend, hint, entries in DUE_RULE_GROUPS:
        if legend == PRN_GROUP:
            entries = [(f"prn_effect_minutes.{route}", route.replace("_", " ").capitalize(), "min")
                       for route in routes]
        names = []
        for path, label, unit in entries:
            name = due_field_name(path)
            if path == "on_time_factor":
                field = _FactorField(label, places=None, validators=[_required], description=unit,
                                     render_kw={"inputmode": "decimal", "step": "0.1"})
            else:
                field = StrictIntegerField(label, validators=[_required], description=unit,
                                           digits=5, signed=True,
                                           message="Enter a whole number.")
            setattr(Form, name, field)
            Form.paths[name] = path
            names.append(name)
        Form.groups.append((legend, hint, names))
    return Form(**kwargs)


def _required(form, field):
    if field.data is None and not field.process_errors:
        raise StopValidation(getattr(field, "message", "Enter a number such as 1.5."))


_required.field_flags = {"required": True}
