"""PRN (as-needed) medications: physician orders, doses given, held or refused, and their effect.

Every table is append-only. An order is never edited: it is discontinued by a discontinuation row,
or changed by a new order that supersedes it (which also discontinues it). A dose charted by
mistake is marked entered in error by the shared retraction row (clinic.entries), so doses are
ClinicalEntry rows whose clinical time, ``observed_at``, is the time given.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.db import UTCDateTime, utc_now
from clinic.extensions import db
from clinic.models.charting import ENTRY_MODELS, Assessment, ClinicalEntry
from clinic.models.patient import Admission
from clinic.models.user import User

GIVEN = "given"
REFUSED = "refused"
HELD = "held"
OUTCOMES = {GIVEN: "Given", REFUSED: "Refused by the patient", HELD: "Held"}

EFFECTS = {"better": "Better", "unchanged": "Unchanged", "worse": "Worse", "asleep": "Asleep"}
SIDE_EFFECTS = {
    "sedation": "Sedation", "low_blood_pressure": "Low blood pressure", "dizziness": "Dizziness",
    "nausea": "Nausea", "respiratory_depression": "Slow or shallow breathing", "other": "Other",
}

#: Exact decimal amounts: up to 9 digits before the point and 3 after (0.125 mg, 1000 mg).
AMOUNT = Numeric(12, 3)


class PrnOrder(db.Model):
    """A physician's as-needed order with its limits; immutable once written."""

    __tablename__ = "prn_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"), index=True)
    drug: Mapped[str] = mapped_column(String(80))
    #: "benzodiazepine", "opioid" or "other" (clinic.scoring.prn.drug_class), for the combination warning.
    drug_class: Mapped[str] = mapped_column(String(20))
    dose: Mapped[Decimal] = mapped_column(AMOUNT)
    dose_unit: Mapped[str] = mapped_column(String(10))
    route: Mapped[str] = mapped_column(String(20))
    indication: Mapped[str] = mapped_column(String(200))
    #: The withdrawal scale the order treats (ciwa_ar, cows, ciwa_b), if any.
    treats_scale: Mapped[str | None] = mapped_column(String(20))
    min_interval_minutes: Mapped[int] = mapped_column()
    max_doses_24h: Mapped[int | None] = mapped_column()
    max_amount_24h: Mapped[Decimal | None] = mapped_column(AMOUNT)
    #: "Give when <treats_scale> ≥ threshold".
    score_threshold: Mapped[int | None] = mapped_column()
    #: Vital -> value: hold if the latest value is below it (clinic.scoring.prn.HOLD_PARAMETERS).
    hold_parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Minutes after a dose at which its effect is reassessed.
    reassess_after_minutes: Mapped[int] = mapped_column()
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stops_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    prescribed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    prescribed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    #: The order this one replaces (one replacement per order).
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("prn_order.id"), unique=True)
    #: The drug matched the patient's allergies and the physician acknowledged it.
    allergy_acknowledged: Mapped[bool] = mapped_column(default=False)
    allergy_note: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)

    admission: Mapped[Admission] = relationship()
    prescribed_by: Mapped[User] = relationship()
    supersedes: Mapped[PrnOrder | None] = relationship(remote_side=[id])

    @property
    def min_interval(self) -> timedelta:
        return timedelta(minutes=self.min_interval_minutes)


class PrnDiscontinuation(db.Model):
    """The end of an order: discontinued by a physician, or superseded by a new order."""

    __tablename__ = "prn_discontinuation"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("prn_order.id"), unique=True)
    discontinued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    discontinued_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(String(200))

    order: Mapped[PrnOrder] = relationship()
    discontinued_by: Mapped[User] = relationship()


class PrnDose(ClinicalEntry, db.Model):
    """A dose given, refused by the patient or held; ``observed_at`` is the time given."""

    __tablename__ = "prn_dose"
    __table_args__ = (
        Index("ix_prn_dose_admission_observed", "admission_id", "observed_at", "id"),
        Index("ix_prn_dose_order_observed", "order_id", "observed_at"),
    )
    kind = "prn_dose"

    order_id: Mapped[int] = mapped_column(ForeignKey("prn_order.id"))
    dose: Mapped[Decimal | None] = mapped_column(AMOUNT)
    route: Mapped[str] = mapped_column(String(20))
    #: given, refused or held; only "given" counts toward the order's limits.
    outcome: Mapped[str] = mapped_column(String(10))
    #: Why it was given (symptom), refused or held.
    reason: Mapped[str] = mapped_column(String(200))
    prompting_assessment_id: Mapped[int | None] = mapped_column(ForeignKey("withdrawal_assessment.id"))
    #: A limit the unit allowed to be overridden, and why; shown as an override everywhere.
    override_rule: Mapped[str | None] = mapped_column(String(30))
    override_reason: Mapped[str | None] = mapped_column(String(200))
    #: A back-dated dose that broke a limit: it was already given, so it is recorded and escalated.
    breach_rule: Mapped[str | None] = mapped_column(String(30))
    breach_reason: Mapped[str | None] = mapped_column(String(200))
    #: When the effect is to be reassessed (given doses only).
    effect_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    order: Mapped[PrnOrder] = relationship()
    prompting_assessment: Mapped[Assessment | None] = relationship()

    @property
    def given_at(self) -> datetime:
        return self.observed_at


class PrnEffect(db.Model):
    """The effect reassessment of a dose; the first one completes the follow-up."""

    __tablename__ = "prn_effect"
    #: Its kind in entry_retraction when marked entered in error.
    kind = "prn_effect"

    id: Mapped[int] = mapped_column(primary_key=True)
    dose_id: Mapped[int] = mapped_column(ForeignKey("prn_dose.id"), index=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"), index=True)
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    #: better, unchanged, worse or asleep.
    effect: Mapped[str] = mapped_column(String(10))
    side_effects: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(String(200))
    #: The re-score recorded with the effect, if any.
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("withdrawal_assessment.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)

    dose: Mapped[PrnDose] = relationship()
    recorded_by: Mapped[User] = relationship()
    assessment: Mapped[Assessment | None] = relationship()


# Doses charted by mistake are retracted like every other charted entry.
ENTRY_MODELS[PrnDose.kind] = PrnDose
