"""Issue 12 item 13: messages name their field, severities share one colour, no internal references."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from flask_wtf import FlaskForm
from wtforms.validators import DataRequired, InputRequired

import clinic
from clinic.db import utc_now

ROOT = Path(clinic.__file__).parent


def _form_classes() -> list[type[FlaskForm]]:
    for info in pkgutil.walk_packages([str(ROOT)], "clinic."):
        if info.name.endswith(".forms") or info.name in {"clinic.forms", "clinic.admissions.risk"}:
            importlib.import_module(info.name)
    seen, todo = [], list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("clinic"):
            seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


def test_every_required_field_says_which_field_it_is(app):
    generic = []
    with app.test_request_context():
        for cls in _form_classes():
            for name, unbound in vars(cls).items():
                validators = getattr(unbound, "kwargs", {}).get("validators") or []
                for validator in validators:
                    if isinstance(validator, DataRequired | InputRequired) and not validator.message:
                        generic.append(f"{cls.__module__}.{cls.__name__}.{name}")
    assert generic == []


def test_no_page_or_message_cites_an_internal_document():
    cited = []
    for path in [*(ROOT.parent / "templates").rglob("*.html"), *(ROOT / "static").glob("*.js")]:
        if re.search(r"REFERENCE|DESIGN\.md|§", path.read_text()):
            cited.append(path.name)
    assert cited == []


def test_urgent_is_amber_and_emergency_red_on_chart_and_escalation_page(client, auth, make_admission):
    from clinic.escalations.services import raise_by_hand
    from clinic.extensions import db
    admission = make_admission()
    nurse = auth.login_as("nurse")
    urgent = raise_by_hand(by=nurse, admission=admission, level="urgent", reason="Pulse 130",
                           idempotency_key="u1")
    emergency = raise_by_hand(by=nurse, admission=admission, level="emergency", reason="Seizure",
                              idempotency_key="e1")
    db.session.commit()

    chart = client.get(f"/admissions/{admission.id}?view=stay").get_data(as_text=True)
    shown = client.get(f"/admissions/{admission.id}/escalations/{urgent.id}").get_data(as_text=True)
    shown_red = client.get(f"/admissions/{admission.id}/escalations/{emergency.id}").get_data(as_text=True)

    assert re.search(r'class="badge badge-warn">Urgent</span> Pulse 130', chart)
    assert re.search(r'class="badge badge-allergy">Emergency</span> Seizure', chart)
    assert re.search(r'class="badge badge-warn">Urgent · open', chart)
    assert re.search(r'class="badge badge-warn">Urgent · open', shown)
    # Overdue is white on red on the chart as on the board and due list.
    assert 'class="badge due-badge due-overdue">⚠ Overdue' in chart
    assert 'badge-allergy">⚠ Overdue' not in chart
    assert re.search(r'class="badge badge-allergy">Emergency · open', shown_red)


# -- 16. date fields say the record's format and zone without JavaScript -------------------------

def test_date_fields_carry_a_server_rendered_format_hint(client, auth, make_unit, make_admission):
    unit = make_unit()
    auth.login_as("charge_nurse")
    zone = utc_now().astimezone(unit.zone).strftime("%Z")
    hint = f"Day month year, 24-hour clock, unit time ({zone})."

    admit = client.get(f"/admit?unit={unit.id}").get_data(as_text=True)
    assert hint in admit and "Day month year." in admit   # admitted at; date of birth
    admission = make_admission(unit=unit)
    vitals = client.get(f"/admissions/{admission.id}/vitals/new").get_data(as_text=True)
    assert hint in vitals
    rounds = client.get(f"/units/{unit.id}/rounds").get_data(as_text=True)
    assert hint in rounds
