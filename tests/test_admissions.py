"""Admit, readmit, transfer and discharge through the forms; who may do it; bed and patient rules."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Admission, AdmissionSubstance, Bed, BedMove, Patient
from clinic.routing import local_now
from clinic.timefmt import from_local

TIME_FORMAT = "%Y-%m-%dT%H:%M"


# --- helpers -------------------------------------------------------------------------------------

def page_text(response) -> str:
    return unescape(response.get_data(as_text=True))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def local(unit, hours_ago: float = 0) -> str:
    return (local_now(unit) - timedelta(hours=hours_ago)).strftime(TIME_FORMAT)


def admit_form(unit, bed, **changes) -> dict:
    """Return a complete new-patient admission as the browser posts it."""
    form = {
        "mrn": "KD-1001",
        "identity-family_name": "Halvorsen",
        "identity-given_name": "Mika",
        "identity-date_of_birth": "1994-03-21",
        "identity-sex": "male",
        "allergies": "Penicillin (rash)",
        "bed": str(bed.id),
        "admitted_at": local(unit, hours_ago=2),
        "attending_physician": "0",
        "substances-ketamine-used": "y",
        "substances-ketamine-last_use": local(unit, hours_ago=20),
        "substances-ketamine-detail": "2 g/day intranasal",
        "primary_substance": "ketamine",
        "protocols": ["ketamine"],
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def readmit_form(unit, bed, patient, **changes) -> dict:
    """Return the form for a returning patient: no identity fields, the MRN as a hidden field."""
    form = admit_form(unit, bed, mrn=patient.mrn, **changes)
    return {k: v for k, v in form.items() if not k.startswith("identity-")}


def post_admit(client, unit, data, mrn: str | None = None):
    query = {"unit": unit.id}
    if mrn:
        query["mrn"] = mrn
    return client.post("/admit", query_string=query, data=data)


class _Inputs(HTMLParser):
    """Collect what each input and textarea shows, and the checked boxes and radios."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "textarea" and name:
            self._textarea = name
            self.values[name] = [""]
        if tag != "input" or not name:
            return
        if attrs.get("type") in ("radio", "checkbox"):
            self.values.setdefault(name, [])
            if "checked" in attrs:
                self.values[name].append(attrs.get("value", "y"))
        else:
            self.values[name] = [attrs.get("value", "")]

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


def shown_inputs(response) -> dict[str, list[str]]:
    parser = _Inputs()
    parser.feed(response.get_data(as_text=True))
    return {k: [v.strip() for v in values] for k, values in parser.values.items()}


def flashed(client) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def detail(event) -> dict:
    return json.loads(event.detail)


def bed_labelled(unit, label: str) -> Bed:
    return next(b for b in unit.beds if b.label == label)


def refresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


# --- admitting a new patient ---------------------------------------------------------------------

def test_charge_nurse_admits_a_new_patient(client, auth, make_unit, make_user, audit_events):
    unit = make_unit(timezone="America/New_York")
    physician = make_user("physician", display_name="Dr Imani Osei")
    nurse = auth.login_as("charge_nurse")
    form = admit_form(
        unit, bed_labelled(unit, "3"), mrn="kd-1001", attending_physician=str(physician.id),
        protocols=["ketamine", "ciwa_ar"],
        **{"substances-alcohol-used": "y",
           "substances-alcohol-last_use": local(unit, hours_ago=30)},
    )

    response = post_admit(client, unit, form)

    assert response.status_code == 302, page_text(response)
    admission = db.session.scalar(select(Admission))
    assert response.location == f"/admissions/{admission.id}"
    assert "Admission saved for HALVORSEN, Mika, bed 3." in flashed(client)
    patient = admission.patient
    assert (patient.mrn, patient.family_name, patient.given_name) == ("KD-1001", "Halvorsen", "Mika")
    assert patient.date_of_birth == date(1994, 3, 21)
    assert patient.sex == "male"
    assert patient.allergies == "Penicillin (rash)"
    assert admission.status == "admitted"
    assert admission.unit_id == unit.id
    assert admission.bed.label == "3"
    assert admission.admitted_by_id == nurse.id
    assert admission.attending_physician_id == physician.id
    assert admission.protocols == ["vitals", "ketamine", "ciwa_ar"]
    # Typed on the unit clock (New York), stored in UTC.
    assert admission.admitted_at == from_local(
        datetime.strptime(form["admitted_at"], TIME_FORMAT), unit.zone
    )
    substances = {s.substance: s for s in admission.substances}
    assert set(substances) == {"ketamine", "alcohol"}
    assert substances["ketamine"].is_primary and not substances["alcohol"].is_primary
    assert substances["ketamine"].detail == "2 g/day intranasal"
    assert admission.admitted_at - substances["ketamine"].last_use_at == timedelta(hours=18)
    creates = audit_events("create")
    assert [(e.object_type, e.object_id) for e in creates] == [
        ("patient", str(patient.id)), ("admission", str(admission.id)),
    ]
    assert all(e.patient_id == patient.id and e.user_id == nurse.id for e in creates)
    assert detail(creates[1])["after"]["bed"] == "3"


