"""PRN forms: the physician's order, giving a dose, its effect, discontinuing."""

from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from clinic.forms import IDEMPOTENCY_KEY, RELOAD, TIME_FORMATS, PlainText, StrictNumberField, _CSRFWhenDrawn
from clinic.models.prn import EFFECTS, OUTCOMES, SIDE_EFFECTS
from clinic.prn.services import ROUTES, TREATED_SCALES, UNITS
from clinic.scoring import prn

#: Hold parameters: (field name, vital, label).
HOLD_FIELDS = [
    (f"hold_{name}", name, f"Hold if {label} below") for name, label in prn.HOLD_PARAMETERS.items()
]

#: Plain bounds a typed value must fall within (the services check the clinical rules).
BOUNDS = {
    "dose": (0, 100000),
    "min_interval_minutes": (1, 4320),
    "max_doses_24h": (1, 48),
    "max_amount_24h": (0, 1000000),
    "score_threshold": (0, 67),
    "reassess_after_minutes": (1, 1440),
    **{name: (1, 300) for name, _vital, _label in HOLD_FIELDS},
}


def _text(label: str, max_chars: int, *, required: str | None = None):
    checks = [DataRequired(message=required)] if required else [Optional()]
    return StringField(
        label, validators=[*checks, Length(max=max_chars), PlainText()], render_kw={"maxlength": max_chars}
    )


class _KeyedForm(FlaskForm):
    class Meta:
        # As for every charting form: a save redirects without drawing the form, so its CSRF
        # token is signed only if it is drawn.
        csrf_class = _CSRFWhenDrawn

    idempotency_key = HiddenField(validators=[DataRequired(message=RELOAD), IDEMPOTENCY_KEY])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = uuid.uuid4().hex

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self.check_bounds() and valid

    def check_bounds(self) -> bool:
        """Put a message next to each typed number outside its plain bounds; return whether all fit."""
        fine = True
        for name, (low, high) in BOUNDS.items():
            field = self._fields.get(name)
            if field is None or field.errors or field.number is None:
                continue
            if not low <= field.number <= high or (low == 0 and field.number == 0):
                above = "more than 0" if low == 0 else f"at least {low}"
                field.errors = [*field.errors, f"Enter a number {above} and at most {high}."]
                fine = False
        return fine


class OrderForm(_KeyedForm):
    drug = _text("Drug", 80, required="Name the drug.")
    dose = StrictNumberField(
        "Dose",
        int_digits=6,
        frac_digits=3,
        validators=[DataRequired("Enter the dose.")],
        message="Enter the dose as a number such as 1 or 0.5, in digits.",
    )
    dose_unit = SelectField("Unit", choices=[(u, u) for u in UNITS])
    route = SelectField("Route", choices=[(r, r.capitalize()) for r in ROUTES])
    indication = _text("Indication", 200, required="Give the indication.")
    treats_scale = SelectField(
        "Symptom scale it treats", choices=[("", "None")] + list(TREATED_SCALES.items())
    )
    min_interval_minutes = StrictNumberField(
        "Minimum interval between doses (min)",
        int_digits=4,
        validators=[DataRequired("Enter the minimum interval.")],
    )
    max_doses_24h = StrictNumberField("Maximum doses per 24 h", int_digits=2, validators=[Optional()])
    max_amount_24h = StrictNumberField(
        "Maximum amount per 24 h (same unit)", int_digits=7, frac_digits=3, validators=[Optional()]
    )
    score_threshold = StrictNumberField(
        "Give when the score is at least", int_digits=2, validators=[Optional()]
    )
    hold_systolic_bp = StrictNumberField("Hold if systolic BP below", int_digits=3, validators=[Optional()])
    hold_diastolic_bp = StrictNumberField("Hold if diastolic BP below", int_digits=3, validators=[Optional()])
    hold_heart_rate = StrictNumberField("Hold if heart rate below", int_digits=3, validators=[Optional()])
    hold_respiratory_rate = StrictNumberField(
        "Hold if respiratory rate below", int_digits=3, validators=[Optional()]
    )
    hold_spo2 = StrictNumberField("Hold if SpO2 below", int_digits=3, validators=[Optional()])
    reassess_after_minutes = StrictNumberField(
        "Reassess the effect after (min)", int_digits=4, validators=[Optional()]
    )
    starts_at = DateTimeLocalField(
        "Start", format=TIME_FORMATS, validators=[DataRequired(message="Enter the start.")]
    )
    stops_at = DateTimeLocalField("Stop (optional)", format=TIME_FORMATS, validators=[Optional()])
    allergy_acknowledged = BooleanField("I have read the allergies and order it anyway")
    allergy_note = _text("Why (allergy acknowledgement)", 200)
    reason = _text("Reason for the change", 200)

    def hold_parameters(self) -> dict[str, int]:
        return {
            vital: int(self[name].number)
            for name, vital, _label in HOLD_FIELDS
            if self[name].number is not None
        }


class GiveForm(_KeyedForm):
    given_at = DateTimeLocalField(
        "Time given",
        format=TIME_FORMATS,
        validators=[DataRequired(message="Enter the time (earlier or now, never later).")],
    )
    outcome = RadioField("Outcome", choices=list(OUTCOMES.items()), default="given")
    dose = StrictNumberField(
        "Dose given",
        int_digits=6,
        frac_digits=3,
        validators=[Optional()],
        message="Enter the dose as a number such as 1 or 0.5, in digits.",
    )
    route = SelectField("Route", choices=[(r, r.capitalize()) for r in ROUTES])
    reason = _text("Reason (symptom, or why refused or held)", 200, required="Give the reason.")
    # The service checks the assessment belongs to the patient: listing the choices on every save
    # cost a query the dose does not need.
    prompting_assessment_id = SelectField(
        "Assessment that prompted it", coerce=int, choices=[(0, "None")], validate_choice=False
    )
    override_reason = _text("Override reason (only where the unit allows it)", 200)
    breach_reason = _text("Already given: reason for the limit breach", 200)


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EffectForm(_KeyedForm):
    assessed_at = DateTimeLocalField(
        "Time reassessed",
        format=TIME_FORMATS,
        validators=[DataRequired(message="Enter the time reassessed.")],
    )
    effect = RadioField(
        "Effect", choices=list(EFFECTS.items()), validators=[DataRequired(message="Choose the effect.")]
    )
    side_effects = _Checkboxes("Side effects", choices=list(SIDE_EFFECTS.items()), validators=[Optional()])
    note = _text("Note", 200)
    assessment_id = SelectField("Linked re-score", coerce=int, choices=[(0, "None")])


class DiscontinueForm(FlaskForm):
    reason = _text("Reason for discontinuing", 200, required="Give the reason for discontinuing.")


class UnitSettingsForm(FlaskForm):
    prn_override_allowed = BooleanField("Nurses may override a PRN limit, giving a reason")
