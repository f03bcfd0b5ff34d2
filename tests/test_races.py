"""Lost races get the rule's own answer, never "the database could not be reached".

Real threads, each with its own test client (and so its own app context, session and database
connection), released together by a barrier; run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from clinic.extensions import db
from clinic.models import LoginThrottle, VitalSigns
from tests.conftest import PASSWORD
from tests.test_vitals import FAST_PULSE, chart, correct_url, correction_form


def _at_once(app, count: int, request) -> list:
    """Run `request(client, n)` in `count` threads at the same moment; return the responses."""
    results: list = [None] * count
    errors: list = []
    barrier = threading.Barrier(count)

    def run(n: int):
        try:
            client = app.test_client()
            prepared = request(client, n, None)
            barrier.wait(timeout=30)
            results[n] = request(client, n, prepared)
        except Exception as error:  # a thread's exception would otherwise be lost
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_concurrent_corrections_one_wins_the_rest_hear_who_did(app, client, auth, make_admission):
    admission = make_admission()
    nurse = auth.login_as("nurse", display_name="Nora Nightingale")
    original = chart(client, admission)
    url = correct_url(admission, original.id)
    forms = [correction_form(admission, original, FAST_PULSE, reason=f"Misread #{n}") for n in range(6)]
    username, original_id = nurse.username, original.id
    db.session.commit()

    def correct(client, n, prepared):
        if prepared is None:  # before the barrier: log in
            client.post("/login", data={"username": username, "password": PASSWORD})
            return True
        response = client.post(url, data=forms[n], follow_redirects=True)
        return response.status_code, response.get_data(as_text=True)

    results = _at_once(app, 6, correct)

    assert all(status < 500 for status, _ in results), [s for s, _ in results]
    saved = [page for status, page in results if "Correction of vitals saved for" in page]
    lost = [page for status, page in results if "Correction of vitals saved for" not in page]
    assert len(saved) == 1
    for page in lost:
        assert "already corrected by Nora Nightingale at" in page
        assert "could not be reached" not in page
    db.session.expire_all()
    corrections = db.session.scalar(
        select(func.count()).select_from(VitalSigns).where(VitalSigns.supersedes_id == original_id))
    assert corrections == 1


def test_parallel_failed_logins_stop_at_the_limit(app, make_user, audit_events):
    username = make_user("nurse").username
    limit = app.config["LOGIN_MAX_FAILURES"]
    db.session.commit()

    def fail(client, n, prepared):
        if prepared is None:
            return True
        response = client.post("/login", data={"username": username, "password": f"wrong-{n}"})
        return response.status_code, response.get_data(as_text=True)

    results = _at_once(app, 16, fail)

    assert [status for status, _ in results] == [200] * 16
    assert not any("could not be reached" in page for _, page in results)
    counted = [e for e in audit_events("login_failed") if '"bad credentials"' in e.detail]
    refused = [e for e in audit_events("login_failed") if '"locked"' in e.detail
               and '"bad credentials"' not in e.detail]
    assert len(counted) == limit
    assert len(refused) == 16 - limit
    db.session.expire_all()
    throttle = db.session.get(LoginThrottle, username)
    assert throttle.locked_until is not None
