"""Trends: the timeline on a true time axis, flowsheet, day summaries, review sign-off, PDF."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import event, select

from clinic import entries
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import TrendReview, VitalSigns
from clinic.timefmt import to_local_input
from clinic.trends.chart import LEFT, MARK, RIGHT
from clinic.vitals import services as vitals_services
from tests.prn_helpers import give, make_order
from tests.test_duelist import VITALS, chart_ciwa_ar, chart_vitals

POINT = re.compile(r'<rect x="([-\d.]+)" y="([-\d.]+)"[^>]*class="([^"]*)"[^>]*aria-label="([^"]*)"')
POLYLINE = re.compile(r'<polyline points="([^"]*)"')
WIDTH = 960


@pytest.fixture
def stay(make_admission, make_user):
    """An alcohol admission 30 hours ago with a nurse to chart."""
    admission = make_admission(hours_ago=30, substances=(("alcohol", 12),), protocols=("vitals", "ciwa_ar"),
                               family_name="Trendsworth")
    nurse = make_user("nurse", display_name="Nora Nurse")
    return admission, nurse


def points(html: str, series: str) -> list[tuple[float, str, str]]:
    """Return (centre x, classes, label) of each plotted point of a series (or mark kind), in order."""
    found = []
    for x, _y, cls, label in POINT.findall(html):
        if f"s-{series}" in cls.split() or f"m-{series}" in cls.split():
            found.append((float(x) + MARK / 2, cls, unescape(label)))
    return found


def polylines(html: str) -> list[list[float]]:
    """Return the x coordinates of every line drawn."""
    return [[float(pair.split()[0]) for pair in attr.split(",")] for attr in POLYLINE.findall(html)]


def correct_vitals(admission, nurse, original, heart_rate):
    replacement = vitals_services.record_vitals(
        by=nurse, admission=admission, observed_at=original.observed_at,
        checked=vitals_services.check_values({**VITALS, "heart_rate": str(heart_rate)}, confirmed=False),
        on_oxygen=False, oxygen_device=None, oxygen_flow=None, consciousness="A", confirmed=False,
        idempotency_key=uuid.uuid4().hex, supersedes=original, correction_reason="typed the wrong number",
    )
    db.session.commit()
    return replacement


def custom(admission, start, end) -> str:
    zone = admission.unit.zone
    return f"range=custom&from={to_local_input(start, zone)}&to={to_local_input(end, zone)}"


def test_points_sit_at_their_real_times_however_unevenly_charted(client, auth, stay):
    admission, nurse = stay
    start = utc_now().replace(second=0, microsecond=0) - timedelta(hours=24)
    end = start + timedelta(hours=24)
    offsets = [timedelta(hours=2), timedelta(hours=2, minutes=15), timedelta(hours=3), timedelta(hours=20)]
    for n, offset in enumerate(offsets):
        chart_vitals(admission, nurse, start + offset, heart_rate=70 + n)
    auth.login_as("physician")
    url = f"/admissions/{admission.id}/trends?{custom(admission, start, end)}"
    html = client.get(url).get_data(as_text=True)

    plotted = points(html, "heart_rate")
    width = WIDTH - LEFT - RIGHT
    expected = [LEFT + width * (offset / timedelta(hours=24)) for offset in offsets]
    assert [x for x, _, _ in plotted] == pytest.approx(expected, abs=0.01)
    # 45 minutes take three times the room of 15, and 17 hours 68 times.
    xs = [x for x, _, _ in plotted]
    # Coordinates are written to 0.01, so the error grows with the factor.
    assert (xs[1] - xs[0]) * 3 == pytest.approx(xs[2] - xs[1], abs=0.03)
    assert (xs[1] - xs[0]) * 68 == pytest.approx(xs[3] - xs[2], abs=0.7)
    assert [label.split(" · ")[0] for _, _, label in plotted] == [
        f"Heart rate {70 + n} /min" for n in range(4)]
    assert all("Nora Nurse" in label for _, _, label in plotted)


def test_a_gap_longer_than_expected_is_not_bridged(client, auth, stay):
    admission, nurse = stay
    now = utc_now()
    # A heart rate of 95 scores 1 (NEWS2 low band): the next set is due in 4 h, a gap after 6 h.
    hours = (26, 25, 24, 16, 15)
    for h in hours:
        chart_vitals(admission, nurse, now - timedelta(hours=h), heart_rate=95)
    auth.login_as("physician")
    html = client.get(f"/admissions/{admission.id}/trends?range=stay").get_data(as_text=True)
    xs = [x for x, _, _ in points(html, "heart_rate")]
    assert len(xs) == 5
    drawn = polylines(html)
    assert any(line == pytest.approx(xs[:3]) for line in drawn)
    assert any(line == pytest.approx(xs[3:]) for line in drawn)
    for line in drawn:
        # No line runs from the third set (24 h ago) to the fourth (16 h ago).
        assert not (any(abs(x - xs[2]) < 0.01 for x in line) and any(abs(x - xs[3]) < 0.01 for x in line))


def test_entered_in_error_is_left_out_and_a_correction_is_marked(client, auth, stay):
    admission, nurse = stay
    now = utc_now()
    wrong = chart_vitals(admission, nurse, now - timedelta(hours=6), heart_rate=149)
    entries.retract(by=nurse, entry=db.session.get(VitalSigns, wrong.id), reason="wrong patient")
    db.session.commit()
    typo = chart_vitals(admission, nurse, now - timedelta(hours=4), heart_rate=58)
    correct_vitals(admission, nurse, typo, 85)
    chart_vitals(admission, nurse, now - timedelta(hours=2), heart_rate=77)
    auth.login_as("physician")
    html = client.get(f"/admissions/{admission.id}/trends").get_data(as_text=True)

    plotted = points(html, "heart_rate")
    labels = [label for _, _, label in plotted]
    assert [label.split(" · ")[0] for label in labels] == ["Heart rate 85 /min", "Heart rate 77 /min"]
    assert "corrected" in plotted[0][1].split() and "(corrected" in labels[0]
    assert "corrected" not in plotted[1][1].split()
    assert "149" not in "".join(labels) and "58 /min" not in "".join(labels)

    sheet = client.get(f"/admissions/{admission.id}/trends/flowsheet").get_data(as_text=True)
    # Read the cells, not the form's random idempotency key (which may hold "149").
    assert not re.search(r">\s*149\b", sheet)
    assert re.search(r'class=" corrected"[^>]*>85 <span aria-label="corrected">✎</span>', sheet)


def test_prn_doses_marked_with_overrides_breaches_and_effects(client, auth, stay, make_user):
    admission, nurse = stay
    admission.unit.prn_override_allowed = True
    db.session.commit()
    physician = make_user("physician")
    order = make_order(admission, physician, drug="Diazepam", dose=Decimal("10"), min_interval_minutes=240,
                       starts_at=utc_now() - timedelta(hours=29))
    first = give(admission, nurse, order, minutes_ago=600, dose="10")
    from clinic.prn import services as prn_services
    prn_services.record_effect(by=nurse, dose=first, assessed_at=first.observed_at + timedelta(hours=1),
                               effect="better", side_effects=[], note=None, idempotency_key=uuid.uuid4().hex)
    db.session.commit()
    give(admission, nurse, order, minutes_ago=540, dose="10", breach_reason="Given in an emergency")
    give(admission, nurse, order, minutes_ago=230, dose="10")
    retracted = give(admission, nurse, order, minutes_ago=5, dose="5", override_reason="Second dose")
    entries.retract(by=nurse, entry=retracted, reason="charted on the wrong order")
    db.session.commit()
    give(admission, nurse, order, minutes_ago=0, dose="10", override_reason="Severe tremor, doctor aware")

    auth.login_as("physician")
    html = client.get(f"/admissions/{admission.id}/trends").get_data(as_text=True)
    marks = points(html, "prn")
    assert len(marks) == 4
    normal, breach, _later, override = (label for _, _, label in marks)
    assert normal.startswith("PRN Diazepam 10 mg oral · given") and "effect better" in normal
    assert "LIMIT BREACH (minimum interval): Given in an emergency" in breach
    assert "override (minimum interval): Severe tremor, doctor aware" in override
    assert "5 mg" not in html
    # The lane draws a letter beside each shape, so colour is not the only signal.
    assert ">!</text>" in html and ">O</text>" in html and ">P</text>" in html
    assert "Diazepam → better" in html

    sheet = client.get(f"/admissions/{admission.id}/trends/flowsheet").get_data(as_text=True)
    assert "PRN Diazepam" in sheet and "10 mg oral ! breach" in sheet and "10 mg oral (override)" in sheet

    days = client.get(f"/admissions/{admission.id}/trends/days?range=stay").get_data(as_text=True)
    day_two, day_one = days.split('id="day-1"')
    assert re.search(r"<th scope=\"row\">Diazepam</th><td>2</td><td>20 mg</td><td>0</td><td>1</td>", day_one)
    assert re.search(r"<th scope=\"row\">Diazepam</th><td>2</td><td>20 mg</td><td>1</td><td>0</td>", day_two)


def test_range_selection(client, auth, stay):
    admission, nurse = stay
    now = utc_now()
    for h in (29, 20, 10, 1):
        chart_vitals(admission, nurse, now - timedelta(hours=h), heart_rate=60 + h)
    auth.login_as("physician")

    def shown(query):
        html = client.get(f"/admissions/{admission.id}/trends?{query}").get_data(as_text=True)
        return [int(label.split()[2]) for _, _, label in points(html, "heart_rate")]

    assert shown("") == [89, 80, 70, 61]            # 72 h by default, the stay is 30 h long
    assert shown("range=24h") == [80, 70, 61]
    assert shown("range=stay") == [89, 80, 70, 61]
    assert shown(custom(admission, now - timedelta(hours=21), now - timedelta(hours=5))) == [80, 70]
    html = client.get(f"/admissions/{admission.id}/trends?range=custom&from=2026-13-01T00:00&to=")
    assert "Give both the start and the end of the range" in html.get_data(as_text=True)
    backwards = custom(admission, now - timedelta(hours=2), now - timedelta(hours=5))
    assert "must be after its start" in client.get(
        f"/admissions/{admission.id}/trends?{backwards}").get_data(as_text=True)


def test_day_summaries_against_hand_computed_values(client, auth, stay):
    admission, nurse = stay
    day1 = admission.admitted_at
    for minutes, hr in ((60, 110), (300, 96), (540, 104)):
        chart_vitals(admission, nurse, day1 + timedelta(minutes=minutes), heart_rate=hr)
    for minutes, hr in ((25 * 60, 88), (26 * 60, 84)):
        chart_vitals(admission, nurse, day1 + timedelta(minutes=minutes), heart_rate=hr)
    chart_ciwa_ar(admission, nurse, day1 + timedelta(hours=2), 3, 3, 3, 3, 3, 3, 0, 0, 0, 0)   # 18
    chart_ciwa_ar(admission, nurse, day1 + timedelta(hours=6), 4, 3, 3, 3, 3, 3, 3, 0, 0, 0)   # 22
    chart_ciwa_ar(admission, nurse, day1 + timedelta(hours=10), 2, 2, 2, 2, 2, 2, 0, 0, 0, 0)  # 12
    auth.login_as("nurse")
    html = client.get(f"/admissions/{admission.id}/trends/days?range=stay").get_data(as_text=True)
    day_one = html[html.index('id="day-1"'):]
    day_two = html[html.index('id="day-2"'):html.index('id="day-1"')]
    assert re.search(r"Heart rate \(/min\)</th><td>96</td><td>104</td><td>110</td><td>3</td>", day_one)
    assert re.search(r"Heart rate \(/min\)</th><td>84</td><td>86</td><td>88</td><td>2</td>", day_two)
    assert re.search(r"CIWA-Ar</th><td>22</td><td>12 <span", day_one)
    assert "Temperature (°C)</th><td>37.0</td><td>37</td><td>37.0</td>" in day_one


def count_queries(client, url: str) -> int:
    db.session.remove()
    statements: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("page", ["trends?range=stay", "trends/flowsheet?range=stay",
                                  "trends/days?range=stay"])
def test_query_count_does_not_grow_with_the_stay(client, auth, stay, make_user, page):
    admission, nurse = stay
    physician = make_user("physician")
    order = make_order(admission, physician, starts_at=utc_now() - timedelta(hours=29),
                       min_interval_minutes=60, max_doses_24h=100)
    now = utc_now()

    def chart_hours(hours):
        for h in hours:
            chart_vitals(admission, nurse, now - timedelta(hours=h, minutes=5))
            chart_ciwa_ar(admission, nurse, now - timedelta(hours=h, minutes=4), 1, 1, 1, 1, 0, 0, 0, 0, 0, 0)
            give(admission, nurse, order, at=now - timedelta(hours=h, minutes=3))

    chart_hours([2])
    auth.login_as("physician")
    url = f"/admissions/{admission.id}/{page}"
    client.get(url)
    few = count_queries(client, url)
    chart_hours(range(27, 3, -2))
    many = count_queries(client, url)
    assert few == many


def test_only_a_physician_signs_off_and_it_is_audited(client, auth, stay, audit_events):
    admission, _nurse = stay
    auth.login_as("nurse")
    page = client.get(f"/admissions/{admission.id}/trends").get_data(as_text=True)
    assert "Mark trends reviewed" not in page and "Trends not reviewed yet." in page
    refused = client.post(f"/admissions/{admission.id}/trends/review",
                          data={"comment": "fine", "idempotency_key": uuid.uuid4().hex})
    assert refused.status_code == 403
    assert db.session.scalars(select(TrendReview)).all() == []

    auth.logout()
    physician = auth.login_as("physician", display_name="Dr Phyllis")
    key = uuid.uuid4().hex
    for _ in range(2):   # a double tap signs once
        response = client.post(f"/admissions/{admission.id}/trends/review?range=24h",
                               data={"comment": "Taper diazepam from tomorrow", "idempotency_key": key})
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/admissions/{admission.id}/trends?range=24h")
    reviews = db.session.scalars(select(TrendReview)).all()
    assert [(r.reviewed_by_id, r.comment) for r in reviews] == [
        (physician.id, "Taper diazepam from tomorrow")]
    created = [e for e in audit_events("create") if e.object_type == "trend_review"]
    assert len(created) == 1 and created[0].patient_id == admission.patient_id
    page = client.get(f"/admissions/{admission.id}/trends").get_data(as_text=True)
    assert f"Trends review saved for {admission.patient.display_name}." in page
    assert "Last reviewed" in page and "Dr Phyllis" in page and "Taper diazepam from tomorrow" in page


def test_a_comment_too_long_is_refused_and_kept(client, auth, stay):
    admission, _nurse = stay
    auth.login_as("physician")
    text = "x" * 501
    response = client.post(f"/admissions/{admission.id}/trends/review",
                           data={"comment": text, "idempotency_key": uuid.uuid4().hex})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Keep the comment to 500 characters." in body and text in body
    assert db.session.scalars(select(TrendReview)).all() == []


def test_reviews_are_append_only(app, stay, make_user):
    from sqlalchemy import update
    from sqlalchemy.exc import DatabaseError

    from clinic.trends.services import record_review

    admission, _nurse = stay
    review = record_review(by=make_user("physician"), admission=admission, comment=None,
                           idempotency_key=uuid.uuid4().hex)
    db.session.commit()
    with pytest.raises(DatabaseError):
        db.session.execute(update(TrendReview).where(TrendReview.id == review.id).values(comment="edited"))
        db.session.flush()
    db.session.rollback()


def test_every_view_and_print_is_audited(client, auth, stay, audit_events):
    admission, _nurse = stay
    auth.login_as("nurse")
    for url in ("trends", "trends/flowsheet", "trends/days"):
        assert client.get(f"/admissions/{admission.id}/{url}").status_code == 200
    response = client.get(f"/admissions/{admission.id}/trends.pdf?paper=letter")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    # Paper has no hover: the key says what a short day label stands for.
    from io import BytesIO

    from pypdf import PdfReader
    text = " ".join(PdfReader(BytesIO(response.data)).pages[0].extract_text().split())
    assert "detox days (D5: day 5)" in text and "day 1 began 12 h after last use" in text
    pages = [json.loads(e.detail)["page"] for e in audit_events("view") if e.object_type == "admission"]
    assert pages == ["trends", "flowsheet", "day summaries"]
    printed = audit_events("print")
    assert len(printed) == 1 and printed[0].patient_id == admission.patient_id


def test_other_roles_cannot_open_the_trends(client, auth, stay):
    admission, _nurse = stay
    auth.login_as("admin")
    for url in ("trends", "trends/flowsheet", "trends/days", "trends.pdf"):
        assert client.get(f"/admissions/{admission.id}/{url}").status_code == 403


def test_board_shows_the_last_review_and_flags_none_in_24_hours(app, client, auth, stay, make_admission,
                                                                make_user):
    from clinic.trends.services import record_review

    reviewed, _nurse = stay
    stale = make_admission(unit=reviewed.unit, hours_ago=50, family_name="Stale")
    never = make_admission(unit=reviewed.unit, hours_ago=5, family_name="Never")
    physician = make_user("physician", display_name="Dr Rowe")
    record_review(by=physician, admission=reviewed, comment=None, idempotency_key=uuid.uuid4().hex)
    record_review(by=physician, admission=stale, comment=None, idempotency_key=uuid.uuid4().hex)
    db.session.commit()
    auth.login_as("nurse")

    def line(html, name):
        start = html.index(name.upper())
        return html[start:html.index("</td>", start)]

    from clinic.trends import board
    with app.test_request_context():
        # A day and more later, the same review no longer counts.
        cells = board.ReviewCells([reviewed.id, stale.id, never.id], utc_now() + timedelta(hours=25))
        assert "not reviewed in 24 h" in cells(stale.id) and "by Dr Rowe" in cells(stale.id)

    html = client.get(f"/units/{reviewed.unit_id}/board").get_data(as_text=True)
    assert "Trends reviewed 0 min ago by Dr Rowe" in line(html, "Trendsworth")
    assert "not reviewed in 24 h" not in line(html, "Trendsworth")
    assert "not reviewed in 24 h" in line(html, "Never") and "Trends not reviewed yet" in line(html, "Never")


def test_a_long_stay_is_thinned_to_the_width_keeping_its_extremes():
    from zoneinfo import ZoneInfo

    from clinic.scoring.trends import Point
    from clinic.trends import chart
    from clinic.trends.model import Fact, Lane, Panel, Series, Timeline

    start = utc_now().replace(microsecond=0) - timedelta(days=14)
    values = [70 + (n * 37) % 25 for n in range(14 * 24 * 6)]   # every 10 minutes for 14 days
    values[1000], values[1500] = 181, 33
    readings = [Point(start + timedelta(minutes=10 * n), v, Fact(f"Heart rate {v} /min"))
                for n, v in enumerate(values)]
    timeline = Timeline(start, start + timedelta(days=14), ZoneInfo("Europe/London"), start, None,
                        [Panel("heart_rate", "Heart rate", "/min", 50, 110, [],
                               [Series("heart_rate", "Heart rate", readings, timedelta(hours=1))])],
                        Lane("Events", "", [], "none"))
    html = chart.to_svg(chart.build(timeline), "test")
    shown = [int(label.split()[2]) for _, _, label in points(html, "heart_rate")]
    columns = int((WIDTH - LEFT - RIGHT) / chart.MARK_COLUMN)
    assert len(shown) <= 2 * columns < len(values)
    assert 181 in shown and 33 in shown
    vertices = sum(len(line) for line in polylines(html))
    assert vertices <= 2 * (WIDTH - LEFT - RIGHT) / chart.LINE_COLUMN


def test_the_flowsheet_pages_back_through_a_long_stay(client, auth, make_admission, make_user):
    admission = make_admission(hours_ago=100, substances=(("alcohol", 12),), protocols=("vitals",))
    nurse = make_user("nurse")
    now = utc_now()
    chart_vitals(admission, nurse, now - timedelta(hours=90), heart_rate=61)
    chart_vitals(admission, nurse, now - timedelta(hours=10), heart_rate=99)
    auth.login_as("physician")
    newest = client.get(f"/admissions/{admission.id}/trends/flowsheet?range=stay").get_data(as_text=True)
    assert " 99</td>" in newest and "61</td>" not in newest
    earlier = re.search(r'href="([^"]*before=[^"]*)">Earlier', newest).group(1)
    older = client.get(unescape(earlier)).get_data(as_text=True)
    assert ">61</td>" in older and "99</td>" not in older
    assert "← Later" in older


def test_the_edge_of_a_normal_range_is_normal(client, auth, stay):
    admission, nurse = stay
    now = utc_now()
    for hours, temperature in ((3, "36.0"), (2, "36.1"), (1, "38.0")):
        vitals_services.record_vitals(
            by=nurse, admission=admission, observed_at=now - timedelta(hours=hours),
            checked=vitals_services.check_values({**VITALS, "temperature": temperature}, confirmed=False),
            on_oxygen=False, oxygen_device=None, oxygen_flow=None, consciousness="A", confirmed=False,
            idempotency_key=uuid.uuid4().hex,
        )
        db.session.commit()
    auth.login_as("physician")
    sheet = unescape(client.get(f"/admissions/{admission.id}/trends/flowsheet").get_data(as_text=True))
    # 36.1–38.0 °C scores 0 in NEWS2: both ends are normal, 36.0 is not (a float bound of 36.1
    # once flagged a Decimal 36.1).
    assert re.search(r'<td class="abnormal" title="Temperature 36\.0 °C — outside normal', sheet)
    assert re.search(r'<td class="" title="Temperature 36\.1 °C · ', sheet)
    assert re.search(r'<td class="" title="Temperature 38\.0 °C · ', sheet)


TEXT = re.compile(r'<text x="([-\d.]+)" y="([-\d.]+)" font-size="([\d.]+)"( font-weight="bold")?'
                  r'(?: text-anchor="(\w+)")?[^>]*>(?:<title>([^<]*)</title>)?([^<]*)</text>')


def drawn_labels(html: str) -> list[tuple[float, float, float, str, str, float]]:
    """Return (baseline y, left, right, text, title, font size) of each label, measured as the chart does."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    labels = []
    for x, y, size, bold, anchor, title, text in TEXT.findall(html):
        text = unescape(text)
        width = stringWidth(text, "Helvetica-Bold" if bold else "Helvetica", float(size))
        left = float(x) - {"": 0, "middle": width / 2, "end": width}[anchor]
        labels.append((float(y), left, left + width, text, unescape(title), float(size)))
    return labels


