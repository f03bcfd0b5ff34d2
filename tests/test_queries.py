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
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import SafetyCheck
from clinic.monitoring.queries import latest_scores, nth_latest_ids, recent_entries
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
    assert [recent.entry(first.id, ("ciwa_ar", n)) for n in range(3)] == [newest, middle, oldest]
    # Same clinical time: the later id (the correction of the other set) comes first.
    assert recent.entry(first.id, ("news2", 0)) is replacement
    assert recent.entry(first.id, ("news2", 1)) is same_time
    assert recent.entry(first.id, ("ketamine", 0)) is ketamine_first
    assert recent.entry(first.id, ("ketamine", 1)) is None
    assert recent.entry(second.id, ("ketamine", 0)) is ketamine_second
    assert recent.entry(second.id, ("ciwa_ar", 0)) is None
    assert recent.entry(second.id, ("news2", 0)) is None
    assert older_set.id not in {recent.ids[(first.id, ("news2", n))] for n in (0, 1)}

    scores = latest_scores(ids, recent)
    assert scores[first.id]["ciwa_ar"].latest is newest
    assert scores[first.id]["ciwa_ar"].previous is middle
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
