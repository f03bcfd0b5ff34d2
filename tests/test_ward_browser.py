"""In a real browser at tablet width: the ward's rough edges of issue 12, read off the screen."""

from __future__ import annotations

import os
import re

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


def test_discharge_names_the_patient_and_can_be_reversed(app, server, page, make_unit,
                                                         make_admission, make_user):
    unit = make_unit(beds=3)
    admission = make_admission(unit=unit, mrn="WJ-77", family_name="Walker", given_name="Jade")
    make_user("charge_nurse", username="cara")
    end_read()

    log_in(page, server, "cara")
    page.goto(f"{server}/admissions/{admission.id}")
    page.get_by_role("link", name="Discharge", exact=True).click()
    page.select_option("#disposition", "home")
    page.get_by_role("button", name="Discharge").click()
    box = page.locator(".confirm-patient")
    assert "WALKER, Jade" in box.inner_text() and "WJ-77" in box.inner_text()
    assert "Bed\n1" in box.inner_text() or "Bed 1" in " ".join(box.inner_text().split())
    shoot(page, "discharge-confirm")
    page.get_by_role("button", name="Yes, discharge WALKER, Jade").click()
    assert "Discharge saved for WALKER, Jade, bed 1 is free." in page.locator(".flashes").inner_text()

    page.goto(f"{server}/admissions/{admission.id}")
    page.get_by_role("link", name="Reverse discharge (entered in error)").click()
    page.fill("#reason", "Wrong patient chosen")
    shoot(page, "reverse-discharge")
    page.get_by_role("button", name="Reverse the discharge").click()
    assert page.url.endswith(f"/admissions/{admission.id}")
    flashes = page.locator(".flashes").inner_text()
    assert "Discharge reversal saved for WALKER, Jade, back in bed 1." in flashes
    assert "Wrong patient chosen" in page.locator("main").inner_text()


def test_move_patient_confirms_and_returns_to_the_chart(app, server, page, make_unit,
                                                       make_admission, make_user):
    unit = make_unit(beds=3)
    admission = make_admission(unit=unit, family_name="Walker", given_name="Jade")
    make_user("charge_nurse", username="cara")
    end_read()

    log_in(page, server, "cara")
    page.goto(f"{server}/admissions/{admission.id}/transfer")
    page.select_option("#bed", label="Bed 3")
    page.get_by_role("button", name="Move patient").click()
    assert "Move WALKER, Jade to bed 3?" in page.locator("h1").inner_text()
    shoot(page, "transfer-confirm")
    page.get_by_role("button", name="Yes, move WALKER, Jade to bed 3").click()
    assert page.url.endswith(f"/admissions/{admission.id}")
    assert "Transfer saved for WALKER, Jade, now in bed 3." in page.locator(".flashes").inner_text()


def test_refused_form_focuses_a_summary_whose_links_reach_each_field(app, server, page,
                                                                    make_admission, make_user):
    admission = make_admission(protocols=("vitals", "ciwa_ar"), substances=(("alcohol", 10),))
    make_user("nurse", username="nina")
    end_read()

    log_in(page, server, "nina")
    page.goto(f"{server}/admissions/{admission.id}/vitals/new")
    page.get_by_role("button", name="Save vital signs").click()
    summary = page.locator("[data-error-summary]")
    summary.wait_for()
    page.wait_for_load_state("load")
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    assert "Respiratory rate: Enter the respiratory rate." in summary.inner_text()
    assert page.locator(".field.has-error").count() >= 5  # the empty set marks what to fill
    shoot(page, "vitals-empty")
    summary.get_by_role("link", name="Consciousness (ACVPU): Choose A, C, V, P or U.").click()
    assert page.evaluate("document.activeElement.id") == "consciousness-0"

    page.goto(f"{server}/admissions/{admission.id}/assessments/new?scale=ciwa_ar")
    for item in page.locator("fieldset.scale-item").all()[:-1]:
        item.locator("label.tap").first.click()
    page.get_by_role("button", name=re.compile("Save")).first.click()
    page.locator("[data-error-summary]").wait_for()
    link = page.locator("[data-error-summary] a")
    assert link.count() == 1 and link.inner_text().startswith("Orientation")
    link.click()
    assert page.evaluate("document.activeElement.id") == "orientation-0"
    box = page.locator("#orientation-0").bounding_box()
    assert 0 <= box["y"] < page.viewport_size["height"]  # scrolled to the item, not left at the top


