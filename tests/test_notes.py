"""Nursing notes: writing, idempotency, corrections, entered in error, roles, late entries."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import NursingNote
from clinic.routing import local_now
from tests.conftest import redirect_path

TIME_FORMAT = "%Y-%m-%dT%H:%M"


def when(admission, minutes_ago: float = 0) -> str:
    return (local_now(admission.unit) - timedelta(minutes=minutes_ago)).strftime(TIME_FORMAT)


def note_form(admission, text="Settled after supper; says cravings 4/10.", *, minutes_ago=0,
              **extra) -> dict:
    return {"observed_at": when(admission, minutes_ago), "idempotency_key": uuid.uuid4().hex,
            "text": text, **extra}


def new_url(admission) -> str:
    return f"/admissions/{admission.id}/notes/new"


def show_url(admission, note_id: int) -> str:
    return f"/admissions/{admission.id}/notes/{note_id}"


def correct_url(admission, note_id: int) -> str:
    return f"/admissions/{admission.id}/notes/{note_id}/correct"


def stored_notes() -> list[NursingNote]:
    db.session.expire_all()
    return list(db.session.scalars(select(NursingNote).order_by(NursingNote.id)))


def message_next_to(html: str, name: str) -> str:
    found = re.search(rf'<div id="{name}-msg">(.*?)</div>', html, re.S)
    return found.group(1) if found else ""


def write(client, admission, text="Settled after supper; says cravings 4/10.", **kw) -> NursingNote:
    response = client.post(new_url(admission), data=note_form(admission, text, **kw))
    assert response.status_code == 302, response.get_data(as_text=True)
    note_id = int(redirect_path(response).rstrip("/").rsplit("/", 1)[1])
    db.session.expire_all()
    return db.session.get(NursingNote, note_id)


def note_events(audit_events, action: str):
    return [e for e in audit_events(action) if e.object_type == "note"]


@pytest.fixture
def admission(make_admission):
    return make_admission()


@pytest.fixture
def nurse(auth):
    return auth.login_as("nurse")


def test_new_note_form_defaults_to_now(client, admission, nurse):
    response = client.get(new_url(admission))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'value="{when(admission)}"' in page or f'value="{when(admission, 1)}"' in page
    assert f'data-draft-key="note:{admission.id}:new:{nurse.id}"' in page


def test_note_is_stored_audited_and_shown_in_this_shift(client, admission, nurse, audit_events):
    response = client.post(new_url(admission), data=note_form(admission, "Anxious, pacing.\nSlept 2 h."))

    [note] = stored_notes()
    assert redirect_path(response).endswith(show_url(admission, note.id))
    assert note.text == "Anxious, pacing.\nSlept 2 h."
    assert note.recorded_by_id == nurse.id
    assert note.admission_id == admission.id
    assert not note.is_late
    [event] = note_events(audit_events, "create")
    assert event.object_id == str(note.id)
    assert event.patient_id == admission.patient_id
    assert "Anxious, pacing." in event.detail

    chart = client.get(f"/admissions/{admission.id}").get_data(as_text=True)
    assert "This shift" in chart
    assert "Anxious, pacing.\nSlept 2 h." in chart
    assert f"/admissions/{admission.id}/notes/{note.id}" in chart

    page = client.get(show_url(admission, note.id)).get_data(as_text=True)
    shift = admission.unit.shift_for(note.observed_at)
    assert f"{shift.name} shift" in page
    assert note_events(audit_events, "view")


def test_next_parameter_is_followed_after_saving(client, admission, nurse):
    response = client.post(new_url(admission), data=note_form(admission, next="/board"))

    assert response.status_code == 302
    assert redirect_path(response).endswith("/board")


@pytest.mark.parametrize("text", ["", "   \n  "])
def test_empty_note_is_refused_with_a_message(client, admission, nurse, audit_events, text):
    data = note_form(admission, text)

    response = client.post(new_url(admission), data=data)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Write the note; an empty note is not saved." in message_next_to(page, "text")
    assert "Not saved." in page
    assert data["idempotency_key"] in page
    assert stored_notes() == []
    assert note_events(audit_events, "create") == []


def test_overlong_note_is_refused_and_kept(client, admission, nurse):
    text = "x" * 10_001

    response = client.post(new_url(admission), data=note_form(admission, text))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at most 10,000 characters" in message_next_to(page, "text")
    assert text in page
    assert stored_notes() == []


def test_future_time_is_refused(client, admission, nurse):
    response = client.post(new_url(admission), data=note_form(admission, "Later", minutes_ago=-10))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The time cannot be in the future." in message_next_to(page, "observed_at")
    assert "Later</textarea>" in page
    assert stored_notes() == []


def test_double_submit_saves_one_note(client, admission, nurse, audit_events):
    data = note_form(admission)

    first = client.post(new_url(admission), data=data)
    second = client.post(new_url(admission), data=data, follow_redirects=True)

    [note] = stored_notes()
    assert first.status_code == 302
    assert second.status_code == 200
    assert "This note was already saved; it has not been charted twice." in second.get_data(as_text=True)
    assert redirect_path(first).endswith(show_url(admission, note.id))
    assert len(note_events(audit_events, "create")) == 1


def test_author_corrects_a_note_and_the_original_stays_in_history(client, admission, nurse,
                                                                  audit_events):
    original = write(client, admission, "Gave 10 mg diazepam.")

    form = client.get(correct_url(admission, original.id)).get_data(as_text=True)
    assert "Gave 10 mg diazepam.</textarea>" in form
    refused = client.post(correct_url(admission, original.id),
                          data=note_form(admission, "Gave 5 mg diazepam."))
    assert refused.status_code == 422
    assert "Give the reason for the correction." in message_next_to(
        refused.get_data(as_text=True), "correction_reason")
    assert len(stored_notes()) == 1

    response = client.post(correct_url(admission, original.id), data=note_form(
        admission, "Gave 5 mg diazepam.", correction_reason="Wrong dose typed."))

    first, correction = stored_notes()
    assert first.text == "Gave 10 mg diazepam."
    assert (correction.text, correction.supersedes_id) == ("Gave 5 mg diazepam.", first.id)
    assert correction.correction_reason == "Wrong dose typed."
    assert redirect_path(response).endswith(show_url(admission, correction.id))
    [event] = note_events(audit_events, "correct")
    assert event.object_id == str(correction.id)
    assert "Wrong dose typed." in event.detail

    page = client.get(show_url(admission, correction.id)).get_data(as_text=True)
    assert "History" in page
    assert "Gave 10 mg diazepam." in page and "Wrong dose typed." in page
    chart = client.get(f"/admissions/{admission.id}").get_data(as_text=True)
    assert "Gave 5 mg diazepam." in chart
    assert "Gave 10 mg diazepam." not in chart
    old = client.get(show_url(admission, first.id)).get_data(as_text=True)
    assert "This version has been corrected" in old
    assert correct_url(admission, first.id) not in old


def test_another_nurse_cannot_correct_but_a_charge_nurse_can(client, auth, admission):
    auth.login_as("nurse")
    original = write(client, admission, "Patient asleep.")
    auth.logout()

    auth.login_as("nurse")
    refused = client.get(correct_url(admission, original.id), follow_redirects=True)
    posted = client.post(correct_url(admission, original.id), data=note_form(
        admission, "Patient awake.", correction_reason="Mine now."), follow_redirects=True)
    assert "Only the person who charted this entry, or a charge nurse, may amend it." in \
        refused.get_data(as_text=True)
    assert "Only the person who charted this entry" in posted.get_data(as_text=True)
    assert len(stored_notes()) == 1
    auth.logout()

    charge = auth.login_as("charge_nurse")
    response = client.post(correct_url(admission, original.id), data=note_form(
        admission, "Patient awake, reading.", correction_reason="Wrong patient's note."))
    assert response.status_code == 302
    _, correction = stored_notes()
    assert correction.recorded_by_id == charge.id
    assert correction.supersedes_id == original.id


def test_entered_in_error_is_struck_through_with_the_reason(client, admission, nurse, audit_events):
    note = write(client, admission, "Wrong patient: vomited twice.")

    shown = client.get(show_url(admission, note.id)).get_data(as_text=True)
    assert f"/admissions/{admission.id}/entries/note/{note.id}/retract" in shown
    response = client.post(f"/admissions/{admission.id}/entries/note/{note.id}/retract",
                           data={"reason": "Charted on the wrong patient."})

    assert response.status_code == 302
    chart = client.get(f"/admissions/{admission.id}").get_data(as_text=True)
    assert re.search(r'class="entry entry-note struck"', chart)
    assert "Wrong patient: vomited twice." in chart
    assert "Charted on the wrong patient." in chart
    page = client.get(show_url(admission, note.id)).get_data(as_text=True)
    assert "Entered in error" in page and "Charted on the wrong patient." in page
    assert "card note-card struck" in page
    assert correct_url(admission, note.id) not in page
    assert [e.object_id for e in audit_events("retract")] == [str(note.id)]
    assert client.get(correct_url(admission, note.id)).status_code == 302


def test_late_note_is_marked(client, admission, nurse):
    note = write(client, admission, "Found on the floor at 02:00; no injury.", minutes_ago=120)

    assert note.is_late is True
    assert "Late entry" in client.get(f"/admissions/{admission.id}?view=stay").get_data(as_text=True)
    assert "Late entry" in client.get(show_url(admission, note.id)).get_data(as_text=True)


def test_discharged_admission_takes_no_new_note(client, admission, nurse):
    from clinic.admissions import services
    from clinic.db import utc_now

    services.discharge(by=nurse, admission=admission, discharged_at=utc_now() - timedelta(minutes=5),
                       disposition="home", note=None)
    db.session.commit()

    response = client.post(new_url(admission), data=note_form(admission, "After discharge"))

    assert response.status_code == 422
    assert "This admission has ended" in response.get_data(as_text=True)
    assert stored_notes() == []


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_admin_and_auditor_cannot_write_or_read_notes(client, auth, make_user, admission, role):
    from clinic.db import utc_now
    from clinic.notes.services import record_note

    author = make_user("nurse")
    note = record_note(by=author, admission=admission, observed_at=utc_now() - timedelta(minutes=1),
                       text="Calm.", idempotency_key=uuid.uuid4().hex)
    db.session.commit()
    auth.login_as(role)

    assert client.get(new_url(admission)).status_code == 403
    assert client.post(new_url(admission), data=note_form(admission)).status_code == 403
    assert client.get(show_url(admission, note.id)).status_code == 403
    assert client.get(correct_url(admission, note.id)).status_code == 403
    assert client.post(correct_url(admission, note.id), data=note_form(
        admission, correction_reason="x")).status_code == 403
    assert len(stored_notes()) == 1


def test_note_of_another_admission_is_not_found(client, make_admission, admission, nurse):
    other = make_admission()
    note = write(client, other, "Elsewhere.")

    assert client.get(show_url(admission, note.id)).status_code == 404
    assert client.get(correct_url(admission, note.id)).status_code == 404


def test_note_box_does_not_silently_cut_a_long_paste(client, admission, nurse):
    page = client.get(new_url(admission)).get_data(as_text=True)

    textarea = re.search(r"<textarea[^>]*name=\"text\"[^>]*>", page).group(0)
    assert "maxlength" not in textarea
