"""In a real browser at tablet size: a physician orders a PRN, a nurse gives it, is refused a second
dose too soon, and records its effect from the due list."""

from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import PrnDose, PrnEffect, PrnOrder
from tests import test_browser
from tests.test_browser import CHROMIUM, end_read, fits_the_width, log_in

# The browser test's fixtures: CSRF on, a served app, a tablet-sized page.
config_overrides, server, page = test_browser.config_overrides, test_browser.server, test_browser.page

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")
SCREENSHOTS = os.environ.get("PRN_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_order_give_refused_too_soon_and_effect_from_the_due_list(app, server, page, make_admission,
                                                                   make_user):
    admission = make_admission(allergies="Penicillin (rash)")
    physician = make_user("physician", display_name="Dr Ada")
    nurse = make_user("nurse", display_name="Nurse Bo")
    chart = f"{server}/admissions/{admission.id}"
    end_read()

    log_in(page, server, physician.username)
    page.goto(chart)
    page.get_by_role("link", name="New PRN order").click()
    assert "Penicillin (rash)" in page.locator(".prn-allergies").inner_text()
    page.fill("#drug", "Lorazepam")
    page.fill("#dose", "1")
    page.fill("#indication", "Alcohol withdrawal")
    page.fill("#min_interval_minutes", "240")
    page.fill("#max_doses_24h", "4")
    page.fill("#reassess_after_minutes", "30")
    shot(page, "order-768")
    assert fits_the_width(page)
    page.get_by_role("button", name="Order").click()
    page.wait_for_load_state("load")
    assert "PRN order saved for " in page.locator(".flash").first.inner_text()
    assert ", Lorazepam 1 mg oral." in page.locator(".flash").first.inner_text()
    end_read()
    [order] = db.session.scalars(select(PrnOrder)).all()
    end_read()

    page.context.clear_cookies()
    log_in(page, server, nurse.username)
    page.goto(chart)
    panel = page.locator(".prn-panel")
    assert "0 of 4 doses" in panel.inner_text()
    panel.get_by_role("link", name="Give…").click()
    page.fill("#reason", "Tremor, sweating")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("load")
    assert "PRN dose saved for " in page.locator(".flash").first.inner_text()
    assert "Lorazepam 1 mg given" in page.locator(".flash").first.inner_text()
    row = page.locator(f"#prn-order-{order.id}").inner_text()
    # With the date when the next dose falls on another day.
    assert re.search(r"Next eligible at (\d\d \w+ \d{4} )?\d\d:\d\d", row)
    shot(page, "chart-768")
    assert fits_the_width(page)
    page.set_viewport_size({"width": 1366, "height": 900})
    shot(page, "chart-1366")
    assert fits_the_width(page)
    page.set_viewport_size(test_browser.TABLET)

    page.locator(".prn-panel").get_by_role("link", name="Give…").click()
    page.fill("#reason", "Still anxious")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("load")
    refusal = page.locator(".prn-refusal").inner_text()
    assert "too soon after another dose" in refusal and "by Nurse Bo" in refusal
    assert re.search(r"A dose is possible from .*\d\d:\d\d", refusal)
    shot(page, "refused-768")
    assert fits_the_width(page)
    end_read()
    assert len(db.session.scalars(select(PrnDose)).all()) == 1
    end_read()

    page.goto(f"{server}/units/{admission.unit_id}/due")
    link = page.locator("a.due-link", has_text="PRN effect — Lorazepam 1 mg")
    link.click()
    page.wait_for_load_state("load")
    page.locator('label:has(input[name="effect"][value="better"])').click()
    shot(page, "effect-768")
    page.get_by_role("button", name="Save effect").click()
    page.wait_for_load_state("load")
    assert page.url.startswith(f"{server}/units/{admission.unit_id}/due")
    assert page.locator("a.due-link", has_text="PRN effect").count() == 0
    end_read()
    [effect] = db.session.scalars(select(PrnEffect)).all()
    assert effect.effect == "better"
    end_read()
