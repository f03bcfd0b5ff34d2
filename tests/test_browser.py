"""In a real browser at tablet size: a nurse works through the due list; the board refreshes itself."""

from __future__ import annotations

import json
import os
import re
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from clinic.extensions import db
from clinic.models import Assessment, VitalSigns
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")
sync_api = pytest.importorskip("playwright.sync_api")

TABLET = {"width": 768, "height": 1024}


@pytest.fixture
def config_overrides():
    # CSRF on, as in production; the board refreshes every second so a test need not wait a minute.
    return {"WTF_CSRF_ENABLED": True, "BOARD_REFRESH_SECONDS": 1}


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def page(server):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        context = browser.new_context(viewport=TABLET)
        yield context.new_page()
        context.close()
        browser.close()


def log_in(page, server, username):
    page.goto(f"{server}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")


def tap(page, name: str, value: str) -> None:
    """Tap the label of a radio button, as a finger on a tablet would."""
    page.locator(f'label.tap:has(input[name="{name}"][value="{value}"])').click()


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def end_read():
    # On SQLite an open read transaction in the test would hold up the server's writes.
    db.session.commit()


def test_a_nurse_works_through_two_due_items_from_the_due_list(app, server, page, make_unit,
                                                               make_admission, make_user):
    unit = make_unit(beds=4)
    # Vitals first charted never, ten hours after admission: the most overdue item on the unit.
    walker = make_admission(unit=unit, family_name="Walker", given_name="Jade", hours_ago=10,
                            substances=(("alcohol", 8),), protocols=("vitals",))
    chan = make_admission(unit=unit, family_name="Chan", given_name="Wing", hours_ago=5,
                          protocols=("ketamine",))
    nurse = make_user("nurse")
    due_list = f"{server}/units/{unit.id}/due"
    log_in(page, server, nurse.username)

    page.goto(due_list)
    assert fits_the_width(page)
    first = page.locator("tr.due-row").first
    assert first.get_attribute("id") == f"due-vitals-{walker.id}"
    assert "overdue by" in first.inner_text()

    # 1. Vital signs for Walker, straight from the list.
    first.locator("a.due-link").click()
    page.wait_for_url(re.compile(rf"/admissions/{walker.id}/vitals/new\?next=/units/{unit.id}/due$"))
    for field, value in (("respiratory_rate", "16"), ("spo2", "97"), ("systolic_bp", "125"),
                         ("diastolic_bp", "80"), ("heart_rate", "75"), ("temperature", "37.0")):
        page.fill(f"#{field}", value)
    tap(page, "air_or_oxygen", "air")
    tap(page, "consciousness", "A")
    page.click("button[type=submit]:has-text('Save vital signs')")

    # Back on the list, which says what was saved and for whom (clinic.saved).
    page.wait_for_url(re.compile(rf"{re.escape(due_list)}\?saved=vitals-\d+$"))
    assert "Vitals saved for" in page.locator(".flashes").inner_text()
    assert page.locator(f"#due-vitals-{walker.id}").count() == 0
    assert page.locator(f"#due-ketamine-{chan.id}").count() == 1

    # 2. The ketamine checklist for Chan: every item answered by tapping, self-harm "no".
    page.click(f"#due-ketamine-{chan.id} a.due-link")
    page.wait_for_url(re.compile(rf"/admissions/{chan.id}/assessments/new\?.*scale=ketamine"))
    assert fits_the_width(page)
    groups = page.locator("fieldset.scale-item:visible")
    for index in range(groups.count()):
        group = groups.nth(index)
        no = group.locator("label.tap").filter(has_text=re.compile(r"^\s*No\s*$"))
        (no if no.count() else group.locator("label.tap").first).click()
    tap(page, "self_harm_thoughts", "no")
    assert page.locator(".suicide-thoughts").is_hidden()
    page.click("input[type=submit][name=save], button[name=save]")

    page.wait_for_url(re.compile(rf"{re.escape(due_list)}\?saved=assessment-\d+$"))
    assert page.locator(f"#due-ketamine-{chan.id}").count() == 0
    assert "due-row" in page.content()  # the safety checks are still to do

    vitals = db.session.scalars(select(VitalSigns)).all()
    assessments = db.session.scalars(select(Assessment)).all()
    end_read()
    assert [(v.admission_id, v.heart_rate, v.respiratory_rate, v.news2_total) for v in vitals] == [
        (walker.id, 75, 16, 0)]
    assert [(a.admission_id, a.scale, a.total, a.self_harm_thoughts, a.recorded_by_id)
            for a in assessments] == [(chan.id, "ketamine", 0, False, nurse.id)]


def test_the_board_refreshes_itself_but_not_while_a_field_has_focus(app, server, page, make_unit,
                                                                    make_admission, make_user,
                                                                    audit_events):
    unit = make_unit(name="A ward", beds=4)
    make_unit(name="B ward")  # a second unit puts a unit picker (a form field) on the board
    make_admission(unit=unit, family_name="Early", hours_ago=3)
    nurse = make_user("nurse")
    log_in(page, server, nurse.username)
    page.goto(f"{server}/units/{unit.id}/board?sort=overdue")
    assert fits_the_width(page)
    assert page.locator("#board-live").get_attribute("data-refresh-seconds") == "1"

    # While the unit picker has focus, a new patient is not swapped in under the user.
    page.focus("#unit-select")
    make_admission(unit=unit, family_name="Later", hours_ago=1)
    page.wait_for_timeout(2500)
    assert "LATER, Sam" not in page.locator("#board-live").inner_text()
    assert page.evaluate("document.activeElement.id") == "unit-select"

    # Focus elsewhere: the next refresh brings the board up to date, sorted as before.
    page.locator("h1").click()
    page.locator("#board-live", has_text="LATER, Sam").wait_for(timeout=10_000)
    assert page.url.endswith("?sort=overdue")
    assert page.locator("#board-live .board-updated").inner_text().startswith("Updated ")
    assert page.locator(".refresh-note").is_hidden()

    views = [e for e in audit_events("view") if e.object_type == "unit_board"]
    end_read()
    # The first load and at least one refresh, each audited like any page view.
    assert len(views) >= 2
    assert len(json.loads(views[-1].detail)["patients"]) == 2
