"""The assessment form: one radio group per item, built from the scale's definition."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from clinic.assessments import services
from clinic.forms import EntryForm, PlainText, StrictNumberField
from clinic.numbers import parse_int
from clinic.scoring import ciwa_b, ketamine, limits

YES_NO = {"yes": True, "no": False}


def _yes_no(label: str) -> RadioField:
    # Values are checked by the service, which says what is wrong next to the question.
    return RadioField(label, choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
                      validate_choice=False)


def _as_int(data: object) -> object:
    """Return a chosen value as an int; anything else unchanged, for the scale to refuse."""
    if data in (None, "", "None"):
        return None
    try:
        return parse_int(str(data), digits=3, signed=True)
    except ValueError:
        return data


class AssessmentForm(EntryForm):
    """Fields every scale's form has; form_class() adds the scale's own questions."""

    scale: services.ScaleDefinition

    unable_reason = TextAreaField(
        "Why can the patient not be assessed?", validators=[PlainText(), Optional(), Length(max=2000)]
    )
    save = SubmitField("Save assessment")
    save_unable = SubmitField("Record: unable to assess")

    heart_rate_value: int | None = None

    @property
    def unable(self) -> bool:
        """Return whether the nurse pressed "unable to assess" rather than save."""
        return bool(self.save_unable.data)

    def item_values(self) -> dict[str, object]:
        return {item.key: _as_int(self[item.key].data) for item in self.scale.chosen_items}

    def yes_no_values(self) -> dict[str, bool | None]:
        return {key: YES_NO.get(self[key].data) for key, _ in self.scale.yes_no_items}

    @property
    def self_harm_answer(self) -> bool | None:
        return YES_NO.get(self["self_harm_thoughts"].data) if self.scale.asks_self_harm else None

    def suicide_values(self) -> dict[str, bool | None] | None:
        """Return the screen's answers; the thoughts questions count only after a yes to open it."""
        if not self.scale.asks_self_harm:
            return None
        thoughts = self.self_harm_answer
        return {key: (YES_NO.get(self[key].data)
                      if thoughts or key not in services.SUICIDE_AFTER_GATE else None)
                for key in services.SUICIDE_QUESTIONS}

    def sleep_values(self) -> tuple[Decimal | None, Decimal | None]:
        """Return CIWA-B's unscored sleep answers as typed numbers (None when blank)."""
        if not self.scale.asks_sleep:
            return None, None
        return self["sleep_hours"].number, self["sleep_latency"].number

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.unable:
            if not (self.unable_reason.data or "").strip():
                self.unable_reason.errors.append(
                    "Give the reason the patient could not be assessed.")
        else:
            self._check_heart_rate()
            errors = services.answer_errors(
                self.scale, items=self.item_values(), yes_no=self.yes_no_values(),
                self_harm_thoughts=self.self_harm_answer, suicide_answers=self.suicide_values(),
            )
            for name, message in errors.items():
                self[name].errors.append(message)
            if self.scale.asks_sleep:
                for name, message in ciwa_b.sleep_errors(*self.sleep_values()).items():
                    if not self[name].errors:
                        self[name].errors.append(message)
        return valid and not any(f.errors for f in self)

    def _check_heart_rate(self) -> None:
        if not self.scale.asks_heart_rate:
            return
        text = (self["heart_rate"].data or "").strip()
        if not text:
            return
        verdict = limits.check("heart_rate", text)
        if verdict.tier == limits.REFUSE:
            self["heart_rate"].errors.append(verdict.message)
        else:
            self.heart_rate_value = verdict.value


@cache
def form_class(code: str, version: str | None = None) -> type[AssessmentForm]:
    """Return the form class for a scale: a radio group per item, plus its own questions."""
    scale = services.definition(code, version)
    fields: list[tuple[str, object]] = [
        (item.key, RadioField(
            item.label,
            choices=[SelectChoice(str(value), str(value)) for value in item.allowed_values],
            validate_choice=False,
        ))
        for item in scale.chosen_items
    ]
    fields += [(key, _yes_no(label)) for key, label in scale.yes_no_items]
    if scale.asks_sleep:
        fields += [
            ("sleep_hours", StrictNumberField(ciwa_b.SLEEP_HOURS_QUESTION, int_digits=2, frac_digits=1)),
            ("sleep_latency", StrictNumberField(ciwa_b.SLEEP_LATENCY_QUESTION, int_digits=4)),
        ]
    if scale.asks_heart_rate:
        fields.append(("heart_rate", StringField(
            "Resting heart rate", render_kw={"inputmode": "numeric", "autocomplete": "off"})))
    if scale.asks_self_harm:
        fields.append(("self_harm_thoughts", _yes_no(ketamine.GATE_QUESTION)))
        fields += [(key, _yes_no(question)) for key, question in ketamine.QUESTIONS]
    names = [name for name, _ in fields]
    # A configurable checklist must not reuse a name, or one answer would silently replace another.
    clashes = sorted({n for n in names if names.count(n) > 1 or hasattr(AssessmentForm, n)})
    if clashes:
        raise ValueError(f"item keys clash with other form fields: {', '.join(clashes)}")
    name = f"{code.title().replace('_', '')}Form"
    return type(name, (AssessmentForm,), {"scale": scale, **dict(fields)})