def fortnight(with_last_use: bool = True):
    """A 14-day stay as the whole-stay timeline draws it: 60 PRN doses, some close together."""
    from zoneinfo import ZoneInfo

    from clinic.trends.model import EventMark, Lane, Timeline

    admitted = utc_now().replace(microsecond=0) - timedelta(days=14)
    doses = []
    for n in range(60):
        at = admitted + timedelta(minutes=30 + 330 * n + (0 if n % 7 else -300))
        drug = "Chlordiazepoxide" if n % 3 else "Diazepam"
        symbol, tone = [("P", ""), ("O", "hollow"), ("!", "danger")][n % 3 if n % 5 == 0 else 0]
        doses.append(EventMark(at, "prn", symbol, f"PRN {drug} 10 mg oral · given · dose {n}",
                               f"{drug} → {'better' if n % 2 else 'no change'}", tone))
    last_use = admitted - timedelta(hours=20) if with_last_use else None
    return Timeline(admitted, admitted + timedelta(days=14), ZoneInfo("Europe/London"), admitted, last_use,
                    [], Lane("Events", "", [], "none"), Lane("PRN doses", "", doses, "none"))


@pytest.mark.parametrize("medium", ["page", "A4"])
def test_a_fortnight_draws_no_label_over_another(medium):
    from reportlab.lib.pagesizes import A4

    from clinic.trends import chart, pdf

    timeline = fortnight()
    size = chart.ChartSize() if medium == "page" else chart.ChartSize(
        width=A4[0] - 2 * pdf.MARGIN, panel=44, font=7, interactive=False)
    html = chart.to_svg(chart.build(timeline, size), "test")
    labels = drawn_labels(html)
    # A label's box: its measured width, and Helvetica's ascent and descent above and below its baseline.
    boxes = sorted((left, right, y - 0.72 * size, y + 0.21 * size, text)
                   for y, left, right, text, _, size in labels)
    for index, (_, right, top, bottom, text) in enumerate(boxes):
        for other_left, _, other_top, other_bottom, other in boxes[index + 1:]:
            if other_left >= right:
                break
            assert other_bottom <= top or other_top >= bottom, f"{text!r} runs into {other!r}"
    # The drug names stop short of the next mark.
    for x, y, width, height in re.findall(r'<rect x="([-\d.]+)" y="([-\d.]+)" width="([\d.]+)" '
                                          r'height="([\d.]+)"[^>]*fill="#(?:1d4e89|b3261e|ffffff)"', html):
        if float(width) > 10:
            continue
        for left, right, top, bottom, text in boxes:
            if len(text) > 1 and right > float(x) and left < float(x) + float(width):
                assert bottom <= float(y) or top >= float(y) + float(height), f"{text!r} runs over a mark"
    # Every day keeps its line and every dose its mark, labelled in full.
    day_lines = re.findall(r'<line [^>]*stroke-dasharray="3 2"', html)
    assert len(day_lines) == 15
    if size.interactive:
        marks = points(html, "prn")
        assert [label for _, _, label in marks] == [m.label for m in timeline.doses.marks]
        assert {cls.split()[-1] for _, cls, _ in marks} == {"m-prn"}
        # A shortened day label keeps its full words as its title.
        days = [(text, title) for _, _, _, text, title, _ in labels if title]
        assert days and all(title.startswith("Day ") and "h since use" in title for _, title in days)
        assert any(text != title for text, title in days)
    # The override and breach letters are drawn for each such dose: not colour alone.
    letters = [text for _, _, _, text, *_ in labels if text in ("P", "O", "!")]
    assert letters.count("O") == 4 and letters.count("!") == 4 and len(letters) == 60
    # The day labels say as much as fits (the drug names have no room at this scale: hover has them).
    assert any(text.startswith(("Day 5", "D5")) for _, _, _, text, *_ in labels)


def test_two_days_keep_the_full_day_labels_and_drug_effects():
    from clinic.trends import chart

    timeline = fortnight()
    timeline.start = timeline.end - timedelta(days=2, hours=1)
    html = chart.to_svg(chart.build(timeline), "test")
    texts = [text for _, _, _, text, *_ in drawn_labels(html)]
    assert "Day 13 · 308 h since use" in texts and "Day 14 · 332 h since use" in texts
    assert "Chlordiazepoxide → better" in texts
