"""The nursing-note form."""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from clinic.forms import EntryForm, PlainText

#: Longest note accepted; a longer one is split in two rather than cut off.
MAX_NOTE_CHARS = 10_000


class NoteForm(EntryForm):
    text = TextAreaField(
        "Note",
        validators=[
            PlainText(),
            DataRequired(message="Write the note; an empty note is not saved."),
            Length(max=MAX_NOTE_CHARS, message="A note can be at most 10,000 characters; "
                                               "split it into two notes."),
        ],
        # No maxlength attribute: a browser would cut a pasted note short without saying so.
        render_kw={"rows": 10, "maxlength": False},
    )
