"""The assignment sheet: one nurse select per bed, built for the beds of the unit."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField

from clinic.numbers import parse_int

UNASSIGNED = ""


class AssignmentSheetForm(FlaskForm):
    """The shift being edited; a select and the value shown for each bed are added per unit."""

    #: UTC start of the shift the sheet was opened for, so a save after shift change is caught.
    shift_start = HiddenField()

    beds: list[int] = []

    def chosen(self) -> dict[int, int | None]:
        """Return the nurse chosen per bed (None: unassigned)."""
        return {bed_id: _nurse_id(self[f"bed_{bed_id}"].data) for bed_id in self.beds}

    def shown(self) -> dict[int, int | None]:
        """Return the nurse per bed as the sheet showed it when it was opened, where it says so."""
        result = {}
        for bed_id in self.beds:
            value = self[f"seen_{bed_id}"].data
            if value is not None:
                result[bed_id] = _nurse_id(value)
        return result


def _nurse_id(value: str | None) -> int | None:
    try:
        return parse_int(value, digits=9)
    except ValueError:
        return None


def sheet_form(rows, nurses, **kwargs) -> AssignmentSheetForm:
    """Build the sheet for `rows` (BedRow) offering `nurses`; a bed keeps its current nurse as a choice."""
    offered = [(str(user.id), user.display_name) for user in nurses]
    offered_ids = {user.id for user in nurses}

    class Sheet(AssignmentSheetForm):
        pass

    for row in rows:
        choices = [(UNASSIGNED, "Unassigned"), *offered]
        holder = row.assignment.nurse if row.assignment is not None else None
        if holder is not None and holder.id not in offered_ids:
            # A nurse since deactivated stays shown where she was assigned, marked so.
            choices.append((str(holder.id), f"{holder.display_name} (no longer active)"))
        label = f"Nurse for bed {row.bed.label}"
        setattr(Sheet, f"bed_{row.bed.id}", SelectField(
            label, choices=choices, default=str(row.nurse_id or UNASSIGNED),
            invalid_choice_message="Choose a nurse from the list, or Unassigned.",
        ))
        setattr(Sheet, f"seen_{row.bed.id}", HiddenField(default=str(row.nurse_id or UNASSIGNED)))
    Sheet.beds = [row.bed.id for row in rows]
    return Sheet(**kwargs)
