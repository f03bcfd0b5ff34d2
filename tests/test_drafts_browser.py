"""In a real browser: what a nurse typed survives an expired session and a failed save."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import UserSession, VitalSigns
from tests import test_browser
from tests.conftest import PASSWORD
from tests.test_browser import CHROMIUM, log_in

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
pytest.importorskip("playwright.sync_api")


@pytest.fixture
def config_overrides():
    return {"WTF_CSRF_ENABLED": True}


# The browser test's served app and tablet-sized page (its own settings above: no fast board refresh).
server, page = test_browser.server, test_browser.page


def test_typed_vitals_survive_an_expired_session(app, server, page, make_admission, make_user):
    admission = make_admission()
    nurse = make_user("nurse")
    log_in(page, server, nurse.username)
    page.goto(f"{server}/admissions/{admission.id}/vitals/new")
    page.fill("#heart_rate", "88")
    page.fill("#respiratory_rate", "18")
    page.fill("#temperature", "37.2")

    # The session ends while the form is open (idle limit passed on the server).
    db.session.execute(update(UserSession).values(last_seen_at=utc_now() - timedelta(hours=1)))
    db.session.commit()
    page.click("button[type=submit]:has-text('Save vital signs')")

    page.wait_for_url("**/login**")
    assert "without activity" in page.content()
    page.fill("#username", nurse.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")

    page.wait_for_url(f"**/admissions/{admission.id}/vitals/new")
    banner = page.locator(".draft-banner")
    banner.wait_for(state="visible")
    assert page.input_value("#heart_rate") == ""
    banner.locator(".draft-restore").click()
    assert page.input_value("#heart_rate") == "88"
    assert page.input_value("#respiratory_rate") == "18"
    assert page.input_value("#temperature") == "37.2"

    page.click("button[type=submit]:has-text('Save vital signs')")
    page.wait_for_url(f"**/admissions/{admission.id}/vitals/*")
    stored = db.session.scalars(select(VitalSigns)).all()
    # End the read: on SQLite an open transaction holds the write lock the server needs.
    db.session.commit()
    assert [(v.heart_rate, v.respiratory_rate, str(v.temperature)) for v in stored] == [(88, 18, "37.2")]

    # Saved: the draft is gone, so the next blank form offers nothing to restore.
    page.goto(f"{server}/admissions/{admission.id}/vitals/new")
    page.wait_for_load_state("load")
    assert page.locator(".draft-banner").is_hidden()


def test_a_refused_value_keeps_everything_typed(app, server, page, make_admission, make_user):
    admission = make_admission()
    nurse = make_user("nurse")
    log_in(page, server, nurse.username)
    page.goto(f"{server}/admissions/{admission.id}/vitals/new")
    page.fill("#heart_rate", "301")
    page.fill("#spo2", "97")
    page.click("button[type=submit]:has-text('Save vital signs')")

    assert "outside the possible range" in page.content()
    assert page.input_value("#heart_rate") == "301"
    assert page.input_value("#spo2") == "97"
    assert db.session.scalars(select(VitalSigns)).all() == []
