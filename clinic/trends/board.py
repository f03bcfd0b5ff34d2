"""The board's line about each patient's last trend review (one query for the whole unit)."""

from __future__ import annotations

from datetime import datetime, timedelta

from markupsafe import Markup, escape
from sqlalchemy import bindparam, func, select

from clinic.extensions import db
from clinic.models import TrendReview, User
from clinic.routing import url_pattern
from clinic.timefmt import ago

#: A patient whose trends nobody reviewed for this long is flagged on the board.
REVIEW_OVERDUE = timedelta(hours=24)

# Review ids grow with time (reviewed_at is the time of saving), so the newest is the largest id.
_LAST_REVIEWS = (
    select(TrendReview.admission_id, TrendReview.reviewed_at, User.display_name)
    .join(User, User.id == TrendReview.reviewed_by_id)
    .where(TrendReview.id.in_(
        select(func.max(TrendReview.id))
        .where(TrendReview.admission_id.in_(bindparam("ids", expanding=True)))
        .group_by(TrendReview.admission_id)
    ))
)


def last_reviews(admission_ids: list[int]) -> dict[int, tuple[datetime, str]]:
    """Return admission id -> (when, by whom) of its newest trend review."""
    if not admission_ids:
        return {}
    return {row.admission_id: (row.reviewed_at, row.display_name)
            for row in db.session.execute(_LAST_REVIEWS, {"ids": admission_ids})}


class ReviewCells:
    """Draws the review line of each patient on one board view."""

    def __init__(self, admission_ids: list[int], now: datetime):
        self.now = now
        self.reviews = last_reviews(admission_ids)
        self._trends = url_pattern("trends.timeline", "admission_id")

    def __call__(self, admission_id: int) -> Markup:
        link = self._trends(admission_id=admission_id)
        review = self.reviews.get(admission_id)
        if review is None:
            said = "Trends not reviewed yet"
        else:
            at, who = review
            said = f"Trends reviewed {ago(at, self.now)} by {escape(who)}"
        if review is None or self.now - review[0] > REVIEW_OVERDUE:
            return Markup(f'<br><a class="review-due" href="{link}"><span class="badge badge-allergy">'
                          f'⚠ not reviewed in 24 h</span></a> <span class="muted small">{said}</span>')
        return Markup(f'<br><a class="small reviewed" href="{link}">{said}</a>')
