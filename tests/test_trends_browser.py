"""In a real browser, desktop and tablet width: open the timeline, tap a point, read its value."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal

import pytest

from clinic.db import utc_now
from clinic.extensions import db
from tests.prn_helpers import give, make_order
from tests.test_browser import CHROMIUM, log_in, server  # noqa: F401 (fixture)
from tests.test_duelist import chart_ciwa_ar, chart_vitals

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")
sync_api = pytest.importorskip("playwright.sync_api")
SHOTS = os.environ.get("TRENDS_SCREENSHOTS")


@pytest.fixture
def config_overrides():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 768, "height": 1024}],
                         ids=["desktop", "tablet"])
def test_tap_a_point_and_read_its_value(browser, server, make_admission, make_user, viewport):  # noqa: F811
    admission = make_admission(hours_ago=40, substances=(("alcohol", 10),), protocols=("vitals", "ciwa_ar"))
    nurse = make_user("nurse", display_name="Nora Nurse")
    physician = make_user("physician")
    now = utc_now()
    for hours in range(36, 0, -2):
        chart_vitals(admission, nurse, now - timedelta(hours=hours), heart_rate=70 + hours % 9)
    chart_vitals(admission, nurse, now - timedelta(minutes=30), heart_rate=128)
    for hours in range(36, 0, -4):
        chart_ciwa_ar(admission, nurse, now - timedelta(hours=hours), 2, 2, 1, 2, 1, 0, 0, 0, hours % 3, 0)
    doses(admission, physician, nurse, hours=30)

    context = browser.new_context(viewport=viewport, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    log_in(page, server, physician.username)
    page.goto(f"{server}/admissions/{admission.id}/trends")
    newest = page.locator(".timeline-chart .pt.s-heart_rate").last
    newest.scroll_into_view_if_needed()
    newest.tap()
    readout = page.locator("#readout")
    assert "Heart rate 128 /min" in readout.inner_text()
    assert "Nora Nurse" in readout.inner_text()
    # The keyboard reaches the points too: the previous one is an arrow key away.
    page.keyboard.press("ArrowLeft")
    assert "Heart rate 72 /min" in readout.inner_text()
    tap_the_override(page)
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/timeline-{viewport['width']}.png", full_page=True)
        page.goto(f"{server}/admissions/{admission.id}/trends/flowsheet")
        page.screenshot(path=f"{SHOTS}/flowsheet-{viewport['width']}.png", full_page=True)
        page.goto(f"{server}/admissions/{admission.id}/trends/days")
        page.screenshot(path=f"{SHOTS}/days-{viewport['width']}.png", full_page=True)
    assert [e for e in errors if "favicon" not in e and "404" not in e] == []
    context.close()


def doses(admission, physician, nurse, *, hours: int) -> None:
    """Give a PRN dose every 5.5 hours over the last `hours`, the newest an override of the interval."""
    admission.unit.prn_override_allowed = True
    db.session.commit()
    order = make_order(admission, physician, drug="Diazepam", dose=Decimal("10"), min_interval_minutes=240,
                       max_doses_24h=8, starts_at=utc_now() - timedelta(hours=hours + 1))
    for minutes in range(100 + (hours * 60 - 100) // 330 * 330, 99, -330):
        give(admission, nurse, order, minutes_ago=minutes, dose="10")
    give(admission, nurse, order, minutes_ago=0, dose="10", override_reason="Severe tremor, doctor aware")
    # give() reads the dose back: end that transaction, or SQLite keeps the server from writing.
    db.session.commit()


def tap_the_override(page) -> None:
    """Tap the newest PRN mark itself: the letter drawn on it must not catch the tap."""
    override = page.locator(".timeline-chart .pt.m-prn").last
    override.scroll_into_view_if_needed()
    override.tap()
    readout = page.locator("#readout").inner_text()
    assert "PRN Diazepam 10 mg oral" in readout and "Severe tremor, doctor aware" in readout


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 768, "height": 1024}],
                         ids=["desktop", "tablet"])
def test_a_fortnight_whole_stay_at_tablet_and_desktop_width(browser, server, make_admission, make_user,  # noqa: F811
                                                            viewport):
    admission = make_admission(hours_ago=14 * 24 + 2, substances=(("alcohol", 10),), protocols=("vitals",))
    nurse = make_user("nurse", display_name="Nora Nurse")
    physician = make_user("physician")
    now = utc_now()
    for hours in range(14 * 24, 0, -4):
        chart_vitals(admission, nurse, now - timedelta(hours=hours), heart_rate=70 + hours % 13)
    doses(admission, physician, nurse, hours=14 * 24)

    context = browser.new_context(viewport=viewport, has_touch=True)
    page = context.new_page()
    log_in(page, server, physician.username)
    page.goto(f"{server}/admissions/{admission.id}/trends?range=stay")
    tap_the_override(page)
    # A day too narrow for its full label keeps the words as its title.
    assert "Day 14 · " in page.locator(".timeline-chart text.titled title").last.text_content()
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/fortnight-{viewport['width']}.png", full_page=True)
        page.locator(".timeline-chart").screenshot(path=f"{SHOTS}/fortnight-chart-{viewport['width']}.png")
        pdf = page.request.get(f"{server}/admissions/{admission.id}/trends.pdf?range=stay")
        with open(f"{SHOTS}/fortnight.pdf", "wb") as out:
            out.write(pdf.body())
    context.close()
