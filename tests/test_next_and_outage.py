"""Where a form goes next, and the truth about "saved" when something fails."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, func, select

from clinic.extensions import db
from clinic.models import NursingNote
from clinic.routing import local_path
from tests.conftest import redirect_path
from tests.test_notes import new_url as note_url
from tests.test_notes import note_form

OFF_SITE = ["http://other-host/x", "/\\other-host/x", "//other-host/x", "javascript:alert(1)",
            "/units/1/board\r\nSet-Cookie: x=1", "/units/1/board%0D%0A\r\n", " /x", "https:/x",
            "/\t/other-host", "x" * 2000]


@pytest.mark.parametrize("value", OFF_SITE)
def test_local_path_refuses_anything_off_site(value):
    assert local_path(value) is None


@pytest.mark.parametrize("value", ["/units/1/board", "/units/1/due?mine=1", "/admissions/3?view=stay",
                                   "/units/1/board%0D%0A"])
def test_local_path_keeps_a_path_of_this_site(value):
    assert local_path(value) == value


@pytest.fixture
def admission(make_admission):
    return make_admission()


def _cancel_href(page: str) -> str:
    return re.search(r'<a href="([^"]*)">Cancel</a>', page).group(1)


def _hidden_next(page: str) -> str:
    return re.search(r'<input type="hidden" name="next" value="([^"]*)">', page).group(1)


@pytest.mark.parametrize("value", ["http://other-host/x", "/\\other-host/x", "//other-host/x"])
@pytest.mark.parametrize("form", ["vitals/new", "notes/new", "assessments/new?scale=ketamine"])
def test_cancel_link_and_hidden_next_stay_on_site(client, auth, admission, form, value):
    auth.login_as("nurse")
    joiner = "&" if "?" in form else "?"
    page = client.get(f"/admissions/{admission.id}/{form}{joiner}next={value}").get_data(as_text=True)
    assert "other-host" not in page
    assert _cancel_href(page) == f"/admissions/{admission.id}"
    assert _hidden_next(page) == ""


def test_a_local_next_is_kept(client, auth, admission):
    auth.login_as("nurse")
    page = client.get(f"/admissions/{admission.id}/notes/new?next=/units/1/board").get_data(as_text=True)
    assert _cancel_href(page) == "/units/1/board"
    assert _hidden_next(page) == "/units/1/board"


def test_note_with_a_crlf_next_is_saved_and_goes_to_the_note(client, auth, admission):
    auth.login_as("nurse")
    data = {**note_form(admission, "Slept well"), "next": "/units/1/board\r\n"}
    response = client.post(note_url(admission) + "?next=/units/1/board%0D%0A", data=data)
    assert response.status_code == 302
    [note] = db.session.scalars(select(NursingNote)).all()
    assert redirect_path(response) == f"/admissions/{admission.id}/notes/{note.id}"


@pytest.mark.parametrize("value", ["http://other-host/x", "/\\other-host/x"])
def test_login_next_stays_on_site(client, make_user, value):
    user = make_user("nurse")
    response = client.post(f"/login?next={value}",
                           data={"username": user.username, "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert "other-host" not in response.headers["Location"]


def test_a_failure_after_the_commit_does_not_claim_the_entry_was_lost(app, client, auth, admission,
                                                                      monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    auth.login_as("nurse")

    def broken(*args, **kwargs):
        raise RuntimeError("failed after the commit")

    monkeypatch.setattr("clinic.notes.routes.saved", broken)
    response = client.post(note_url(admission), data=note_form(admission, "Slept well"))
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert db.session.scalar(select(func.count()).select_from(NursingNote)) == 1
    assert "nothing was saved" not in page.lower() and "NOT saved" not in page
    assert "what you entered was saved" in page.lower()


@pytest.fixture
def outage(app):
    """Make every new database connection fail, as when the server is down."""
    dbapi = db.engine.dialect.loaded_dbapi

    def refuse(*args, **kwargs):
        raise dbapi.OperationalError("connection refused (test outage)")

    def start():
        db.session.remove()
        db.engine.dispose()
        event.listen(db.engine, "do_connect", refuse)

    yield start
    if event.contains(db.engine, "do_connect", refuse):
        event.remove(db.engine, "do_connect", refuse)
    db.engine.dispose()


def test_a_page_during_an_outage_renders_without_the_database(client, auth, admission, outage):
    auth.login_as("nurse")
    outage()
    response = client.get(f"/admissions/{admission.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Internal Server Error" not in page
    assert "cannot be reached" in page
    assert "paper downtime chart" in page


def test_a_post_during_an_outage_says_not_saved_and_keeps_the_draft(client, auth, admission, outage):
    auth.login_as("nurse")
    data = note_form(admission, "Anxious, cravings 6/10")
    outage()
    response = client.post(note_url(admission), data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Your entry was NOT saved" in page
    assert "kept in this browser" in page
    assert "paper downtime chart" in page
    assert "drafts.js" in page  # the page that keeps drafts is there and nothing discards them
    assert "#saved=" not in response.headers.get("Location", "")


def test_the_downtime_procedure_is_the_unit_configured_one(app, client, auth, admission, outage):
    app.config["DOWNTIME_PROCEDURE"] = "Use the red downtime folder at the nurses' station."
    auth.login_as("nurse")
    data = note_form(admission, "Anxious")
    outage()
    page = client.post(note_url(admission), data=data).get_data(as_text=True)
    assert "Use the red downtime folder at the nurses&#39; station." in page