def test_admission_time_is_read_on_the_unit_clock(client, auth, make_unit):
    unit = make_unit(timezone="Asia/Hong_Kong")
    auth.login_as("charge_nurse")
    typed = (local_now(unit) - timedelta(hours=5)).replace(minute=7)

    form = admit_form(unit, bed_labelled(unit, "1"), admitted_at=typed.strftime(TIME_FORMAT))
    post_admit(client, unit, form)

    admission = db.session.scalar(select(Admission))
    assert admission.admitted_at == from_local(typed, "Asia/Hong_Kong")
    assert admission.admitted_at.astimezone(unit.zone).replace(tzinfo=None) == typed


def test_unknown_mrn_lookup_starts_a_new_patient(client, auth, make_unit):
    unit = make_unit()
    auth.login_as("charge_nurse")

    response = client.get("/admit", query_string={"unit": unit.id, "mrn": "zz-404"})

    assert response.status_code == 200
    assert "No patient with MRN ZZ-404" in page_text(response)
    assert shown_inputs(response)["mrn"] == ["zz-404"]
    # Nothing clinical is pre-selected: the primary substance is the user's choice.
    assert shown_inputs(response)["primary_substance"] == []


# --- returning patients --------------------------------------------------------------------------

def discharge_now(admission, by):
    from clinic.admissions import services

    services.discharge(by=by, admission=admission, discharged_at=utc_now() - timedelta(hours=1),
                       disposition="home", note=None)
    db.session.commit()


def test_returning_patient_is_readmitted_without_a_second_patient_row(
        client, auth, make_unit, make_admission, audit_events):
    unit = make_unit()
    first = make_admission(unit=unit, mrn="RET-77", hours_ago=200, family_name="Lindqvist")
    nurse = auth.login_as("charge_nurse")
    discharge_now(first, nurse)
    patient_id = first.patient_id

    lookup = client.get("/admit", query_string={"unit": unit.id, "mrn": "ret-77"})

    assert lookup.status_code == 200
    assert "Returning patient" in page_text(lookup)
    assert "LINDQVIST, Sam" in page_text(lookup)
    assert shown_inputs(lookup)["mrn"] == ["RET-77"]
    assert shown_inputs(lookup)["allergies"] == ["No known drug allergies"]

    response = post_admit(
        client, unit, readmit_form(unit, bed_labelled(unit, "2"), refresh(first).patient,
                                   allergies="Latex"), mrn="ret-77",
    )

    assert response.status_code == 302, page_text(response)
    assert count(Patient) == 1
    admissions = db.session.scalars(
        select(Admission).where(Admission.patient_id == patient_id).order_by(Admission.id)
    ).all()
    assert [a.status for a in admissions] == ["discharged", "admitted"]
    assert admissions[1].bed.label == "2"
    assert response.location == f"/admissions/{admissions[1].id}"
    patient = db.session.get(Patient, patient_id)
    assert patient.allergies == "Latex"
    correction = audit_events("correct")[-1]
    assert correction.patient_id == patient_id
    assert detail(correction)["before"] == {"allergies": "No known drug allergies"}
    assert detail(correction)["after"] == {"allergies": "Latex"}
    assert [e.object_type for e in audit_events("create")][-1] == "admission"
    assert not any(e.object_type == "patient" and e.id > correction.id
                   for e in audit_events("create"))


