"""Due rules per unit: administrators save versioned reassessment rules that due times then follow."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from clinic.admin.services import due_field_name, flat_due_settings
from clinic.assessments.services import record_assessment
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import DueDefinitionVersion
from clinic.monitoring.services import definition_for, due_for
from clinic.scoring import ciwa_ar
from clinic.scoring.due import DEFAULT_DEFINITION


@pytest.fixture
def unit(make_unit):
    return make_unit()


@pytest.fixture
def admin(auth):
    return auth.login_as("admin", display_name="Ada Admin")


def url(unit) -> str:
    return f"/admin/units/{unit.id}/due-rules"


def form_data(based_on: int = 0, **changes) -> dict:
    """Return the whole form as a browser sends it: the defaults, with `changes` by setting path."""
    settings = flat_due_settings(DEFAULT_DEFINITION)
    for key, value in changes.items():
        settings[key.replace("__", ".")] = value
    data = {due_field_name(path): str(value) for path, value in settings.items()}
    data["based_on"] = str(based_on)
    return data


def versions(unit) -> list[DueDefinitionVersion]:
    return db.session.scalars(
        select(DueDefinitionVersion).where(DueDefinitionVersion.unit_id == unit.id)
        .order_by(DueDefinitionVersion.version)
    ).all()


def test_form_shows_defaults_then_saves_version_one(client, unit, admin, audit_events):
    page = client.get(url(unit)).get_data(as_text=True)
    assert "the built-in defaults" in page
    assert 'name="ciwa_ar_frequent_minutes"' in page and 'value="60"' in page
    assert 'name="vitals_minutes_by_band__low_medium"' in page
    assert 'name="prn_effect_minutes__intramuscular"' in page
    assert 'name="observation_minutes__arms_length"' in page and 'name="on_time_factor"' in page

    response = client.post(url(unit), data=form_data(ciwa_ar_frequent_minutes=30))
    assert response.status_code == 302
    [row] = versions(unit)
    assert row.version == 1 and row.created_by_id == admin.id
    assert row.definition["ciwa_ar_frequent_minutes"] == 30 and row.definition["version"] == "1"
    definition, version = definition_for(unit)
    assert version == 1 and definition.ciwa_ar_frequent_minutes == 30
    assert definition.on_time_factor == 1.5

    event = [e for e in audit_events("update") if e.object_type == "due_definition"][-1]
    detail = json.loads(event.detail)
    assert detail["before"] == {"ciwa_ar_frequent_minutes": 60}
    assert detail["after"] == {"ciwa_ar_frequent_minutes": 30}
    assert detail["version"] == 1 and event.object_id == str(row.id)

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved version 1 of the due rules" in page
    assert "version 1</strong>, saved by Ada Admin" in page
    assert "CIWA-Ar: Frequent interval: 60 → <strong>30</strong>" in page


def test_due_times_follow_the_newest_version(client, unit, admin, make_admission, make_user):
    admission = make_admission(unit=unit, protocols=("ciwa_ar",), substances=(("alcohol", 10),))
    observed_at = utc_now().replace(microsecond=0) - timedelta(minutes=10)
    record_assessment(
        by=make_user("nurse"), admission=admission, scale="ciwa_ar", observed_at=observed_at,
        items=dict(zip(ciwa_ar.KEYS, (2, 2, 2, 2, 2, 0, 0, 0, 0, 0), strict=True)), yes_no={},
        heart_rate=None, self_harm_thoughts=None, suicide_answers=None, unable_reason=None,
        idempotency_key=uuid.uuid4().hex,
    )
    db.session.commit()

    def ciwa_due():
        now = utc_now()
        definition, _ = definition_for(unit)
        patient = due_for([admission], now=now, shift=unit.shift_for(now), definition=definition)
        return next(i for i in patient[admission.id].items if i.protocol == "ciwa_ar")

    assert ciwa_due().due_at == observed_at + timedelta(minutes=60)
    client.post(url(unit), data=form_data(ciwa_ar_frequent_minutes=30))
    assert ciwa_due().due_at == observed_at + timedelta(minutes=30)
    assert ciwa_due().reason == "CIWA-Ar 10 (8 or more): every 30 min"
    client.post(url(unit), data=form_data(based_on=1, ciwa_ar_frequent_minutes=45))
    assert [v.version for v in versions(unit)] == [1, 2]
    assert ciwa_due().due_at == observed_at + timedelta(minutes=45)


@pytest.mark.parametrize("changes, field, message", [
    ({"ciwa_ar_frequent_minutes": 0}, "ciwa_ar_frequent_minutes",
     "CIWA-Ar interval at or above the threshold must be a whole number of minutes from 1 to 10080, not 0."),
    ({"ciwa_ar_frequent_minutes": 300}, "ciwa_ar_frequent_minutes",
     "CIWA-Ar interval at or above the threshold (300 min) cannot be longer than"),
    ({"vitals_minutes_by_band__high": 500}, "vitals_minutes_by_band__high",
     "band “high” (500 min) cannot be longer than"),
    ({"observation_minutes__general": -5}, "observation_minutes__general", "from 0 to 10080, not -5"),
    ({"ciwa_ar_frequent_threshold": 68}, "ciwa_ar_frequent_threshold", "from 1 to 67, not 68"),
    ({"on_time_factor": "0.5"}, "on_time_factor", "must be a number of at least 1, not 0.5"),
    ({"on_time_factor": "soon"}, "on_time_factor", "Enter a number such as 1.5."),
    ({"cows_minutes": "4.5"}, "cows_minutes", "Enter a whole number."),
    ({"cows_minutes": ""}, "cows_minutes", "Enter a whole number."),
])
def test_invalid_values_are_refused_next_to_the_field(client, unit, admin, changes, field, message):
    response = client.post(url(unit), data=form_data(**changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    messages = page[page.index(f'id="{field}-msg"'):]
    assert message in messages[:messages.index("</div>")]
    assert "Not saved." in page
    assert versions(unit) == []


def test_two_errors_are_both_shown(client, unit, admin):
    page = client.post(url(unit), data=form_data(cows_minutes=0, ciwa_b_minutes=0)).get_data(as_text=True)
    assert "COWS interval must be" in page
    # The rules stop at the first refusal; the second is shown once the first is put right.
    page = client.post(url(unit), data=form_data(cows_minutes=240, ciwa_b_minutes=0)).get_data(as_text=True)
    assert "CIWA-B interval must be" in page


def test_nothing_changed_writes_no_version(client, unit, admin):
    response = client.post(url(unit), data=form_data(), follow_redirects=True)
    assert "Nothing changed." in response.get_data(as_text=True)
    assert versions(unit) == []


def test_stale_form_is_refused_then_can_be_saved_knowingly(client, unit, admin):
    client.post(url(unit), data=form_data(cows_minutes=180))
    # A form opened before version 1 was saved.
    response = client.post(url(unit), data=form_data(based_on=0, ciwa_b_minutes=120))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Ada Admin saved version 1 of these rules while you were editing" in page
    assert 'name="based_on" type="hidden" value="1"' in page
    assert [v.version for v in versions(unit)] == [1]


def test_version_history_lists_who_and_what(client, unit, admin, make_user, auth):
    client.post(url(unit), data=form_data(cows_minutes=180))
    auth.logout()
    auth.login_as("admin", display_name="Bo Second")
    client.post(url(unit), data=form_data(based_on=1, cows_minutes=180, ketamine_flagged_minutes=30))
    page = client.get(url(unit)).get_data(as_text=True)
    history = page[page.index('id="versions-heading"'):]
    assert history.index("Bo Second") < history.index("Ada Admin")  # newest first
    assert "Ketamine checklist: Interval when flagged: 60 → <strong>30</strong>" in history
    assert "COWS: Routine interval: 240 → <strong>180</strong>" in history
    assert 'value="180"' in page  # the form shows the version in use


@pytest.mark.parametrize("role", ["nurse", "charge_nurse", "physician", "auditor"])
def test_non_admins_are_refused(client, auth, unit, role):
    auth.login_as(role)
    assert client.get(url(unit)).status_code == 403
    assert client.post(url(unit), data=form_data(cows_minutes=180)).status_code == 403
    assert versions(unit) == []


def test_unit_page_links_to_due_rules(client, unit, admin):
    page = client.get(f"/admin/units/{unit.id}").get_data(as_text=True)
    assert f'href="{url(unit)}"' in page
