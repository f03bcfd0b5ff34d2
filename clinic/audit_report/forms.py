"""The audit search filters, read from the query string."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import Length, Optional, Regexp, ValidationError

from clinic.forms import PlainText
from clinic.models.audit import ACTIONS

ANY_ACTION = "any"
#: Sortable columns, in the order the table shows them.
SORT_COLUMNS = ("occurred_at", "user", "patient", "action", "object", "ip")
DEFAULT_SORT = "occurred_at"
DEFAULT_DIRECTION = "desc"
#: Dates outside these years are typing mistakes, and would overflow the UTC conversion.
EARLIEST_YEAR, LATEST_YEAR = 1900, 9998


def _plausible_date(_form, field) -> None:
    if field.data is not None and not EARLIEST_YEAR <= field.data.year <= LATEST_YEAR:
        raise ValidationError(f"Enter a date between {EARLIEST_YEAR} and {LATEST_YEAR}.")


class AuditSearchForm(FlaskForm):
    """Filters of the audit report; a GET form, so no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False

    user = StringField(
        "User name",
        validators=[PlainText(), Optional(), Length(max=65)],
        description="Exact name, or end with * for every name starting with it (nurse*).",
    )
    mrn = StringField(
        "Patient MRN",
        validators=[
            PlainText(),
            Optional(),
            Length(max=32),
            Regexp(r"^\s*[A-Za-z0-9-]+\s*$", message="Use letters, digits and hyphens only."),
        ],
    )
    action = SelectField(
        "Action",
        choices=[(ANY_ACTION, "Any"), *((a, a.replace("_", " ")) for a in ACTIONS)],
        default=ANY_ACTION,
    )
    date_from = DateField("From (date)", validators=[Optional(), _plausible_date])
    date_to = DateField("To (date, inclusive)", validators=[Optional(), _plausible_date])
    # Kept through a new search so changing a filter does not lose the chosen order.
    sort = HiddenField(default=DEFAULT_SORT)
    dir = HiddenField(default=DEFAULT_DIRECTION)

    def validate_date_from(self, field) -> None:
        to: date | None = self.date_to.data
        if field.data is not None and to is not None and field.data > to:
            raise ValidationError("The start date is after the end date.")

    @property
    def sort_column(self) -> str:
        return self.sort.data if self.sort.data in SORT_COLUMNS else DEFAULT_SORT

    @property
    def descending(self) -> bool:
        return self.dir.data != "asc"
