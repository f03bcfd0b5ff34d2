"""The role matrix: every route × every role and anonymous → allowed, forbidden or sent to log in.

The table below is the specification; a route missing from it fails the first test, so a new
route cannot ship without a decision about who may use it.
"""

from __future__ import annotations

import pytest

from clinic import create_app
from tests.conftest import _config

ROLES = ("nurse", "charge_nurse", "physician", "admin", "auditor")
CLINICAL = {"nurse", "charge_nurse", "physician"}
EVERYONE = set(ROLES)
PUBLIC = {"auth.login", "auth.logout", "static"}

# endpoint -> roles allowed. Anything not listed is a test failure.
EXPECTED: dict[str, set[str]] = {
    "main.home": EVERYONE,
    "board.index": CLINICAL,
    "board.unit": CLINICAL,
    "admissions.admit": {"charge_nurse"},
    "admissions.transfer": {"charge_nurse"},
    "admissions.discharge": {"charge_nurse"},
    "admissions.reverse_discharge": {"charge_nurse"},
    "admissions.chart": CLINICAL,
    "admissions.retract": CLINICAL,
    "admissions.risk_flags": CLINICAL,
    "vitals.new": CLINICAL,
    "vitals.show": CLINICAL,
    "vitals.correct": CLINICAL,
    "vitals.spo2_scale": {"physician"},
    "assessments.new": CLINICAL,
    "assessments.show": CLINICAL,
    "assessments.correct": CLINICAL,
    "notes.new": CLINICAL,
    "notes.show": CLINICAL,
    "notes.correct": CLINICAL,
    "escalations.new": CLINICAL,
    "escalations.show": CLINICAL,
    "escalations.update": CLINICAL,
    "escalations.index": CLINICAL,
    "duelist.due": CLINICAL,
    "rounds.round": CLINICAL,
    "rounds.annotate_missed": CLINICAL,
    "rounds.history": CLINICAL,
    "rounds.observation_level": CLINICAL,
    "assignments.index": CLINICAL,
    "patients.search": CLINICAL,
    "patients.discharged": CLINICAL,
    "monitoring.overrides": CLINICAL,
    "prn.panel": CLINICAL,
    "prn.order_new": {"physician"},
    "prn.discontinue": {"physician"},
    "prn.give": CLINICAL,
    "prn.effect": CLINICAL,
    "prn.retract_effect": CLINICAL,
    "prn.unit_settings": {"admin"},
    "trends.timeline": CLINICAL,
    "trends.flowsheet": CLINICAL,
    "trends.days": CLINICAL,
    "trends.timeline_pdf": CLINICAL,
    "trends.review": {"physician"},
    "safety.review": {"physician", "charge_nurse"},
    "safety.thiamine": CLINICAL,
    "safety.attest": CLINICAL,
    "admin.users": {"admin"},
    "admin.new_user": {"admin"},
    "admin.user": {"admin"},
    "admin.edit_user": {"admin"},
    "admin.deactivate_user": {"admin"},
    "admin.reactivate_user": {"admin"},
    "admin.reset_password": {"admin"},
    "admin.end_session": {"admin"},
    "admin.units": {"admin"},
    "admin.new_unit": {"admin"},
    "admin.edit_unit": {"admin"},
    "admin.add_bed": {"admin"},
    "admin.close_bed": {"admin"},
    "admin.reopen_bed": {"admin"},
    "admin.due_rules": {"admin"},
    "admin.glucose_unit": {"admin"},
    "audit_report.search": {"admin", "auditor"},
    "handover.unit_handover": CLINICAL,
    "handover.unit_handover_pdf": CLINICAL,
    "handover.patient_handover": CLINICAL,
    "handover.patient_handover_pdf": CLINICAL,
    "handover.signed_pdf": CLINICAL,
    "handover.add_line": {"nurse", "charge_nurse"},
    "handover.withdraw_line": {"nurse", "charge_nurse"},
    "handover.sign_handover": {"nurse", "charge_nurse"},
    "handover.accept_handover": {"nurse", "charge_nurse"},
    "handover.settings": {"admin"},
}


def _rules():
    app = create_app(_config("sqlite://"))
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint not in PUBLIC]


RULES = _rules()


def test_every_route_is_in_the_matrix():
    assert sorted({r.endpoint for r in RULES} - set(EXPECTED)) == []
    assert sorted(set(EXPECTED) - {r.endpoint for r in RULES}) == []


def test_every_route_declares_its_roles_and_they_match(app):
    for rule in RULES:
        view = app.view_functions[rule.endpoint]
        assert set(getattr(view, "allowed_roles", ())) == EXPECTED[rule.endpoint], rule.endpoint


def _url(rule) -> str:
    values = {name: ("vitals" if name == "kind" else 999999) for name in rule.arguments}
    path = rule.rule
    for name, value in values.items():
        for converter in ("int:", ""):
            path = path.replace(f"<{converter}{name}>", str(value))
    return path


def _method(rule) -> str:
    return "GET" if "GET" in rule.methods else "POST"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.endpoint)
def test_anonymous_is_sent_to_log_in(client, rule):
    response = client.open(_url(rule), method=_method(rule))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_routes(client, auth, role):
    auth.login_as(role)
    wrong = []
    for rule in RULES:
        status = client.open(_url(rule), method=_method(rule)).status_code
        allowed = role in EXPECTED[rule.endpoint]
        if allowed and status in (401, 403):
            wrong.append((rule.endpoint, status, "should be allowed"))
        if not allowed and status != 403:
            wrong.append((rule.endpoint, status, "should be forbidden"))
    assert wrong == []