def test_new_patient_with_an_existing_mrn_is_refused(client, auth, make_unit, make_admission):
    unit = make_unit()
    existing = make_admission(unit=unit, mrn="DUP-1", family_name="Achterberg", given_name="Rosa",
                              date_of_birth=date(1988, 7, 4))
    nurse = auth.login_as("charge_nurse")
    discharge_now(existing, nurse)

    response = post_admit(client, unit, admit_form(unit, bed_labelled(unit, "2"), mrn="dup-1"))

    assert response.status_code == 422
    text = page_text(response)
    assert "MRN DUP-1 already belongs to ACHTERBERG, Rosa, born 04 Jul 1988." in text
    assert count(Patient) == 1
    assert count(Admission) == 1
    # What was typed stays in the form.
    assert shown_inputs(response)["identity-family_name"] == ["Halvorsen"]


def test_a_currently_admitted_patient_cannot_be_admitted_again(client, auth, make_unit,
                                                              make_admission):
    unit = make_unit(name="Cedar Ward")
    current = make_admission(unit=unit, mrn="CUR-9", family_name="Nakamura")
    auth.login_as("charge_nurse")

    response = post_admit(
        client, unit, readmit_form(unit, bed_labelled(unit, "4"), current.patient), mrn="CUR-9"
    )

    assert response.status_code == 422
    assert "NAKAMURA, Sam is already admitted to Cedar Ward, bed 1." in page_text(response)
    assert count(Admission) == 1
    assert refresh(current).bed.label == "1"


# --- refusals that keep the form -----------------------------------------------------------------

def test_occupied_bed_is_refused_naming_the_patient_in_it(client, auth, make_unit, make_admission):
    unit = make_unit()
    holder = make_admission(unit=unit, mrn="HOLD-1", family_name="Brennan", given_name="Orla")
    auth.login_as("charge_nurse")
    occupied = holder.bed
    form = admit_form(unit, occupied)

    response = post_admit(client, unit, form)

    assert response.status_code == 422
    text = page_text(response)
    assert "Bed 1 is occupied by BRENNAN, Orla (MRN HOLD-1)" in text
    assert count(Admission) == 1
    assert count(Patient) == 1
    shown = shown_inputs(response)
    for name in ("mrn", "identity-family_name", "identity-given_name", "identity-date_of_birth",
                 "admitted_at", "substances-ketamine-last_use", "substances-ketamine-detail",
                 "allergies"):
        assert shown[name] == [form[name]], name
    assert shown["substances-ketamine-used"] == ["y"]
    assert shown["primary_substance"] == ["ketamine"]
    assert shown["protocols"] == ["ketamine"]


def test_bed_list_offers_only_free_beds(client, auth, make_unit, make_admission):
    unit = make_unit(beds=3)
    make_admission(unit=unit)
    closed = bed_labelled(unit, "3")
    closed.active = False
    db.session.commit()
    auth.login_as("charge_nurse")

    html = page_text(client.get("/admit", query_string={"unit": unit.id}))

    offered = re.findall(r'<option[^>]*value="(\d+)"[^>]*>Bed (\w+)</option>', html)
    assert [label for _id, label in offered] == ["2"]


def test_a_bed_of_another_unit_is_refused(client, auth, make_unit):
    unit = make_unit()
    other = make_unit()
    auth.login_as("charge_nurse")

    response = post_admit(client, unit, admit_form(unit, bed_labelled(other, "1")))

    assert response.status_code == 422
    assert count(Admission) == 0


def test_admission_time_in_the_future_is_refused(client, auth, make_unit):
    unit = make_unit()
    auth.login_as("charge_nurse")
    future = local(unit, hours_ago=-2)

    response = post_admit(client, unit, admit_form(unit, bed_labelled(unit, "1"), admitted_at=future))

    assert response.status_code == 422
    assert "Admission time cannot be in the future." in page_text(response)
    assert shown_inputs(response)["admitted_at"] == [future]
    assert count(Admission) == 0
    assert count(Patient) == 0


def test_last_use_in_the_future_is_refused(client, auth, make_unit):
    unit = make_unit()
    auth.login_as("charge_nurse")

    response = post_admit(client, unit, admit_form(
        unit, bed_labelled(unit, "1"), **{"substances-ketamine-last_use": local(unit, hours_ago=-3)}
    ))

    assert response.status_code == 422
    assert "Last use of ketamine cannot be in the future." in page_text(response)
    assert count(Admission) == 0


