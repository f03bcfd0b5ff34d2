"""In a real browser at tablet width: the ward's rough edges of issue 12, read off the screen."""

from __future__ import annotations

import os

import pytest

from clinic.extensions import db
from clinic.models import Bed
from tests import test_browser
from tests.test_browser import CHROMIUM, end_read, log_in

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")
#: Where screenshots go when SCREENSHOTS names a folder (for looking at the pages, not asserted).
SHOTS = os.environ.get("SCREENSHOTS")

# The browser fixtures of the existing browser tests: CSRF on, a live server, a tablet-sized page.
config_overrides = test_browser.config_overrides
server = test_browser.server
page = test_browser.page


def shoot(page, name: str) -> None:
    """Save the page at tablet and desktop widths when screenshots were asked for."""
    if not SHOTS:
        return
    size = page.viewport_size
    for width, height in ((768, 1024), (1366, 900)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=os.path.join(SHOTS, f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(size)


def test_assignment_sheet_shows_open_beds_open(app, server, page, make_unit, make_admission,
                                               make_user):
    unit = make_unit(beds=4)
    beds = {b.label: b for b in unit.beds}
    make_admission(unit=unit, bed=beds["2"], family_name="Walker", given_name="Jade")
    left = make_admission(unit=unit, bed=beds["4"], family_name="Stone", given_name="Ash")
    db.session.get(Bed, left.bed_id).active = False
    make_user("charge_nurse", username="cara")
    end_read()

    log_in(page, server, "cara")
    page.goto(f"{server}/units/{unit.id}/assignments")
    rows = page.locator(".assign-table tbody tr")
    assert rows.count() == 4
    texts = [rows.nth(i).locator("th").inner_text() for i in range(4)]
    assert texts == ["1", "2", "3", "4 closed"]
    assert "WALKER, Jade" in rows.nth(1).inner_text()
    shoot(page, "assignments")
