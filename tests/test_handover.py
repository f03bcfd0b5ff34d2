"""Shift handover: assembled once from the record, shown as a page and a PDF, signed and accepted.

The clock is fixed as in test_duelist: the ward's entries are charted at known times before NOW,
so every gap the due rules find follows exactly from them.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import uuid
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from clinic import entries
from clinic.escalations import services as escalation_services
from clinic.extensions import db
from clinic.models import HandoverAcceptance, HandoverSignature, NursingNote
from tests.prn_helpers import give, make_order
from tests.safety_helpers import complete_admission_prompts
from tests.test_duelist import chart_check, chart_ciwa_ar, chart_ketamine, chart_vitals, utc_unit


@pytest.fixture(name="now")
def fixed_now():
    from clinic.db import utc_now

    return utc_now().replace(second=0, microsecond=0)


@pytest.fixture(name="clock")
def fixed_clock(monkeypatch, now):
    monkeypatch.setattr("clinic.handover.routes.utc_now", lambda: now)
    return now


@pytest.fixture(name="ward")
def seeded_ward(clock, make_unit, make_admission, make_user):
    """Two patients on a UTC unit whose current shift began six hours before NOW.

    Bed 1 (ALDER, alcohol): NEWS2 1 five hours ago (every 4 h: vitals overdue 1 h), CIWA-Ar 12
    eighty minutes ago (hourly: overdue 20 min), a safety check 30 minutes ago (not overdue).
    Bed 2 (BIRCH, ketamine): ketamine checklist 3 h 15 min ago (due in 45 min: no gap), no
    safety check this shift (overdue).
    """
    now = clock
    unit = utc_unit(make_unit, now)
    charge = make_user("charge_nurse", display_name="Carla Charge")
    beds = {b.label: b for b in unit.beds}
    alcohol = make_admission(unit=unit, bed=beds["1"], by=charge, family_name="Alder", given_name="Ann",
                             substances=(("alcohol", 8),), protocols=("vitals", "ciwa_ar"),
                             allergies="Penicillin (rash)")
    ketamine = make_admission(unit=unit, bed=beds["2"], by=charge, family_name="Birch", given_name="Ben",
                              protocols=("vitals", "ketamine"))
    chart_vitals(alcohol, charge, now - timedelta(hours=5), heart_rate=95)
    chart_ciwa_ar(alcohol, charge, now - timedelta(minutes=80), 3, 3, 3, 3, 0, 0, 0, 0, 0, 0)
    chart_check(alcohol, charge, now - timedelta(minutes=30))
    chart_vitals(ketamine, charge, now - timedelta(hours=10) + timedelta(minutes=1))
    chart_ketamine(ketamine, charge, now - timedelta(hours=3, minutes=15))
    return {"unit": unit, "alcohol": alcohol, "ketamine": ketamine, "charge": charge, "now": now}


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def hhmm(at) -> str:
    return at.strftime("%H:%M")


def test_page_shows_each_patient_with_gaps_from_the_due_rules(client, auth, ward, audit_events):
    auth.login_as("nurse")
    now = ward["now"]
    response = client.get(f"/units/{ward['unit'].id}/handover?shift=current")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.index("Bed 1 — ALDER, Ann") < page.index("Bed 2 — BIRCH, Ben")
    assert "Allergies: Penicillin (rash)" in page
    ciwa_at = now - timedelta(minutes=80)
    due_at = hhmm(ciwa_at + timedelta(hours=1))
    # 20 minutes overdue when the ward was set up; 21 if a minute turned over since.
    assert re.search(rf"No CIWA-Ar since {hhmm(ciwa_at)} \(due {due_at}, overdue by 2[01] min\)", page)
    assert "No vitals since" in page
    assert "Safety check overdue" in page
    # Bed 1's safety check 30 minutes ago is done: no gap for it. Bed 2's ketamine is not due yet.
    alder = page[page.index("Bed 1 — ALDER"):page.index("Bed 2 — BIRCH")]
    assert "Safety check overdue" not in alder
    # Its hourly checks before that were missed: a miss stays a gap even after a later check.
    first_window = ward["alcohol"].admitted_at + timedelta(hours=5)
    assert f"Safety check missed: due {hhmm(first_window)}, none made by" in alder
    birch = page[page.index("Bed 2 — BIRCH"):]
    assert "No Ketamine" not in birch
    view = audit_events("view")[-1]
    assert view.object_type == "handover"
    assert str(ward["alcohol"].patient_id) in view.detail


def test_pdf_has_sections_gaps_and_header_footer_on_every_page(client, auth, ward, audit_events):
    auth.login_as("nurse", display_name="Nina Nurse")
    now = ward["now"]
    # Enough notes to run over several pages.
    for i in range(30):
        note = NursingNote(observed_at=now - timedelta(minutes=100 - i),
                           text=f"Observation note {i} " + "x" * 200)
        entries.stamp(note, by=ward["charge"], admission=ward["alcohol"], idempotency_key=uuid.uuid4().hex,
                      supersedes=None, reason=None)
        db.session.add(note)
    db.session.commit()
    response = client.get(f"/units/{ward['unit'].id}/handover.pdf?shift=current")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    pages = pdf_pages(response.data)
    text = "\n".join(pages)
    assert "Bed 1 — ALDER, Ann" in text and "Bed 2 — BIRCH, Ben" in text
    assert "Penicillin (rash)" in text
    ciwa_at = now - timedelta(minutes=80)
    assert f"No CIWA-Ar since {hhmm(ciwa_at)}" in text
    assert "GAPS (not done)" in text
    assert "more not printed: see the chart" in text
    for number, page in enumerate(pages, start=1):
        assert ward["unit"].name in page
        assert "shift" in page
        assert "Printed by Nina Nurse" in page
        assert f"Page {number} of {len(pages)}" in page
        assert "CONFIDENTIAL" in page
    printed = audit_events("print")[-1]
    assert printed.object_type == "handover"
    box = PdfReader(io.BytesIO(response.data)).pages[0].mediabox
    assert (round(box.width), round(box.height)) == (595, 842)  # A4 unless the unit says otherwise


def test_none_only_when_the_rules_found_nothing(client, auth, clock, make_unit, make_admission, make_user):
    now = clock
    unit = utc_unit(make_unit, now)
    charge = make_user("charge_nurse")
    admission = make_admission(unit=unit, by=charge, protocols=("vitals",), hours_ago=2)
    complete_admission_prompts(admission)
    chart_vitals(admission, charge, now - timedelta(minutes=10))
    chart_check(admission, charge, now - timedelta(minutes=65))
    chart_check(admission, charge, now - timedelta(minutes=5))
    auth.login_as("nurse")
    text = "\n".join(pdf_pages(client.get(f"/units/{unit.id}/handover.pdf?shift=current").data))
    assert "None: the due rules found nothing overdue" in text
    assert "No vitals since" not in text
    assert "Safety check missed" not in text


def test_admission_prompts_and_prn_follow_ups_are_named_once(client, auth, clock, make_unit, make_admission,
                                                            make_user):
    now = clock
    unit = utc_unit(make_unit, now)
    charge = make_user("charge_nurse")
    # Alcohol, admitted 2 h ago, nothing recorded: the suicide-risk screen and thiamine are overdue.
    admission = make_admission(unit=unit, by=charge, substances=(("alcohol", 8),),
                               protocols=("vitals", "ciwa_ar"), hours_ago=2)
    order = make_order(admission, make_user("physician"))
    give(admission, charge, order, minutes_ago=90)
    auth.login_as("nurse")
    text = "\n".join(pdf_pages(client.get(f"/units/{unit.id}/handover.pdf?shift=current").data))
    assert "Suicide-risk screen not done (due" in text
    assert "Thiamine at admission not done (due" in text
    assert "suicide_screen" not in text and "prn_effect" not in text
    # Once in the unit's overdue list and once in the patient's gaps, not again as a due item.
    assert text.count("Lorazepam not recorded") == 2


def test_a_suicide_screen_reads_as_its_risk_not_as_an_incomplete_scale(client, auth, clock, make_unit,
                                                                       make_admission, make_user):
    from clinic.assessments import services as assessments

    unit = utc_unit(make_unit, clock)
    charge = make_user("charge_nurse")
    admission = make_admission(unit=unit, by=charge, protocols=("vitals",), hours_ago=2)
    complete_admission_prompts(admission)  # a screen with every answer no
    assessments.record_assessment(
        by=charge, admission=admission, scale=assessments.SCREEN, observed_at=clock - timedelta(minutes=30),
        items={}, yes_no={}, heart_rate=None, self_harm_thoughts=True,
        suicide_answers={"wish_dead": True, "active_thoughts": False, "behaviour": False},
        unable_reason=None, idempotency_key=uuid.uuid4().hex)
    db.session.commit()
    auth.login_as("nurse")
    text = "\n".join(pdf_pages(client.get(f"/units/{unit.id}/handover.pdf?shift=current").data))
    assert "suicide_screen" not in text and "incomplete" not in text
    assert "Suicide-risk screen: risk none" in text
    assert "Suicide-risk screen: risk low; a yes: clinician review needed" in text


def test_hours_since_last_use_per_withdrawal_relevant_substance(client, auth, clock, make_unit,
                                                                make_admission, make_user):
    # As on the board: admitted 8 h 30 min ago (the half hour absorbs the fixed clock's seconds),
    # alcohol last used 72 h before (80 h now), benzodiazepines 52 h before (60 h), cannabis 2 h
    # ago, which has no withdrawal scale here and is not primary.
    unit = utc_unit(make_unit, clock)
    admission = make_admission(unit=unit, by=make_user("charge_nurse"), hours_ago=8.5,
                               protocols=("vitals", "ciwa_ar", "ciwa_b"),
                               substances=(("alcohol", 72), ("cannabis", -6), ("benzodiazepines", 52)))
    auth.login_as("nurse")
    page = client.get(f"/units/{unit.id}/handover?shift=current").get_data(as_text=True)
    pdf = "\n".join(pdf_pages(client.get(f"/units/{unit.id}/handover.pdf?shift=current").data))
    for text in (" ".join(page.split()), " ".join(pdf.split())):
        assert "Day 1, Alcohol 80 h since last use · Benzodiazepines 60 h since last use." in text
        # Not the newest use of any substance, which read as if the withdrawal began 2 h ago.
        assert "Day 1, 2 h since last use" not in text
        # Each substance is still listed with its own hours.
        assert "Cannabis (2 h since last use)" in text
    chart = client.get(f"/admissions/{admission.id}").get_data(as_text=True)
    assert "Alcohol 80 h since last use · Benzodiazepines 60 h since last use" in chart


def test_sign_stores_the_pdf_and_reprints_it_identically(client, auth, ward, audit_events, monkeypatch):
    from clinic.db import utc_now

    # The real clock: the ward's entries were recorded (system time) just after the fixed NOW.
    monkeypatch.setattr("clinic.handover.routes.utc_now", utc_now)
    nurse = auth.login_as("nurse", display_name="Olive Outgoing")
    response = client.post(f"/units/{ward['unit'].id}/handover/sign?shift=current",
                           data={"idempotency_key": "k1"})
    assert response.status_code == 302
    landing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Handover signature saved for " in landing and "stored exactly as printed." in landing
    signature = db.session.scalars(select(HandoverSignature)).one()
    assert signature.signed_by_id == nurse.id and signature.signed_by_role == "nurse"
    assert signature.sha256 == hashlib.sha256(signature.pdf).hexdigest()
    first = client.get(f"/handover/signatures/{signature.id}.pdf").data
    assert first == signature.pdf
    # New charting after signing: the stored copy does not change; the page says the record did.
    page = client.get(f"/units/{ward['unit'].id}/handover?shift=current").get_data(as_text=True)
    assert "Nothing has been charted for these patients since signing." in page
    chart_vitals(ward["alcohol"], ward["charge"], ward["now"] - timedelta(minutes=1))
    again = client.get(f"/handover/signatures/{signature.id}.pdf").data
    assert again == first
    page = client.get(f"/units/{ward['unit'].id}/handover?shift=current").get_data(as_text=True)
    assert "Signed by <strong>Olive Outgoing</strong>" in page
    assert "The record has changed since this handover was signed: 1 entry" in page
    signed = [e for e in audit_events("create") if e.object_type == "handover_signature"]
    assert len(signed) == 1
    reprints = [e for e in audit_events("print") if e.object_type == "handover_signature"]
    assert len(reprints) == 2
    assert "Olive Outgoing (signed)" in pdf_pages(first)[0]
    assert "Olive Outgoing (Nurse), signed in the record" in pdf_pages(first)[-1]
    # The same form sent twice signs once.
    client.post(f"/units/{ward['unit'].id}/handover/sign?shift=current", data={"idempotency_key": "k1"})
    assert len(db.session.scalars(select(HandoverSignature)).all()) == 1


def test_accept_with_questions_by_another_nurse(client, auth, ward, make_user, audit_events):
    auth.login_as("nurse", display_name="Olive Outgoing")
    client.post(f"/units/{ward['unit'].id}/handover/sign?shift=current", data={"idempotency_key": "k2"})
    signature = db.session.scalars(select(HandoverSignature)).one()
    # The signer cannot accept her own handover.
    response = client.post(f"/handover/signatures/{signature.id}/accept", data={"outcome": "accepted"})
    assert response.status_code == 422
    assert "not the nurse who signed it" in response.get_data(as_text=True)
    auth.logout()
    auth.login_as("nurse", display_name="Rita Receiving")
    response = client.post(f"/handover/signatures/{signature.id}/accept",
                           data={"outcome": "questions", "questions": ""})
    assert response.status_code == 422
    assert "Write the questions" in response.get_data(as_text=True)
    response = client.post(f"/handover/signatures/{signature.id}/accept",
                           data={"outcome": "questions", "questions": "Was bed 2's check done?"})
    assert response.status_code == 302
    shift_name = ward["unit"].shift_for(signature.shift_starts_at).name
    assert (f"Handover acceptance saved for {ward['unit'].name}, {shift_name} shift, accepted with questions."
            in client.get(response.headers["Location"]).get_data(as_text=True))
    row = db.session.scalars(select(HandoverAcceptance)).one()
    assert (row.accepted_by_name, row.accepted_by_role) == ("Rita Receiving", "nurse")
    assert row.outcome == "questions"
    page = client.get(f"/units/{ward['unit'].id}/handover?shift=current").get_data(as_text=True)
    assert "Accepted with questions by <strong>Rita Receiving</strong>" in page
    assert "Was bed 2&#39;s check done?" in page
    assert any(e.object_type == "handover_acceptance" for e in audit_events("create"))


@pytest.mark.parametrize("role", ["physician", "admin", "auditor"])
def test_only_nurses_sign(client, auth, ward, role):
    auth.login_as(role)
    response = client.post(f"/units/{ward['unit'].id}/handover/sign?shift=current",
                           data={"idempotency_key": "k3"})
    assert response.status_code == 403
    assert db.session.scalars(select(HandoverSignature)).all() == []


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_no_clinical_view_for_admin_or_auditor(client, auth, ward, role):
    auth.login_as(role)
    assert client.get(f"/units/{ward['unit'].id}/handover").status_code == 403
    assert client.get(f"/units/{ward['unit'].id}/handover.pdf").status_code == 403


def test_action_lines_and_adjusted_severity_are_kept(client, auth, ward):
    auth.login_as("nurse", display_name="Olive Outgoing")
    unit_id, admission_id = ward["unit"].id, ward["alcohol"].id
    url = f"/units/{unit_id}/handover/items?shift=current"
    response = client.post(url, data={"admission_id": admission_id, "kind": "todo",
                                      "text": "Repeat CIWA-Ar after lunch", "owner": "Night nurse"})
    assert response.status_code == 302
    assert (f"Handover line saved for {ward['alcohol'].patient.display_name}, "
            in client.get(response.headers["Location"]).get_data(as_text=True))
    client.post(url, data={"admission_id": admission_id, "kind": "contingency",
                           "text": "If CIWA-Ar >= 20, call the on-call physician"})
    response = client.post(url, data={"admission_id": admission_id, "kind": "severity", "text": ""})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Choose the severity." in body
    client.post(url, data={"admission_id": admission_id, "kind": "severity", "level": "unstable",
                           "text": "Tremor worsening"})
    text = "\n".join(pdf_pages(client.get(f"/units/{unit_id}/handover.pdf?shift=current").data))
    assert "To do: Repeat CIWA-Ar after lunch — Night nurse" in text
    assert "If … then: If CIWA-Ar >= 20, call the on-call physician" in text
    assert "UNSTABLE (adjusted by Olive Outgoing: Tremor worsening" in text


def test_open_escalation_without_response_is_a_gap(client, auth, ward):
    escalation_services.raise_by_hand(
        by=ward["charge"], admission=ward["ketamine"], level="urgent", reason="Agitated, pacing",
        idempotency_key=uuid.uuid4().hex, raised_at=ward["now"] - timedelta(minutes=40),
    )
    db.session.commit()
    auth.login_as("nurse")
    text = "\n".join(pdf_pages(client.get(f"/units/{ward['unit'].id}/handover.pdf?shift=current").data))
    assert "Urgent: Agitated, pacing — OPEN" in text
    assert "still open without a response" in text


def test_single_patient_handover(client, auth, ward, audit_events):
    auth.login_as("physician")
    admission = ward["alcohol"]
    page = client.get(f"/admissions/{admission.id}/handover").get_data(as_text=True)
    assert "ALDER, Ann" in page and "BIRCH" not in page
    text = "\n".join(pdf_pages(client.get(f"/admissions/{admission.id}/handover.pdf").data))
    assert "single patient" in text and "ALDER, Ann" in text and "BIRCH" not in text
    printed = audit_events("print")[-1]
    assert printed.patient_id == admission.patient_id


def test_rendered_pdf_pages_are_not_blank(client, auth, ward, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils not installed")
    auth.login_as("nurse")
    (tmp_path / "h.pdf").write_bytes(client.get(f"/units/{ward['unit'].id}/handover.pdf?shift=current").data)
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(tmp_path / "h.pdf"), str(tmp_path / "page")],
                   check=True)
    pngs = sorted(tmp_path.glob("page*.png"))
    assert pngs
    from PIL import Image

    for png in pngs:
        image = Image.open(png).convert("L")
        dark = sum(image.histogram()[:128])
        assert dark > 500, f"{png.name} looks blank"


def test_command_writes_the_demo_units_pdf(runner, tmp_path, audit_events):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    out = tmp_path / "downtime.pdf"
    result = runner.invoke(args=["handover", "--unit", "Detox Ward", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Detox Ward" in result.output and "8 patients" in result.output
    pages = pdf_pages(out.read_bytes())
    assert all("Printed by (command line)" in page and "Detox Ward" in page for page in pages)
    assert all(f"Page {n} of {len(pages)}" in page for n, page in enumerate(pages, start=1))
    assert "Illness severity" in "\n".join(pages)
    event = audit_events("print")[-1]
    assert event.username == "(command line)" and event.object_type == "handover"
    missing = runner.invoke(args=["handover", "--unit", "No Such Ward", "--out", str(out)])
    assert missing.exit_code != 0 and "no unit named 'No Such Ward'" in missing.output


def test_prn_doses_effects_and_next_eligible(client, auth, ward, make_user, monkeypatch):
    from clinic.db import utc_now
    from clinic.prn import services as prn_services
    from tests.prn_helpers import give, make_order

    # The real clock: an order counts as active from when it was prescribed (system time).
    monkeypatch.setattr("clinic.handover.routes.utc_now", utc_now)
    now = ward["now"]
    alcohol = ward["alcohol"]
    order = make_order(alcohol, make_user("physician"), drug="Lorazepam", min_interval_minutes=240,
                       max_doses_24h=4, starts_at=now - timedelta(hours=9))
    unanswered = give(alcohol, ward["charge"], order, at=now - timedelta(hours=3))
    give(alcohol, ward["charge"], order, at=now - timedelta(minutes=25), outcome="refused", dose=None,
         reason="Patient declined")
    auth.login_as("nurse")
    text = "\n".join(pdf_pages(client.get(f"/units/{ward['unit'].id}/handover.pdf?shift=current").data))
    given_at = hhmm(unanswered.observed_at)
    assert f"{given_at} Lorazepam 1 mg oral given by" in text
    assert f"Effect of {given_at} Lorazepam not recorded" in text
    assert "Lorazepam oral — Refused by the patient: Patient declined" in text
    eligible = hhmm(unanswered.observed_at + timedelta(minutes=240))
    assert f"Lorazepam 1 mg oral: next eligible {eligible}; 1/4 doses in 24 h" in text
    # Once its effect is recorded, the gap goes and the effect shows with the dose.
    prn_services.record_effect(by=ward["charge"], dose=unanswered, assessed_at=now - timedelta(hours=2),
                               effect="better", side_effects=[], note=None, idempotency_key=uuid.uuid4().hex)
    db.session.commit()
    text = "\n".join(pdf_pages(client.get(f"/units/{ward['unit'].id}/handover.pdf?shift=current").data))
    assert f"Effect of {given_at} Lorazepam not recorded" not in text
    assert f"effect better at {hhmm(now - timedelta(hours=2))}" in text


def test_paper_size_is_a_unit_setting(client, auth, ward, audit_events):
    auth.login_as("admin")
    url = f"/admin/units/{ward['unit'].id}/handover"
    assert "US Letter" in client.get(url).get_data(as_text=True)
    response = client.post(url, data={"paper_size": "tabloid"})
    assert "Not a valid choice" in response.get_data(as_text=True)
    response = client.post(url, data={"paper_size": "letter"}, follow_redirects=True)
    assert "handovers now print on US Letter" in response.get_data(as_text=True)
    assert any(e.object_type == "handover_setting" for e in audit_events("update"))
    auth.logout()
    auth.login_as("nurse")
    assert client.get(url).status_code == 403
    box = PdfReader(io.BytesIO(client.get(f"/units/{ward['unit'].id}/handover.pdf").data)).pages[0].mediabox
    assert (round(box.width), round(box.height)) == (612, 792)


def test_queries_per_handover_do_not_grow_with_beds_or_history(client, auth, ward, make_admission):
    from sqlalchemy import event

    auth.login_as("nurse")
    url = f"/units/{ward['unit'].id}/handover?shift=current"
    client.get(url)

    def count() -> int:
        statements = []

        def listener(*args):
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    before = count()
    now = ward["now"]
    third = make_admission(unit=ward["unit"], by=ward["charge"], protocols=("vitals", "ciwa_ar"))
    for hours in range(1, 9):
        chart_vitals(third, ward["charge"], now - timedelta(hours=hours))
        chart_vitals(ward["alcohol"], ward["charge"], now - timedelta(hours=hours, minutes=30))
        chart_check(ward["ketamine"], ward["charge"], now - timedelta(hours=hours, minutes=10))
    assert count() == before


def test_a_corrected_or_retracted_entry_leaves_its_section(client, auth, ward):
    from clinic.models import SafetyCheck

    now, charge = ward["now"], ward["charge"]

    def note(text, supersedes=None):
        row = NursingNote(observed_at=now - timedelta(minutes=50), text=text)
        entries.stamp(row, by=charge, admission=ward["alcohol"], idempotency_key=uuid.uuid4().hex,
                      supersedes=supersedes, reason="wrong time" if supersedes else None)
        db.session.add(row)
        db.session.commit()
        return row

    note("Corrected: settled after the 02:00 dose", supersedes=note("Original wording"))
    check = SafetyCheck(observed_at=now - timedelta(minutes=40), location="bedroom", activity="agitated",
                        concern="Pacing, shouting")
    entries.stamp(check, by=charge, admission=ward["ketamine"], idempotency_key=uuid.uuid4().hex,
                  supersedes=None, reason=None)
    db.session.add(check)
    db.session.commit()
    auth.login_as("nurse")
    url = f"/units/{ward['unit'].id}/handover?shift=current"
    page = client.get(url).get_data(as_text=True)
    assert "Corrected: settled after the 02:00 dose" in page and "Original wording" not in page
    assert "concern: Pacing, shouting" in page
    entries.retract(by=charge, entry=db.session.get(SafetyCheck, check.id), reason="wrong patient")
    db.session.commit()
    assert "Pacing, shouting" not in client.get(url).get_data(as_text=True)


def test_unit_summary_names_this_shifts_admissions_discharges_and_transfers(client, auth, ward,
                                                                            make_admission, monkeypatch):
    from clinic.admissions import services as admissions
    from clinic.db import utc_now

    now, unit, charge = ward["now"], ward["unit"], ward["charge"]
    # Admitted before this shift (10 h ago; it began 6 h ago), discharged during it.
    leaving = make_admission(unit=unit, by=charge, family_name="Cedar", given_name="Cal", hours_ago=10)
    admissions.discharge(by=charge, admission=leaving, discharged_at=now - timedelta(hours=1),
                         disposition="home", note=None)
    db.session.commit()
    arriving = make_admission(unit=unit, by=charge, family_name="Dogwood", given_name="Dee", hours_ago=2)
    admissions.transfer(by=charge, admission=arriving, to_bed=admissions.free_beds(unit)[0], reason=None)
    db.session.commit()
    bed = arriving.bed.label
    # The move is stamped with the real time, after the fixed clock's minute.
    monkeypatch.setattr("clinic.handover.routes.utc_now", lambda: utc_now() + timedelta(seconds=1))
    auth.login_as("nurse")
    page = client.get(f"/units/{unit.id}/handover?shift=current").get_data(as_text=True)
    summary = page[page.index("Unit summary"):page.index("Overdue or missed on the unit")]
    assert "<dt>Admitted</dt><dd>DOGWOOD, Dee</dd>" in summary
    assert "<dt>Discharged</dt><dd>CEDAR, Cal</dd>" in summary
    assert f"<dt>Transferred</dt><dd>DOGWOOD, Dee to bed {bed}</dd>" in summary
    text = "\n".join(pdf_pages(client.get(f"/units/{unit.id}/handover.pdf?shift=current").data))
    assert f"DOGWOOD, Dee to bed {bed}" in text and "CEDAR, Cal" in text


#: Statements one assembly of the ward's handover runs (PostgreSQL reads each admission's newest
#: entries in one statement, SQLite in three). A change here is a change in the handover's cost:
#: bench/handover.py times it.
ASSEMBLY_STATEMENTS = {"sqlite": 24, "postgresql": 21}


def test_statements_per_assembly_are_pinned_whatever_the_history(ward, make_admission, make_user):
    from sqlalchemy import event

    from clinic.handover.services import assemble, choose_shift

    now, unit, charge = ward["now"], ward["unit"], ward["charge"]
    order = make_order(ward["alcohol"], make_user("physician"))
    give(ward["alcohol"], charge, order, minutes_ago=90)

    def count() -> int:
        statements = []

        def listener(*args):
            statements.append(args[2])

        shift = choose_shift(unit, now, "current")
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            handover = assemble(unit, now=now, shift=shift)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert handover.patients
        return len(statements)

    expected = ASSEMBLY_STATEMENTS[db.engine.dialect.name]
    assert count() == expected
    # More beds, and days of history before this shift: the same statements.
    third = make_admission(unit=unit, by=charge, protocols=("vitals", "ciwa_ar"), hours_ago=80)
    for hours in range(1, 72, 3):
        chart_vitals(third, charge, now - timedelta(hours=hours))
        chart_check(ward["ketamine"], charge, now - timedelta(hours=hours, minutes=10))
    second_order = make_order(third, make_user("physician"))
    give(third, charge, second_order, minutes_ago=400)
    give(third, charge, second_order, minutes_ago=100)
    assert count() == expected


def test_typed_text_stays_text_on_the_page(client, auth, ward):
    note = NursingNote(observed_at=ward["now"] - timedelta(minutes=5),
                       text='<script>alert("x")</script> calm')
    entries.stamp(note, by=ward["charge"], admission=ward["ketamine"], idempotency_key=uuid.uuid4().hex,
                  supersedes=None, reason=None)
    db.session.add(note)
    db.session.commit()
    auth.login_as("nurse")
    page = client.get(f"/units/{ward['unit'].id}/handover?shift=current").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; calm" in page
    assert "<script>alert" not in page


def test_a_withdrawn_line_leaves_the_handover_but_stays_in_the_record(client, auth, ward, audit_events):
    from clinic.models import HandoverItem

    auth.login_as("nurse")
    unit_id = ward["unit"].id
    client.post(f"/units/{unit_id}/handover/items?shift=current",
                data={"admission_id": ward["alcohol"].id, "kind": "todo", "text": "Wrong patient line"})
    item = db.session.scalars(select(HandoverItem)).one()
    response = client.post(f"/units/{unit_id}/handover/items/{item.id}/withdraw?shift=current",
                           follow_redirects=True)
    assert "Withdrawal of a handover line saved for " in response.get_data(as_text=True)
    assert "Wrong patient line" not in response.get_data(as_text=True)
    rows = db.session.scalars(select(HandoverItem).order_by(HandoverItem.id)).all()
    assert [r.withdraws_id for r in rows] == [None, item.id]
    again = client.post(f"/units/{unit_id}/handover/items/{item.id}/withdraw?shift=current",
                        follow_redirects=True)
    assert "That line has already been withdrawn." in again.get_data(as_text=True)
    assert any(e.object_type == "handover_item" for e in audit_events("retract"))