CHOOSE_PRIMARY = "Primary substance: you ticked Ketamine and Alcohol; choose which is the primary one."
TICK_PRIMARY = "Tick the primary substance as used, with its last use."
ALCOHOL_ONLY = {"substances-ketamine-used": None, "substances-ketamine-last_use": None,
                "substances-alcohol-used": "y", "substances-alcohol-last_use": "2020-01-01T10:00"}


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"substances-alcohol-used": "y", "primary_substance": None}, CHOOSE_PRIMARY),
        ({"substances-alcohol-used": "y", "primary_substance": ""}, CHOOSE_PRIMARY),
        ({"primary_substance": "heroin"}, "Primary substance: choose one of the substances listed."),
        # Alcohol only, but the primary left on ketamine.
        ({**ALCOHOL_ONLY, "primary_substance": "ketamine"}, TICK_PRIMARY),
    ],
    ids=["two ticked, not sent", "two ticked, empty", "unknown", "primary not used"],
)
def test_missing_primary_substance_is_refused(client, auth, make_unit, changes, message):
    unit = make_unit()
    auth.login_as("charge_nurse")

    response = post_admit(client, unit, admit_form(unit, bed_labelled(unit, "1"), **changes))

    assert response.status_code == 422
    assert message in page_text(response)
    assert count(Admission) == 0
    assert count(Patient) == 0


def test_unreadable_last_use_is_refused_next_to_its_substance(client, auth, make_unit):
    unit = make_unit()
    auth.login_as("charge_nurse")

    response = post_admit(client, unit, admit_form(
        unit, bed_labelled(unit, "1"), **{"substances-ketamine-last_use": "yesterday"}
    ))

    assert response.status_code == 422
    assert "Not a valid datetime value." in page_text(response)
    assert "⚠ ketamine" not in page_text(response)
    assert count(Admission) == 0


def test_allergies_must_be_recorded(client, auth, make_unit):
    unit = make_unit()
    auth.login_as("charge_nurse")

    response = post_admit(client, unit, admit_form(unit, bed_labelled(unit, "1"), allergies=""))

    assert response.status_code == 422
    assert "Record allergies" in page_text(response)
    assert count(Admission) == 0


# --- the database's own guarantees ---------------------------------------------------------------

def test_database_refuses_a_second_current_admission_in_a_bed(make_admission, make_user):
    first = make_admission()
    other = Patient(mrn="RAW-2", family_name="Raw", given_name="Insert",
                    date_of_birth=date(1980, 1, 1), sex="other", allergies="None known")
    db.session.add(other)
    db.session.commit()
    bed_id, unit_id = first.bed_id, first.unit_id
    nurse = make_user("charge_nurse")

    db.session.add(Admission(patient=other, unit_id=unit_id, bed_id=bed_id, status="admitted",
                             admitted_at=utc_now(), admitted_by=nurse))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()

    assert count(Admission, Admission.bed_id == bed_id) == 1


def test_database_refuses_a_second_current_admission_of_a_patient(make_admission, make_user):
    first = make_admission()
    patient_id, unit_id = first.patient_id, first.unit_id
    free_bed_id = next(b.id for b in first.unit.beds if b.id != first.bed_id)
    nurse = make_user("charge_nurse")

    db.session.add(Admission(patient_id=patient_id, unit_id=unit_id, bed_id=free_bed_id,
                             status="admitted", admitted_at=utc_now(), admitted_by=nurse))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()

    assert count(Admission, Admission.patient_id == patient_id) == 1


def test_database_allows_a_discharged_admission_in_an_occupied_bed(make_admission, make_user):
    first = make_admission()
    other = Patient(mrn="OLD-3", family_name="Earlier", given_name="Stay",
                    date_of_birth=date(1970, 1, 1), sex="male", allergies="None known")
    nurse = make_user("charge_nurse")

    db.session.add(Admission(patient=other, unit_id=first.unit_id, bed_id=first.bed_id,
                             status="discharged", admitted_at=utc_now() - timedelta(days=9),
                             discharged_at=utc_now() - timedelta(days=2), admitted_by=nurse))
    db.session.commit()

    assert count(Admission, Admission.bed_id == first.bed_id) == 2


# --- transfer ------------------------------------------------------------------------------------

