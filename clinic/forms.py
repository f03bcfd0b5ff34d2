"""Forms and fields shared by several features."""

import uuid

from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from wtforms import DateTimeLocalField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


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
    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=64)])
    correction_reason = TextAreaField(
        "Reason for the correction", validators=[Optional(), Length(max=2000)]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = uuid.uuid4().hex


class RetractForm(FlaskForm):
    reason = TextAreaField(
        "Why was this entered in error?",
        validators=[DataRequired(message="Give the reason."), Length(max=2000)],
    )
