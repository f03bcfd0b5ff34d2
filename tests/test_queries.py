"""The newest entries per admission: the board's and due list's one fetch of scores.

SQLite answers through a ladder of correlated subqueries and PostgreSQL through LATERAL walks;
CI runs this file on both, so both must rank alike: newest first by clinical time, then by id,
skipping corrected and retracted rows, and never mixing admissions or scales.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import bindparam

from clinic import entries
from clinic.admissions import services as admissions
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Admission, SafetyCheck
from clinic.monitoring.queries import current_admissions, latest_scores, nth_latest_ids, recent_entries
from clinic.vitals import services as vitals_services
from tests.test_duelist import VITALS, chart_ciwa_ar, chart_ketamine, chart_vitals


def test_newest_entries_rank_by_time_and_skip_amended_rows(app, make_admission, make_user):
    nurse = make_user("nurse")
    now = utc_now().replace(microsecond=0)
    first = make_admission(protocols=("vitals", "ciwa_ar", "ketamine"), substances=(("alcohol", 20),))
    second = make_admission(unit=first.unit, protocols=("vitals", "ketamine"))

    def at(minutes_ago):
        return now - timedelta(minutes=minutes_ago)

    # Charted out of clinical order, so id order and time order disagree.
    oldest = chart_ciwa_ar(first, nurse, at(300), 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
    newest = chart_ciwa_ar(first, nurse, at(60), 2, 2, 2, 2, 2, 2, 2, 2, 2, 2)
    middle = chart_ciwa_ar(first, nurse, at(180), 3, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    retracted = chart_ciwa_ar(first, nurse, at(30), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    entries.retract(by=nurse, entry=retracted, reason="wrong patient")
    older_set = chart_vitals(first, nurse, at(240))
    corrected = chart_vitals(first, nurse, at(120))
    same_time = chart_vitals(first, nurse, at(120), heart_rate=95)
    ketamine_first = chart_ketamine(first, nurse, at(90))
    ketamine_second = chart_ketamine(second, nurse, at(45))
    replacement = vitals_services.record_vitals(
        by=nurse, admission=first, observed_at=at(120),
        checked=vitals_services.check_values(VITALS, confirmed=False),
        on_oxygen=False, oxygen_device=None, oxygen_flow=None, consciousness="A", confirmed=False,
        idempotency_key=uuid.uuid4().hex, supersedes=corrected, correction_reason="typo",
    )
    db.session.commit()

    ids = [first.id, second.id]
    recent = recent_entries(ids)

    def newest_ids(admission, key, depth):
        return [getattr(recent.entry(admission.id, (key, n)), "id", None) for n in range(depth)]

    assert newest_ids(first, "ciwa_ar", 3) == [newest.id, middle.id, oldest.id]
    # Same clinical time: the later id (the correction of the other set) comes first.
    assert newest_ids(first, "news2", 2) == [replacement.id, same_time.id]
    assert newest_ids(first, "ketamine", 2) == [ketamine_first.id, None]
    assert newest_ids(second, "ketamine", 1) == [ketamine_second.id]
    assert newest_ids(second, "ciwa_ar", 1) == [None]
    assert newest_ids(second, "news2", 1) == [None]
    assert older_set.id not in newest_ids(first, "news2", 2)
    # The rows hold what the badges and due times read.
    row = recent.entry(first.id, ("ciwa_ar", 0))
    assert (row.total, row.band, row.outcome, row.observed_at) == (
        newest.total, newest.band, newest.outcome, newest.observed_at)
    assert [r.id for r in recent.results(first.id, "ciwa_ar")] == [newest.id, middle.id, oldest.id]

    scores = latest_scores(ids, recent)
    assert scores[first.id]["ciwa_ar"].latest.id == newest.id
    assert scores[first.id]["ciwa_ar"].previous.id == middle.id
    assert scores[first.id]["ciwa_ar"].direction == "up"  # 20 after 3
    assert scores[first.id]["news2"].latest.total == replacement.news2_total
    assert scores[second.id]["ciwa_ar"].latest is None


def test_nth_latest_with_a_bound_condition(app, make_admission, make_user):
    nurse = make_user("nurse")
    admission = make_admission()
    now = utc_now().replace(microsecond=0)
    checks = []
    for minutes_ago in (200, 100, 10):
        check = SafetyCheck(observed_at=now - timedelta(minutes=minutes_ago), location="bedroom",
                            activity="resting")
        entries.stamp(check, by=nurse, admission=admission, idempotency_key=uuid.uuid4().hex,
                      supersedes=None, reason=None)
        db.session.add(check)
        db.session.flush()
        checks.append(check)
    db.session.commit()

    spec = {"before": (SafetyCheck, lambda c: (c.observed_at < bindparam("cutoff"),), 0)}
    found = nth_latest_ids([admission.id], spec, name="test_before",
                           params={"cutoff": now - timedelta(minutes=50)})
    assert found == {(admission.id, "before"): checks[1].id}
    found = nth_latest_ids([admission.id], spec, name="test_before",
                           params={"cutoff": now - timedelta(minutes=500)})
    assert found == {(admission.id, "before"): None}


def test_current_admissions_as_rows_say_what_the_models_say(app, make_unit, make_admission, make_user):
    """The board and due list read plain rows; each must match its ORM admission."""
    unit, other = make_unit(beds=4), make_unit(beds=2)
    beds = {b.label: b for b in unit.beds}
    later_bed = make_admission(unit=unit, bed=beds["3"], protocols=("vitals", "ciwa_ar"), hours_ago=50,
                               substances=(("alcohol", 5), ("ketamine", 30), ("opioids", 2)))
    first_bed = make_admission(unit=unit, bed=beds["1"], substances=(("ketamine", 20),),
                               family_name="o'Brien")
    gone = make_admission(unit=unit, bed=beds["2"])
    make_admission(unit=other)
    admissions.discharge(by=make_user("charge_nurse"), admission=gone, discharged_at=utc_now(),
                         disposition="home", note=None)
    db.session.commit()

    rows = current_admissions(unit.id)
    assert [r.id for r in rows] == [first_bed.id, later_bed.id]  # bed order, current ones of this unit only
    now = utc_now()
    for row in rows:
        model = db.session.get(Admission, row.id)
        assert (row.patient_id, row.unit_id, row.bed_id, row.protocols, row.admitted_at,
                row.observation_level, row.observation_level_since) == (
            model.patient_id, model.unit_id, model.bed_id, model.protocols, model.admitted_at,
            model.observation_level, model.observation_level_since)
        assert row.patient.display_name == model.patient.display_name
        assert row.patient.age_on(now.date()) == model.patient.age_on(now.date())
        assert (row.bed.label, row.bed.sort_key) == (model.bed.label, model.bed.sort_key)
        # Primary first, as the model's relationship orders them.
        assert row.substance_labels == model.substance_labels
        assert row.primary_substance.substance == model.primary_substance.substance
        assert row.detox_day(now) == model.detox_day(now)
    assert rows[1].substance_labels == "Alcohol, Ketamine, Opioids"