def test_transfer_to_a_free_bed(client, auth, make_unit, make_admission, audit_events):
    unit = make_unit()
    admission = make_admission(unit=unit, family_name="Ferreira")
    nurse = auth.login_as("charge_nurse")

    response = client.post(f"/admissions/{admission.id}/transfer",
                           data={"bed": str(bed_labelled(unit, "4").id), "reason": "Nearer the station",
                                 "confirm": "yes"})

    assert response.status_code == 302, page_text(response)
    assert response.location == f"/admissions/{admission.id}"
    assert "Transfer saved for FERREIRA, Sam, now in bed 4." in flashed(client)
    assert refresh(admission).bed.label == "4"
    move = db.session.scalar(select(BedMove))
    assert (move.from_bed.label, move.to_bed.label) == ("1", "4")
    assert move.moved_by_id == nurse.id
    assert move.reason == "Nearer the station"
    event = audit_events("update")[-1]
    assert event.object_type == "admission" and event.object_id == str(admission.id)
    assert event.patient_id == admission.patient_id
    assert detail(event)["change"] == "transfer"
    assert detail(event)["before"] == {"bed": "1"}
    assert detail(event)["after"] == {"bed": "4"}
    # The old bed is free again.
    page = page_text(client.get("/admit", query_string={"unit": unit.id}))
    assert f'value="{bed_labelled(unit, "1").id}"' in page


def test_transfer_to_an_occupied_bed_is_refused_naming_the_holder(client, auth, make_unit,
                                                                 make_admission, audit_events):
    unit = make_unit()
    moving = make_admission(unit=unit)
    holder = make_admission(unit=unit, mrn="HOLD-2", family_name="Kowalczyk", given_name="Ewa")
    auth.login_as("charge_nurse")

    response = client.post(f"/admissions/{moving.id}/transfer",
                           data={"bed": str(holder.bed_id), "reason": "", "confirm": "yes"})

    assert response.status_code == 422
    assert "Bed 2 is occupied by KOWALCZYK, Ewa (MRN HOLD-2)" in page_text(response)
    assert refresh(moving).bed.label == "1"
    assert count(BedMove) == 0
    assert audit_events("update") == []


def test_transfer_to_the_same_bed_is_refused(client, auth, make_admission):
    admission = make_admission()
    auth.login_as("charge_nurse")

    response = client.post(f"/admissions/{admission.id}/transfer",
                           data={"bed": str(admission.bed_id), "confirm": "yes"})

    assert response.status_code == 422
    assert count(BedMove) == 0


# --- discharge -----------------------------------------------------------------------------------

def discharge_form(admission, hours_ago: float = 0, disposition: str = "residential") -> dict:
    return {"discharged_at": local(admission.unit, hours_ago=hours_ago),
            "disposition": disposition, "note": "To residential programme, bed booked.",
            "confirm": "yes"}


def test_discharge_with_a_disposition_frees_the_bed(client, auth, make_admission, audit_events):
    admission = make_admission(family_name="Oyelaran")
    nurse = auth.login_as("charge_nurse")
    form = discharge_form(admission)

    response = client.post(f"/admissions/{admission.id}/discharge", data=form)

    assert response.status_code == 302, page_text(response)
    assert response.location == f"/units/{admission.unit_id}/board"
    assert any(m.startswith("Discharge saved for OYELARAN, Sam, bed 1 is free.") for m in flashed(client))
    admission = refresh(admission)
    assert admission.status == "discharged"
    assert admission.disposition == "residential"
    assert admission.discharged_by_id == nurse.id
    assert admission.discharge_note == "To residential programme, bed booked."
    assert admission.discharged_at == from_local(
        datetime.strptime(form["discharged_at"], TIME_FORMAT), admission.unit.zone
    )
    event = audit_events("update")[-1]
    assert event.patient_id == admission.patient_id
    assert detail(event)["change"] == "discharge"
    assert detail(event)["before"]["status"] == "admitted"
    assert detail(event)["after"]["status"] == "discharged"
    assert detail(event)["after"]["disposition"] == "residential"
    page = page_text(client.get("/admit", query_string={"unit": admission.unit_id}))
    assert f'value="{admission.bed_id}"' in page


def test_discharge_twice_is_refused(client, auth, make_admission, audit_events):
    admission = make_admission()
    auth.login_as("charge_nurse")
    client.post(f"/admissions/{admission.id}/discharge", data=discharge_form(admission))
    first_discharge = refresh(admission).discharged_at

    response = client.post(f"/admissions/{admission.id}/discharge",
                           data=discharge_form(admission, disposition="home"))

    assert response.status_code == 302
    assert response.location == f"/admissions/{admission.id}"
    assert "This admission has already ended." in flashed(client)
    admission = refresh(admission)
    assert admission.disposition == "residential"
    assert admission.discharged_at == first_discharge
    assert len(audit_events("update")) == 1