@pytest.mark.parametrize(("scale", "substance"), [
    ("ciwa_ar", "alcohol"), ("cows", "opioids"), ("ciwa_b", "benzodiazepines"),
    ("ketamine", "ketamine"),
])
def test_scales_show_a_running_total_and_what_is_unanswered(app, server, page, make_admission,
                                                            make_user, scale, substance):
    admission = make_admission(protocols=("vitals", scale), substances=((substance, 10),))
    make_user("nurse", username="nina")
    end_read()

    log_in(page, server, "nina")
    page.goto(f"{server}/admissions/{admission.id}/assessments/new?scale={scale}")
    panel = page.locator("[data-running-total]")
    items = page.locator(".scale-items fieldset.scale-item:not(.pulse-item)")
    count = items.count()
    assert f"{count} of {count} items unanswered" in panel.inner_text()

    # The second option of the first two items (1 on most scales; COWS' first values vary).
    expected = 0
    for i in range(2):
        option = items.nth(i).locator("label.tap").nth(1)
        expected += int(option.locator("input").get_attribute("value"))
        option.click()
    text = panel.inner_text()
    assert f": {expected} of " in text
    assert f"{count - 2} of {count} items unanswered" in text
    first_unanswered = items.nth(2).locator("legend").inner_text().split(". ", 1)[1].strip()
    assert first_unanswered in text
    if scale == "ciwa_ar":
        assert "mild so far" in text
    if scale == "ketamine":
        assert "Symptom burden (unvalidated)" in text and "so far" not in text
    shoot(page, f"running-{scale}")


#: Every control a finger taps: a control inside a label is tapped through its label.
MEASURE_TARGETS = """(selector) => Array.from(document.querySelectorAll(selector))
  .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
  .map((el) => {
    const target = el.closest('label') || el;
    const box = target.getBoundingClientRect();
    return {what: (target.innerText || target.getAttribute('aria-label') || target.name || el.tagName)
              .trim().slice(0, 40), width: Math.round(box.width), height: Math.round(box.height)};
  })"""
TAPPABLE = "main a, main button, main select, main input:not([type=hidden]), main summary"


def small_targets(page, selector=TAPPABLE) -> list[dict]:
    return [t for t in page.evaluate(MEASURE_TARGETS, selector) if t["width"] < 44 or t["height"] < 44]


def test_tap_targets_are_44_px_on_board_due_list_and_admit(app, server, page, make_unit,
                                                            make_admission, make_user):
    from clinic.escalations.services import raise_by_hand
    unit = make_unit(beds=4)
    first = make_admission(unit=unit, family_name="Walker", given_name="Jade",
                           protocols=("vitals", "ciwa_ar"), substances=(("alcohol", 10),))
    make_admission(unit=unit, family_name="Stone", given_name="Ash")
    charge = make_user("charge_nurse", username="cara")
    raise_by_hand(by=charge, admission=first, level="urgent", reason="Pulse 130", idempotency_key="e")
    db.session.commit()
    end_read()

    log_in(page, server, "cara")
    found = {}
    for name, path in (("board", f"/units/{unit.id}/board"), ("due", f"/units/{unit.id}/due")):
        page.goto(f"{server}{path}")
        assert page.evaluate(MEASURE_TARGETS, TAPPABLE), name
        found[name] = small_targets(page)
        shoot(page, f"targets-{name}")
    page.goto(f"{server}/admit?unit={unit.id}")
    found["admit checkboxes"] = small_targets(page, "main input[type=checkbox], main input[type=radio]")
    shoot(page, "targets-admit")
    assert found == {"board": [], "due": [], "admit checkboxes": []}


