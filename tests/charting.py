"""Chart through the app as a nurse would, for tests outside the charting features."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from clinic.extensions import db
from clinic.models import VitalSigns
from clinic.routing import local_now

VITALS = {
    "respiratory_rate": "16", "spo2": "97", "air_or_oxygen": "air", "systolic_bp": "125",
    "diastolic_bp": "80", "heart_rate": "75", "consciousness": "A", "temperature": "37.0",
}


def chart_vitals(client, admission, **values) -> VitalSigns:
    """Post a full vitals set through the form and return the stored row."""
    key = uuid.uuid4().hex
    data = {**VITALS, **values, "idempotency_key": key,
            "observed_at": local_now(admission.unit).strftime("%Y-%m-%dT%H:%M")}
    response = client.post(f"/admissions/{admission.id}/vitals/new", data=data)
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    db.session.expire_all()
    return db.session.scalar(select(VitalSigns).where(VitalSigns.idempotency_key == key))