def test_discharge_before_the_admission_time_is_refused(client, auth, make_admission):
    admission = make_admission(hours_ago=10)
    auth.login_as("charge_nurse")

    response = client.post(f"/admissions/{admission.id}/discharge",
                           data=discharge_form(admission, hours_ago=11))

    assert response.status_code == 422
    assert "Discharge cannot be before the admission time." in page_text(response)
    assert refresh(admission).status == "admitted"


def test_discharge_in_the_future_is_refused(client, auth, make_admission):
    admission = make_admission()
    auth.login_as("charge_nurse")

    response = client.post(f"/admissions/{admission.id}/discharge",
                           data=discharge_form(admission, hours_ago=-1))

    assert response.status_code == 422
    assert "Discharge time cannot be in the future." in page_text(response)
    assert refresh(admission).status == "admitted"


def test_discharge_needs_a_disposition(client, auth, make_admission):
    admission = make_admission()
    auth.login_as("charge_nurse")

    response = client.post(f"/admissions/{admission.id}/discharge",
                           data=discharge_form(admission, disposition=""))

    assert response.status_code == 422
    assert refresh(admission).status == "admitted"


def test_a_discharged_admission_cannot_be_transferred(client, auth, make_admission):
    admission = make_admission()
    nurse = auth.login_as("charge_nurse")
    discharge_now(admission, nurse)

    response = client.post(f"/admissions/{admission.id}/transfer",
                           data={"bed": str(admission.unit.beds[3].id)})

    assert response.status_code == 302
    assert "This admission has ended; it cannot be transferred." in flashed(client)
    assert count(BedMove) == 0


# --- who may do what -----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["nurse", "physician", "admin", "auditor"])
def test_only_charge_nurses_admit_transfer_and_discharge(client, auth, make_admission, role):
    admission = make_admission()
    unit = admission.unit
    auth.login_as(role)
    free = bed_labelled(unit, "2")

    attempts = [
        client.get("/admit", query_string={"unit": unit.id}),
        post_admit(client, unit, admit_form(unit, free, mrn="NEW-5")),
        client.get(f"/admissions/{admission.id}/transfer"),
        client.post(f"/admissions/{admission.id}/transfer", data={"bed": str(free.id)}),
        client.get(f"/admissions/{admission.id}/discharge"),
        client.post(f"/admissions/{admission.id}/discharge", data=discharge_form(admission)),
    ]

    assert [r.status_code for r in attempts] == [403] * 6
    assert count(Patient) == 1
    assert count(BedMove) == 0
    admission = refresh(admission)
    assert admission.status == "admitted"
    assert admission.bed.label == "1"


@pytest.mark.parametrize("role", ["nurse", "charge_nurse", "physician"])
def test_clinical_staff_open_the_chart(client, auth, make_admission, audit_events, role):
    admission = make_admission(family_name="Delacroix")
    user = auth.login_as(role)

    response = client.get(f"/admissions/{admission.id}")

    assert response.status_code == 200
    assert "DELACROIX, Sam" in page_text(response)
    views = [e for e in audit_events("view") if e.object_type == "admission"]
    assert len(views) == 1
    assert views[0].user_id == user.id and views[0].patient_id == admission.patient_id


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_administrators_and_auditors_cannot_open_the_chart(client, auth, make_admission,
                                                           audit_events, role):
    admission = make_admission(family_name="Delacroix")
    auth.login_as(role)

    response = client.get(f"/admissions/{admission.id}")

    assert response.status_code == 403
    assert "DELACROIX" not in page_text(response)
    assert [e for e in audit_events("view") if e.object_type == "admission"] == []


def test_chart_of_a_missing_admission_is_404(client, auth):
    auth.login_as("nurse")

    assert client.get("/admissions/424242").status_code == 404


def test_logged_out_users_are_sent_to_login(client, make_admission):
    admission = make_admission()

    for path in ("/admit", f"/admissions/{admission.id}", f"/admissions/{admission.id}/discharge"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/login?next="), path


def test_substance_rows_belong_to_their_admission(make_admission):
    admission = make_admission(substances=(("ketamine", 20), ("benzodiazepines", 40)))

    rows = db.session.scalars(
        select(AdmissionSubstance).where(AdmissionSubstance.admission_id == admission.id)
    ).all()

    assert sorted((r.substance, r.is_primary) for r in rows) == [
        ("benzodiazepines", False), ("ketamine", True),
    ]
