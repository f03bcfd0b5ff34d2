"""Forms and fields shared by several features."""

import re
import uuid

from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from wtforms import DateTimeLocalField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, StopValidation

from clinic.numbers import parse_decimal, parse_int

TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


#: Control characters other than tab, line feed and carriage return (NUL among them).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class PlainText:
    """Refuse control characters (NUL, escape, …) in typed text; tab and new lines are fine.

    PostgreSQL cannot store a NUL in text at all, and the others only hide what was written.
    """

    def __init__(self, message: str = "Remove the control characters (they cannot be stored)."):
        self.message = message

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and _CONTROL.search(field.data):
            raise StopValidation(self.message)


class StrictNumberField(StringField):
    """A typed number, kept as typed and parsed by ``clinic.numbers.parse_decimal``.

    The parsed value is ``field.number`` (a Decimal, or None when left blank); text that is not a
    plain number of at most the digits the field needs stops validation with ``message``. Ranges
    are the form's or the service's to check, against ``number``.
    """

    def __init__(self, label=None, validators=None, *, int_digits: int, frac_digits: int = 0,
                 signed: bool = False, message: str | None = None, **kwargs):
        render_kw = {"inputmode": "decimal" if frac_digits or signed else "numeric", "autocomplete": "off"}
        render_kw.update(kwargs.pop("render_kw", None) or {})
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        self.int_digits, self.frac_digits, self.signed = int_digits, frac_digits, signed
        example = "12.5" if frac_digits else "12"
        self.message = message or f"Enter a number such as {example}, in digits."
        self.number = None

    def pre_validate(self, form) -> None:
        try:
            self.number = parse_decimal(self.data, int_digits=self.int_digits,
                                        frac_digits=self.frac_digits, signed=self.signed)
        except ValueError:
            self.number = None
            raise StopValidation(self.message) from None


class StrictIntegerField(IntegerField):
    """A whole number parsed by ``clinic.numbers.parse_int`` (``data`` is an int, or None if blank).

    Anything that is not at most ``digits`` plain digits is refused with ``message``, and the
    typed text is shown back as it was.
    """

    def __init__(self, label=None, validators=None, *, digits: int, message: str,
                 signed: bool = False, **kwargs):
        render_kw = {"inputmode": "numeric", "autocomplete": "off"}
        render_kw.update(kwargs.pop("render_kw", None) or {})
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        self.digits, self.message, self.signed = digits, message, signed

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse_int(valuelist[0], digits=self.digits, signed=self.signed)
        except ValueError:
            self.data = None
            raise ValueError(self.message) from None


#: The key a form carries so a resubmission never saves twice: made by the server (a uuid), so
#: anything else was tampered with, and it rides in the saved page's URL fragment (drafts.js).
IDEMPOTENCY_KEY = Regexp(r"^[A-Za-z0-9_-]{1,64}$", message="This form is damaged: open it again.")
#: A hidden field arrived empty: only a damaged or hand-made form does that.
RELOAD = "This form is damaged: open it again."


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST-only buttons."""


class _TokenWhenDrawn:
    """A form's CSRF token, signed only when the form is drawn.

    A charting form that saves redirects without drawing itself, and signing the token it would
    never show was a noticeable part of the most frequent request on the ward (bench/).
    """

    __slots__ = ("_sign", "_token")

    def __init__(self, sign):
        self._sign, self._token = sign, None

    def __str__(self) -> str:
        if self._token is None:
            self._token = self._sign()
        return self._token

    __html__ = __str__


class _CSRFWhenDrawn(_FlaskFormCSRF):
    """Flask-WTF's form CSRF (checking is unchanged), with the token signed on demand."""

    def generate_csrf_token(self, csrf_token_field):
        parent = super()
        return _TokenWhenDrawn(lambda: parent.generate_csrf_token(csrf_token_field))


class EntryForm(FlaskForm):
    """Fields every charting form has: the clinical time and a key that makes saving idempotent."""

    class Meta:
        csrf_class = _CSRFWhenDrawn

    observed_at = DateTimeLocalField(
        "Time observed", format=TIME_FORMATS,
        validators=[DataRequired(message="Enter the time (it may be earlier, never later, than now).")],
    )
    idempotency_key = HiddenField(validators=[DataRequired(message=RELOAD), IDEMPOTENCY_KEY])
    correction_reason = TextAreaField(
        "Reason for the correction", validators=[PlainText(), Optional(), Length(max=2000)]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = uuid.uuid4().hex


class RetractForm(FlaskForm):
    reason = TextAreaField(
        "Why was this entered in error?",
        validators=[PlainText(), DataRequired(message="Give the reason."), Length(max=2000)],
    )
