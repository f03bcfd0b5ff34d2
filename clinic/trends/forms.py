"""The physician's review sign-off and the chosen time range."""

from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from clinic.forms import IDEMPOTENCY_KEY, RELOAD, PlainText
from clinic.models.trends import REVIEW_COMMENT_MAX


class ReviewForm(FlaskForm):
    comment = TextAreaField(
        "Comment (optional)",
        validators=[Optional(), Length(max=REVIEW_COMMENT_MAX,
                                       message=f"Keep the comment to {REVIEW_COMMENT_MAX} characters."),
                    PlainText()],
    )
    idempotency_key = HiddenField(validators=[DataRequired(message=RELOAD), IDEMPOTENCY_KEY])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.idempotency_key.data:
            self.idempotency_key.data = uuid.uuid4().hex
