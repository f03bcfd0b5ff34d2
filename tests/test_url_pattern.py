"""url_pattern: the board's links, built from url_for's own answer once per view."""

import pytest
from flask import url_for

from clinic.routing import url_pattern


def test_url_pattern_gives_url_fors_answer(app):
    with app.test_request_context("/"):
        vitals = url_pattern("vitals.show", "admission_id", "vitals_id")
        expected = url_for("vitals.show", admission_id=7, vitals_id=12345)
        assert vitals(admission_id=7, vitals_id=12345) == expected
        board = url_pattern("board.unit", "unit_id", sort="overdue", mine=1)
        assert board(unit_id=3) == url_for("board.unit", unit_id=3, sort="overdue", mine=1)


def test_url_pattern_refuses_an_argument_it_cannot_place(app):
    with app.test_request_context("/"), pytest.raises(ValueError, match="unit_id"):
        # A query value that repeats the placeholder would make the pattern ambiguous.
        url_pattern("board.unit", "unit_id", sort="987654321")