def pdf_pages(page, tmp_path, name: str) -> list[tuple[float, float]]:
    """Print the page to PDF as Chromium would and return each page's (width, height) in points."""
    path = tmp_path / f"{name}.pdf"
    page.pdf(path=str(path), prefer_css_page_size=True, print_background=True)
    if SHOTS:
        (tmp_path / "x").mkdir(exist_ok=True)
        import shutil
        shutil.copy(path, os.path.join(SHOTS, f"{name}.pdf"))
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", path.read_bytes())
    return [(float(w), float(h)) for w, h in boxes]


def test_printing_board_assignments_and_round(app, server, page, make_unit, make_admission,
                                              make_user, tmp_path):
    from clinic.escalations.services import raise_by_hand
    unit = make_unit(beds=12)
    charge = make_user("charge_nurse", username="cara")
    admissions = [make_admission(unit=unit, by=charge, family_name=f"Patient{n:02d}",
                                 protocols=("vitals", "ciwa_ar"), substances=(("alcohol", 10),))
                  for n in range(12)]
    for admission in admissions[:4]:
        raise_by_hand(by=charge, admission=admission, level="urgent", reason="Pulse 130 and sweating",
                      idempotency_key=f"e{admission.id}")
    db.session.commit()
    end_read()

    log_in(page, server, "cara")
    page.goto(f"{server}/units/{unit.id}/board")
    pages = pdf_pages(page, tmp_path, "board")
    assert len(pages) == 1, pages
    assert pages[0][0] > pages[0][1]  # landscape
    page.emulate_media(media="print")
    assert page.locator("table.board").is_visible()
    assert not page.locator(".view-switch").first.is_visible()
    assert not page.locator(".bed-actions").first.is_visible()

    page.goto(f"{server}/units/{unit.id}/assignments")
    assert page.locator(".assign-table").is_visible()
    assert "PATIENT00" in page.locator(".assign-table").inner_text()
    assert not page.get_by_role("button", name="Save assignments").is_visible()
    pdf_pages(page, tmp_path, "assignments")

    page.goto(f"{server}/units/{unit.id}/rounds")
    page.emulate_media(media="print")
    rows = page.locator(".round-row")
    assert rows.count() == 12 and rows.first.is_visible()
    assert "PATIENT00" in rows.first.inner_text()
    pdf_pages(page, tmp_path, "round")


def test_date_fields_echo_the_record_format(app, server, page, make_admission, make_user):
    admission = make_admission()
    make_user("nurse", username="nina")
    end_read()

    log_in(page, server, "nina")
    page.goto(f"{server}/admissions/{admission.id}/vitals/new")
    page.fill("#observed_at", "2026-12-01T09:16")
    echo = page.locator("#observed_at + .date-echo")
    assert echo.inner_text() == "= 01 Dec 2026 09:16 (unit clock)"
    shoot(page, "date-echo")


def test_printed_chart_and_checks_show_data_not_controls(app, server, page, make_unit, make_admission,
                                                         make_user):
    unit = make_unit(beds=2)
    admission = make_admission(unit=unit, family_name="Walker", given_name="Jade")
    make_user("nurse", username="nina")
    end_read()

    log_in(page, server, "nina")
    page.goto(f"{server}/admissions/{admission.id}")
    page.emulate_media(media="print")
    main = page.locator("main")
    assert "Risk flags" in main.inner_text() and "Monitoring" in main.inner_text()
    for name in ("Record or clear", "Show the whole stay"):
        assert not page.get_by_role("link", name=name).is_visible(), name
    page.goto(f"{server}/admissions/{admission.id}/checks")
    assert "Safety checks" in page.locator("main").inner_text()
    assert not page.get_by_role("link", name="Change level").is_visible()
    assert not page.locator(".missed-annotate").first.is_visible()
