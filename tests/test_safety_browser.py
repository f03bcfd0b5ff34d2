"""In a real browser: the screen's behaviour question for everyone, and what the board, chart and
rounds page show about suicide risk and continuous observation (issue 11 items 7–10)."""

from __future__ import annotations

import os
import re
import uuid
from datetime import timedelta

import pytest

from clinic.assessments import services as assessments
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Admission, ObservationLevelChange
from clinic.scoring import ketamine
from tests import test_browser
from tests.test_browser import CHROMIUM, log_in, tap

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")
pytest.importorskip("playwright.sync_api")
SIZES = {"tablet": (768, 1024), "desktop": (1366, 900)}


@pytest.fixture
def config_overrides():
    return {"WTF_CSRF_ENABLED": True}


# The browser test's served app and tablet-sized page (its own settings above: no fast board refresh).
server, page = test_browser.server, test_browser.page


def shoot(page, name: str) -> None:
    """Save a screenshot when SHOTS_DIR is set, to look at the page by eye."""
    folder = os.environ.get("SHOTS_DIR")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.fixture
def ward(make_unit, make_user, make_admission):
    unit = make_unit(beds=4)
    charge = make_user("charge_nurse")
    chan = make_admission(unit=unit, by=charge, family_name="Chan", given_name="Lee",
                          substances=(("ketamine", 20),), protocols=("vitals", "ketamine"))
    answers = {key: None for key, _ in ketamine.QUESTIONS}
    answers.update(wish_dead=False, active_thoughts=True, method=True, intent=False, plan=False,
                   behaviour=False)
    assessments.record_assessment(
        by=charge, admission=chan, scale="ketamine", observed_at=utc_now() - timedelta(minutes=20),
        items={item.key: 1 for item in ketamine.DEFAULT_DEFINITION.items},
        yes_no={"blood_in_urine": False, "unable_to_pass_urine": False}, heart_rate=None,
        self_harm_thoughts=True, suicide_answers=answers, unable_reason=None,
        idempotency_key=uuid.uuid4().hex)
    walker = make_admission(unit=unit, by=charge, family_name="Walker", given_name="Ann",
                            substances=(("alcohol", 30), ("benzodiazepines", 40)),
                            protocols=("vitals", "ciwa_ar", "ciwa_b"))
    row = db.session.get(Admission, walker.id)
    since = utc_now() - timedelta(hours=2, minutes=30)
    db.session.add(ObservationLevelChange(admission_id=row.id, level="arms_length", reason="Agitated",
                                          for_risk=True, changed_by_id=charge.id, changed_at=since))
    row.observation_level, row.observation_level_since = "arms_length", since
    db.session.commit()
    return unit, chan, walker


def test_behaviour_is_asked_of_everyone_in_the_browser(server, page, ward, make_user):
    unit, chan, _walker = ward
    make_user("nurse", username="browser.nurse")
    log_in(page, server, "browser.nurse")
    page.goto(f"{server}/admissions/{chan.id}/assessments/new?scale=ketamine")
    tap(page, "self_harm_thoughts", "no")
    assert page.locator(".suicide-thoughts").is_hidden()
    assert page.locator("#behaviour-group").is_visible()
    assert page.locator("#behaviour_last_3_months-group").is_hidden()
    tap(page, "behaviour", "yes")
    assert page.locator("#behaviour_last_3_months-group").is_visible()
    tap(page, "self_harm_thoughts", "yes")
    assert page.locator("#wish_dead-group").is_visible()


@pytest.mark.parametrize("size", list(SIZES))
def test_board_chart_and_rounds_show_risk_and_missing_hours(server, page, ward, make_user, size):
    unit, chan, walker = ward
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    make_user("charge_nurse", username=f"browser.charge.{size}")
    log_in(page, server, f"browser.charge.{size}")

    page.goto(f"{server}/units/{unit.id}/board")
    board = page.locator("table.board").inner_text()
    assert "Suicide screen: review needed" in board
    assert "Proposed observation level: Within eyesight" in board
    assert re.search(r"2 hours of continuous observation not attested", board)
    assert "Alcohol 40 h since last use" in board and "Benzodiazepines 50 h since last use" in board
    shoot(page, f"board-{size}")

    page.goto(f"{server}/admissions/{chan.id}")
    assert page.locator("text=Suicide screen: review needed").first.is_visible()
    assert page.locator("#review-note").is_visible()
    shoot(page, f"chart-{size}")

    page.goto(f"{server}/units/{unit.id}/rounds")
    row = page.locator(f"#admission-{walker.id}")
    assert row.locator("text=Not attested: missing").count() == 2
    shoot(page, f"rounds-{size}")
    assert fits(page) or size == "tablet"

    page.goto(f"{server}/admissions/{walker.id}/assessments/new?scale=ciwa_b")
    assert page.locator("#restful_sleep-group").inner_text().count("very restful") == 1
    shoot(page, f"ciwa-b-{size}")
