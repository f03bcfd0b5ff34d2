"""Writes of the trends feature: the physician's review sign-off."""

from __future__ import annotations

from sqlalchemy import select

from clinic import audit
from clinic.extensions import db
from clinic.models import Admission, TrendReview, User


class ReviewError(Exception):
    """A refused sign-off, with the field it belongs next to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def record_review(*, by: User, admission: Admission, comment: str | None,
                  idempotency_key: str) -> TrendReview:
    """Sign off the trends as reviewed now; a resubmitted form returns the review already saved."""
    if not by.has_role("physician"):
        raise ReviewError("Only a physician can mark the trends reviewed.")
    saved = db.session.scalar(select(TrendReview).where(TrendReview.idempotency_key == idempotency_key))
    if saved is not None:
        return saved
    review = TrendReview(admission_id=admission.id, reviewed_by_id=by.id,
                         comment=(comment or "").strip() or None, idempotency_key=idempotency_key)
    db.session.add(review)
    db.session.flush()
    audit.record("create", user=by, object_type="trend_review", object_id=review.id,
                 patient_id=admission.patient_id, clinical_at=review.reviewed_at,
                 detail={"comment": review.comment} if review.comment else {},
                 content_of=review)
    return review
