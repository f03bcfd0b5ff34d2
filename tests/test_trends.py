"""Trends: the timeline on a true time axis, flowsheet, day summaries, review sign-off, PDF."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from clinic import entries
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import TrendReview
from clinic.vitals import services as vitals_services
from tests.test_duelist import VITALS, chart_ciwa_ar, chart_vitals

POINT = re.compile(r'<rect x="([\d.]+)" y="([\d.]+)"[^>]*class="([^"]*)"[^>]*aria-label="([^"]*)"')


@pytest.fixture
def stay(make_admission, make_user):
    """An alcohol admission 30 hours ago with a nurse to chart."""
    admission = make_admission(hours_ago=30, substances=(("alcohol", 12),), protocols=("vitals", "ciwa_ar"),
                               family_name="Trendsworth")
    nurse = make_user("nurse", display_name="Nora Nurse")
    return admission, nurse


def points(html: str, series: str) -> list[tuple[float, str, str]]:
    """Return (x, classes, label) of each plotted point of one series, in drawing order."""
    return [(float(x), cls, label) for x, _y, cls, label in POINT.findall(html) if f"s-{series}" in cls.split()]


def test_timeline_smoke(client, auth, stay):
    admission, nurse = stay
    now = utc_now()
    chart_vitals(admission, nurse, now - timedelta(hours=5), heart_rate=101)
    chart_ciwa_ar(admission, nurse, now - timedelta(hours=4), 2, 2, 1, 2, 0, 0, 0, 0, 0, 0)
    auth.login_as("physician")
    response = client.get(f"/admissions/{admission.id}/trends")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert points(html, "heart_rate")


def test_other_tabs_smoke(client, auth, stay):
    admission, nurse = stay
    now = utc_now()
    chart_vitals(admission, nurse, now - timedelta(hours=5), heart_rate=101)
    chart_ciwa_ar(admission, nurse, now - timedelta(hours=4), 2, 2, 1, 2, 0, 0, 0, 0, 0, 0)
    auth.login_as("physician")
    for url in ("flowsheet", "days"):
        response = client.get(f"/admissions/{admission.id}/trends/{url}")
        assert response.status_code == 200, response.get_data(as_text=True)
    response = client.get(f"/admissions/{admission.id}/trends.pdf")
    assert response.status_code == 200
