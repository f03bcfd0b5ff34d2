"""The vital-signs form: typed text checked against the input limits."""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from clinic.forms import EntryForm, PlainText
from clinic.numbers import parse_decimal
from clinic.vitals.services import CONSCIOUSNESS, MEASURED, OXYGEN_DEVICES, check_values


def _number(label: str, *, decimal: bool = False) -> StringField:
    # Text, not IntegerField: the limits give the messages, and "98.6" must reach them intact.
    return StringField(
        label, render_kw={"inputmode": "decimal" if decimal else "numeric", "autocomplete": "off"}
    )


#: The parameters NEWS2 is scored from, and what each asks for when a set is sent empty.
NEWS2_FIELDS = {
    "respiratory_rate": "Enter the respiratory rate.",
    "spo2": "Enter the SpO₂.",
    "air_or_oxygen": "Choose air or oxygen.",
    "systolic_bp": "Enter the systolic BP.",
    "heart_rate": "Enter the heart rate.",
    "consciousness": "Choose A, C, V, P or U.",
    "temperature": "Enter the temperature.",
}


class VitalsForm(EntryForm):
    heart_rate = _number("Heart rate")
    systolic_bp = _number("Systolic BP")
    diastolic_bp = _number("Diastolic BP")
    respiratory_rate = _number("Respiratory rate")
    temperature = _number("Temperature", decimal=True)
    spo2 = _number("SpO₂")
    air_or_oxygen = RadioField(
        "Air or oxygen", choices=[("air", "Air"), ("oxygen", "Oxygen")], validate_choice=False
    )
    oxygen_device = SelectField(
        "Oxygen device", choices=[("", "Choose…"), *OXYGEN_DEVICES.items()], validate_choice=False
    )
    oxygen_flow = _number("Oxygen flow", decimal=True)
    consciousness = RadioField(
        "Consciousness (ACVPU)", choices=list(CONSCIOUSNESS.items()), validate_choice=False
    )
    pain = _number("Pain (0–10)")
    glucose = _number("Capillary glucose", decimal=True)
    #: The meter's words have their own buttons: the glucose field opens a number keypad.
    glucose_meter = RadioField(
        "Glucose meter reading", choices=[("", "Number"), ("LO", "Meter reads LO"),
                                          ("HI", "Meter reads HI")], validate_choice=False)
    confirmed = BooleanField("Re-measured and confirmed")

    checked = None
    #: The unit's glucose unit; the view sets it before validating.
    glucose_unit = "mmol/L"

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        raw = {name: getattr(self, name).data for name in MEASURED}
        meter = self.glucose_meter.data if self.glucose_meter.data in ("LO", "HI") else None
        if meter and (raw["glucose"] or "").strip() not in ("", meter):
            self.glucose.errors.append(f"Type a number or choose “Meter reads {meter}”, not both.")
        elif meter:
            raw["glucose"] = meter
        self.checked = check_values(raw, confirmed=self.confirmed.data,
                                    glucose_unit=self.glucose_unit)
        for name, message in self.checked.errors.items():
            getattr(self, name).errors.append(message)
        if self.air_or_oxygen.data not in (None, "", "None", "air", "oxygen"):
            self.air_or_oxygen.errors.append("Choose air or oxygen.")
        if self.consciousness.data not in (None, "", "None", *CONSCIOUSNESS):
            self.consciousness.errors.append("Choose A, C, V, P or U.")
        if self.on_oxygen:
            if not self.oxygen_device.data:
                self.oxygen_device.errors.append("Choose the oxygen device.")
            if self.oxygen_flow_value is None:
                self.oxygen_flow.errors.append("Enter the flow in L/min (0.1–60).")
        if valid and self._nothing_entered():
            # Mark what a full NEWS2 set needs rather than one message far from any field.
            self.form_errors.append("Enter at least one measurement. The fields NEWS2 needs are "
                                    "marked; a partial set is fine when the patient is asleep.")
            for name, message in NEWS2_FIELDS.items():
                getattr(self, name).errors.append(message)
        return valid and not self.form_errors and not any(f.errors for f in self)

    def _nothing_entered(self) -> bool:
        typed = [getattr(self, name).data for name in MEASURED]
        return (not any((value or "").strip() for value in typed)
                and self.on_oxygen is None and self.consciousness_value is None)

    @property
    def on_oxygen(self) -> bool | None:
        return {"air": False, "oxygen": True}.get(self.air_or_oxygen.data)

    @property
    def consciousness_value(self) -> str | None:
        return self.consciousness.data if self.consciousness.data in CONSCIOUSNESS else None

    @property
    def oxygen_flow_value(self) -> Decimal | None:
        try:
            flow = parse_decimal(self.oxygen_flow.data, int_digits=3, frac_digits=3)
        except ValueError:
            return None
        if flow is None or not Decimal("0.1") <= flow <= Decimal("60"):
            return None
        return flow.quantize(Decimal("0.1"))


class Spo2ScaleForm(FlaskForm):
    scale = RadioField(
        "SpO₂ scale",
        choices=[("1", "Scale 1 (default)"), ("2", "Scale 2: confirmed hypercapnic respiratory failure")],
        validators=[DataRequired(message="Choose a scale.")],
    )
    reason = TextAreaField("Clinical reason", validators=[
        PlainText(), DataRequired(message="Give the reason."), Length(max=1000)])
