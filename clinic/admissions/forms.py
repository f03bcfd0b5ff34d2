"""Admission, transfer and discharge forms."""

from __future__ import annotations

from datetime import datetime

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.form import Form
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from clinic.forms import PlainText
from clinic.models.patient import DISPOSITIONS, PROTOCOLS, SEXES, SUBSTANCES

TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SubstanceRow(Form):
    used = BooleanField("Used")
    last_use = DateTimeLocalField("Last use", format=TIME_FORMATS, validators=[Optional()])
    detail = StringField("Detail", validators=[PlainText(), Optional(), Length(max=200)])


class SubstancesForm(Form):
    """One row per known substance, so the form is a fixed table a tablet can tap through."""


for _key, _label in SUBSTANCES.items():
    setattr(SubstancesForm, _key, FormField(SubstanceRow, label=_label))


class PatientIdentityForm(Form):
    family_name = StringField("Family name", validators=[
        PlainText(), DataRequired(message="Enter the family name."), Length(max=80)])
    given_name = StringField("Given name", validators=[
        PlainText(), DataRequired(message="Enter the given name."), Length(max=80)])
    date_of_birth = DateField("Date of birth", validators=[
        DataRequired(message="Enter the date of birth (day, month and year).")])
    sex = SelectField("Sex", choices=[("", "Choose…"), *SEXES.items()],
                      validators=[DataRequired(message="Choose the sex.")])

    def validate_date_of_birth(self, field):
        if field.data and field.data > datetime.now().date():
            raise ValidationError("Date of birth cannot be in the future.")


class AdmitForm(FlaskForm):
    mrn = StringField(
        "MRN",
        validators=[
            PlainText(),
            DataRequired(message="Enter the MRN."),
            Length(max=32),
            Regexp(r"^[A-Za-z0-9-]+$", message="Use letters, digits and hyphens only."),
        ],
    )
    identity = FormField(PatientIdentityForm)
    allergies = TextAreaField(
        "Allergies",
        validators=[
            PlainText(),
            DataRequired(message="Record allergies, or write “No known drug allergies”."),
            Length(max=1000, message="Allergies can be at most 1000 characters."),
        ],
    )
    # Not checked against the listed (free) beds: the view refuses a taken bed itself, naming
    # the patient who holds it, which "Not a valid choice" would not.
    bed = SelectField("Bed", coerce=int, validate_choice=False,
                      validators=[InputRequired(message="Choose a bed.")])
    admitted_at = DateTimeLocalField("Admitted at", format=TIME_FORMATS,
                                     validators=[DataRequired(message="Enter the admission time.")])
    attending_physician = SelectField("Attending physician", coerce=int, validators=[Optional()])
    substances = FormField(SubstancesForm)
    # No default: nothing clinical is chosen for the user (see validate_primary_substance).
    primary_substance = RadioField("Primary substance", choices=list(SUBSTANCES.items()),
                                   validate_choice=False)
    protocols = MultiCheckboxField(
        "Monitoring protocols", choices=list(PROTOCOLS.items()), default=["vitals"]
    )

    def validate_primary_substance(self, field):
        ticked = [key for key in SUBSTANCES if getattr(self.substances.form, key).form.used.data]
        if not field.data:
            if len(ticked) == 1:
                # The one substance ticked is the primary one; asking again would be a needless tap.
                field.data = ticked[0]
            elif ticked:
                names = [SUBSTANCES[key] for key in ticked]
                raise ValidationError(
                    f"Primary substance: you ticked {', '.join(names[:-1])} and {names[-1]}; "
                    "choose which is the primary one."
                )
            return
        if field.data not in SUBSTANCES:
            raise ValidationError("Primary substance: choose one of the substances listed.")
        if field.data not in ticked:
            raise ValidationError("Tick the primary substance as used, with its last use.")


class TransferForm(FlaskForm):
    # The view and service refuse a taken bed, naming its patient (see AdmitForm.bed).
    bed = SelectField("Move to bed", coerce=int, validate_choice=False,
                      validators=[InputRequired(message="Choose a bed.")])
    reason = StringField("Reason", validators=[PlainText(), Optional(), Length(max=200)])


class ReverseDischargeForm(FlaskForm):
    # The view and service refuse a taken bed, naming its patient (see AdmitForm.bed).
    bed = SelectField("Reopen in bed", coerce=int, validate_choice=False,
                      validators=[InputRequired(message="Choose a bed.")])
    reason = StringField(
        "Why was the discharge entered in error?",
        validators=[DataRequired(message="Reason: say why the discharge was entered in error."),
                    Length(max=200), PlainText()],
    )


class DischargeForm(FlaskForm):
    discharged_at = DateTimeLocalField("Discharged at", format=TIME_FORMATS,
                                       validators=[DataRequired(message="Enter the discharge time.")])
    disposition = SelectField(
        "Disposition", choices=[("", "Choose…"), *DISPOSITIONS.items()],
        validators=[DataRequired(message="Choose where the patient goes (disposition).")]
    )
    note = TextAreaField("Discharge note", validators=[PlainText(), Optional(), Length(max=4000)])
