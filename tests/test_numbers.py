"""The strict number parser every typed number goes through."""

import time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from clinic.forms import StrictNumberField
from clinic.numbers import parse_decimal, parse_int


@pytest.mark.parametrize("text, expected", [
    ("37.5", Decimal("37.5")), (" 72 ", Decimal("72")), ("0", Decimal("0")), ("5.", Decimal("5")),
    ("", None), ("   ", None), (None, None),
])
def test_plain_numbers_parse(text, expected):
    assert parse_decimal(text, int_digits=3, frac_digits=1) == expected


@pytest.mark.parametrize("text", [
    "1e1200000", "1e100000", "NaN", "nan", "inf", "-Infinity", "1_000", "٣", "12.34", "1234",
    "+1", "-1", ".5", "1,5", "0x10", "1 2", "\x001", "١٢",
])
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        parse_decimal(text, int_digits=3, frac_digits=1)


def test_huge_input_is_refused_at_once():
    started = time.perf_counter()
    with pytest.raises(ValueError):
        parse_decimal("9" * 1_000_000, int_digits=3)
    with pytest.raises(ValueError):
        parse_int("1e1200000", digits=3)
    assert time.perf_counter() - started < 1  # a generous bound: the old path took tens of seconds


def test_signed_numbers_only_when_asked():
    assert parse_int("-12", digits=2, signed=True) == -12
    with pytest.raises(ValueError):
        parse_int("-12", digits=2)


@given(st.decimals(min_value=0, max_value=999, places=1, allow_nan=False, allow_infinity=False))
def test_round_trip(value):
    assert parse_decimal(str(value), int_digits=3, frac_digits=1) == value


@given(st.text(max_size=40))
def test_any_text_parses_to_a_bounded_number_or_is_refused(text):
    try:
        value = parse_decimal(text, int_digits=3, frac_digits=1)
    except ValueError:
        return
    assert value is None or (value.is_finite() and 0 <= value < 1000)


def test_field_keeps_the_text_and_gives_its_message(app):
    from flask_wtf import FlaskForm

    class Form(FlaskForm):
        class Meta:
            csrf = False

        dose = StrictNumberField("Dose", int_digits=4, frac_digits=2, message="Enter the dose in digits.")

    with app.test_request_context():
        form = Form(formdata=MultiDict({"dose": "1e5"}))
        assert not form.validate()
        assert form.dose.errors == ["Enter the dose in digits."]
        assert form.dose.data == "1e5"
        form = Form(formdata=MultiDict({"dose": "12.5"}))
        assert form.validate()
        assert form.dose.number == Decimal("12.5")


@pytest.mark.parametrize("text, ok", [
    ("line one\nline two\ttabbed\r\n", True), ("nul\x00here", False), ("esc\x1b[31m", False),
    ("del\x7f", False), ("café ✓", True),
])
def test_plain_text_refuses_control_characters(app, text, ok):
    from flask_wtf import FlaskForm
    from wtforms import TextAreaField

    from clinic.forms import PlainText

    class Form(FlaskForm):
        class Meta:
            csrf = False

        note = TextAreaField("Note", validators=[PlainText()])

    with app.test_request_context():
        form = Form(formdata=MultiDict({"note": text}))
        assert form.validate() is ok
        assert form.note.data == text
