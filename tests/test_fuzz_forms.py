"""Every form the app has, fuzzed: no 5xx, nothing stored out of range, typed text echoed escaped.

The forms are found, not listed: every GET page of the URL map is opened (its ids filled from a
small ward, as a role that may open it), with the links on those pages that lead to a form, and
each form posting to a POST route is fuzzed as a role that route allows, with the CSRF token the
page gave. A new form is covered without editing this test; a POST route whose form is never
found fails it, unless it is listed in NOT_FOUND_ON_A_PAGE with the reason.
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, select, text

from clinic.admin.services import MAX_LATE_ENTRY_MINUTES, MIN_LATE_ENTRY_MINUTES
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import ProtocolOverride, Unit, VitalSigns
from clinic.monitoring.services import OVERRIDE_MAX_MINUTES, OVERRIDE_MIN_MINUTES
from clinic.prn.services import record_effect
from clinic.scoring import limits
from tests.conftest import PASSWORD
from tests.prn_helpers import give, make_order

#: POST routes whose form only shows in a state the small ward is not in, or that are not forms.
NOT_FOUND_ON_A_PAGE = {
    "admin.reactivate_user": "shown only for a deactivated account",
    "admin.reopen_bed": "shown only for a closed bed",
    "admin.end_session": "shown only while the account has a live session of its own",
    "admissions.reverse_discharge": "shown only for an admission discharged this shift (tests/test_ward.py)",
}
#: Examples per form: a few keep the suite fast; set CLINIC_FUZZ_EXAMPLES for a deeper run.
EXAMPLES = int(os.environ.get("CLINIC_FUZZ_EXAMPLES", "5"))
#: Values drawn per example; a form's fields share them round-robin.
DRAWS = 24
#: Roles a page is opened as: nurse's pages are all charge nurse's too.
CRAWL_ROLES = ("charge_nurse", "physician", "admin")
#: Typed into text fields to see whether the page echoes it unescaped.
MARKUP = '<b data-fuzz="1">'
HOSTILE = [
    "", " ", "0", "-1", "1e1200000", "1e100000", "NaN", "-Infinity", "9" * 30, "١٢٠", "1_000",
    "\x00", "a\x00b", "\x1b[31m", "x" * 5000, "37.5", "2026-13-45T25:61", "../../etc", MARKUP,
    "' OR 1=1 --", "%0D%0ASet-Cookie: x", "http://other-host/x", "//other-host", "/\\other-host",
]
fuzz_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.text(max_size=20).map(lambda t: t + MARKUP),
)

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture
def config_overrides():
    # The forms are fuzzed as a browser sends them: with CSRF on, the token taken from the page.
    return {"WTF_CSRF_ENABLED": True, "PROPAGATE_EXCEPTIONS": False}


# --- reading pages -------------------------------------------------------------------------------

class _Page(HTMLParser):
    """Collect a page's POST forms (their fields and buttons) and its links."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form = {"action": a.get("action") or "", "fields": {}, "buttons": []}
            self.forms.append(self._form)
        if self._form is None or not a.get("name"):
            return
        fields, name = self._form["fields"], a["name"]
        kind = (a.get("type") or ("text" if tag == "input" else tag)).lower()
        if tag == "input" and kind in ("radio", "checkbox"):
            field = fields.setdefault(name, {"kind": kind, "choices": [], "value": None})
            field["choices"].append(a.get("value", "y"))
            if "checked" in a:
                field["value"] = a.get("value", "y")
        elif tag == "input" and kind == "submit":
            self._form["buttons"].append((name, a.get("value", "")))
        elif tag == "input":
            fields[name] = {"kind": kind, "value": a.get("value", "")}
        elif tag == "button":
            self._form["buttons"].append((name, a.get("value", "")))
        elif tag == "select":
            fields[name] = {"kind": "select", "choices": [], "value": None}
            self._select = name
        elif tag == "textarea":
            fields[name] = {"kind": "textarea", "value": ""}
            self._textarea = name
        if tag == "option" and self._select:
            field = self._form["fields"][self._select]
            field["choices"].append(a.get("value", ""))
            if "selected" in a or field["value"] is None:
                field["value"] = a.get("value", "")

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea]["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


# --- the ward the forms are opened on -------------------------------------------------------------

@pytest.fixture
def ward(app, make_unit, make_user, make_admission):
    """Return the URL arguments of a small ward: a unit, an admission with entries, a user."""
    from clinic.assessments.services import record_assessment
    from clinic.escalations.services import raise_by_hand
    from clinic.handover.services import assemble, choose_shift
    from clinic.handover.signing import add_item, sign
    from clinic.notes.services import record_note
    from clinic.scoring import ciwa_ar
    from clinic.vitals.services import check_values, record_vitals

    unit = make_unit(beds=4)
    nurse = make_user("nurse")
    admission = make_admission(unit=unit, protocols=("vitals", "ciwa_ar", "ketamine"),
                               substances=(("ketamine", 20), ("alcohol", 30)))
    at = utc_now() - timedelta(minutes=30)
    vitals = record_vitals(
        by=nurse, admission=admission, observed_at=at,
        checked=check_values({"heart_rate": "80", "respiratory_rate": "16"}, confirmed=False),
        on_oxygen=False, oxygen_device=None, oxygen_flow=None, consciousness="A", confirmed=False,
        idempotency_key=uuid.uuid4().hex,
    )
    note = record_note(by=nurse, admission=admission, observed_at=at, text="Settled",
                       idempotency_key=uuid.uuid4().hex)
    assessment = record_assessment(
        by=nurse, admission=admission, scale="ciwa_ar", observed_at=at,
        items=dict.fromkeys(ciwa_ar.KEYS, 1), yes_no={}, heart_rate=None, self_harm_thoughts=None,
        suicide_answers=None, unable_reason=None, idempotency_key=uuid.uuid4().hex,
    )
    escalation = raise_by_hand(by=nurse, admission=admission, level="urgent", reason="Agitated",
                               idempotency_key=uuid.uuid4().hex)
    target = make_user("nurse", display_name="Target Person")
    db.session.commit()
    # A PRN order with a dose whose effect is due: the give, effect and discontinue forms show.
    order = make_order(admission, make_user("physician"))
    dose = give(admission, nurse, order, minutes_ago=20)
    # A second medicine's dose with its effect recorded: the effect's entered-in-error form shows.
    other = make_order(admission, make_user("physician"), drug="Ondansetron", dose_unit="mg")
    effect = record_effect(by=nurse, dose=give(admission, nurse, other, minutes_ago=90),
                           assessed_at=utc_now(), effect="better", side_effects=[], note=None,
                           idempotency_key=uuid.uuid4().hex)
    db.session.commit()
    # A signed handover with a line on it: the accept and withdraw forms show.
    now = utc_now()
    handover = assemble(unit, now=now, shift=choose_shift(unit, now))
    add_item(by=nurse, handover=handover, admission_id=admission.id, kind="todo", text="Repeat CIWA-Ar",
             owner=None, due_at=None, level=None)
    sign(by=nurse, handover=handover, now=now, idempotency_key=uuid.uuid4().hex)
    # A patient within eyesight for the last two hours: an hour to attest.
    watched = make_admission(unit=unit, protocols=("vitals",), substances=(("ketamine", 20),))
    watched.observation_level, watched.observation_level_since = "eyesight", now - timedelta(hours=2)
    db.session.commit()
    return {
        "unit_id": unit.id, "admission_id": admission.id, "vitals_id": vitals.id,
        "note_id": note.id, "assessment_id": assessment.id, "escalation_id": escalation.id,
        "user_id": target.id, "bed_id": unit.beds[-1].id, "kind": "vitals", "entry_id": vitals.id,
        "session_id": 1, "order_id": order.id, "dose_id": dose.id, "effect_id": effect.id,
    }


def _logged_in(app, make_user, role: str | None):
    client = app.test_client()
    if role is not None:
        user = make_user(role)
        page = client.get("/login").get_data(as_text=True)
        token = _read(page).forms[0]["fields"]["csrf_token"]["value"]
        response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                               "csrf_token": token})
        assert response.status_code == 302
    return client


def _find_forms(app, ward, clients) -> dict[str, tuple[str, str, int]]:
    """Return, per POST endpoint, a page showing its form: (role, page URL, form number)."""
    adapter = app.url_map.bind("localhost")
    pages: list[tuple[str | None, str]] = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        try:
            url = adapter.build(rule.endpoint, {a: ward[a] for a in rule.arguments})
        except KeyError:
            continue
        allowed = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
        roles = [None] if allowed is None else [r for r in CRAWL_ROLES if r in allowed]
        pages += [(role, url) for role in roles]
    found: dict[str, tuple[str, str, int]] = {}
    seen: set[tuple[str | None, str]] = set()
    while pages:
        role, url = pages.pop(0)
        if (role, url) in seen:
            continue
        seen.add((role, url))
        response = clients[role].get(url)
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        page = _read(response.get_data(as_text=True))
        for number, form in enumerate(page.forms):
            action = urlsplit(urljoin(url, form["action"]))
            try:
                endpoint, _ = adapter.match(action.path, method="POST")
            except Exception:
                continue
            allowed = getattr(app.view_functions[endpoint], "allowed_roles", None)
            if endpoint not in found and (allowed is None or role in allowed):
                found[endpoint] = (role, url, number)
        # A form page reached only by a link with a query (an assessment's scale, say).
        for link in page.links:
            target = urlsplit(urljoin(url, link))
            if not target.query or target.netloc not in ("", "localhost"):
                continue
            try:
                adapter.match(target.path, method="POST")
            except Exception:
                continue
            pages.append((role, f"{target.path}?{target.query}"))
    return found


# --- what must hold after any input ---------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_VITALS = {"heart_rate": 1, "systolic_bp": 1, "diastolic_bp": 1, "respiratory_rate": 1, "spo2": 1,
           "pain": 1, "temperature_tenths": 10, "glucose_tenths": 10}


def _check_stored() -> None:
    """Assert no stored text is longer than its column or holds control characters, and no
    stored number is outside what its form allows."""
    db.session.rollback()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, String) or table.name == "audit_event":
                continue
            values = db.session.execute(select(column).where(column.is_not(None))).scalars()
            for value in values:
                assert not _CONTROL.search(value), (table.name, column.name, value[:40])
                if column.type.length:
                    assert len(value) <= column.type.length, (table.name, column.name)
    for name, scale in _VITALS.items():
        parameter = name.removesuffix("_tenths")
        possible = limits.LIMITS[parameter].possible
        for value in db.session.scalars(select(getattr(VitalSigns, name)).where(
                getattr(VitalSigns, name).is_not(None))):
            assert value / scale in possible, (name, value)
    for minutes in db.session.scalars(select(Unit.late_entry_minutes)):
        assert MIN_LATE_ENTRY_MINUTES <= minutes <= MAX_LATE_ENTRY_MINUTES
    for minutes in db.session.scalars(select(ProtocolOverride.interval_minutes)):
        assert minutes is None or OVERRIDE_MIN_MINUTES <= minutes <= OVERRIDE_MAX_MINUTES
    db.session.execute(text("SELECT 1"))  # the database still answers
    db.session.rollback()


# --- the test -------------------------------------------------------------------------------------

def test_every_form_survives_fuzzing(app, ward, make_user):
    clients = {role: _logged_in(app, make_user, role) for role in (None, *CRAWL_ROLES)}
    found = _find_forms(app, ward, clients)

    post_endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    missing = post_endpoints - set(found) - set(NOT_FOUND_ON_A_PAGE)
    assert not missing, f"no page shows a form for {sorted(missing)}"

    # Forms that end things (a discharge, a deactivation) go last, so the rest find a live ward.
    ending = ("discharge", "deactivate", "retract", "transfer", "close", "password")
    for endpoint in sorted(found, key=lambda e: (any(w in e for w in ending), e)):
        role, url, number = found[endpoint]
        _fuzz_one_form(app, make_user, role, url, number, endpoint)
        _check_stored()


def _fuzz_one_form(app, make_user, role, url, number, endpoint):
    client = _logged_in(app, make_user, role)

    # Generation only: the app's state moves on between examples (a saved entry, a discharge),
    # so replaying or shrinking an example would not see the same pages.
    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    # One fixed shape of draws whatever the page holds: Hypothesis refuses draws that depend on
    # state outside it. Field i takes texts[i], picks[i] and keep[i] (wrapping round).
    @given(texts=st.lists(fuzz_text, min_size=DRAWS, max_size=DRAWS),
           picks=st.lists(st.integers(0, 10_000), min_size=DRAWS, max_size=DRAWS),
           keep=st.lists(st.integers(0, 3), min_size=DRAWS, max_size=DRAWS))
    def fuzz(texts, picks, keep):
        response = client.get(url)
        if response.status_code != 200:  # e.g. the admission was discharged by an earlier form
            assert response.status_code < 500
            return
        forms = _read(response.get_data(as_text=True)).forms
        if number >= len(forms):
            return
        form = forms[number]
        posted = {}
        names = [n for n in form["fields"] if not n.endswith("csrf_token")]
        # One field takes the hostile value, so the rest, as the page filled them, let it get as
        # far as saving; now and then (chaos) every field is drawn.
        target = names[picks[0] % len(names)] if names else None
        chaos = keep[0] == 0
        for i, (name, field) in enumerate(form["fields"].items()):
            i %= DRAWS
            kept = field["value"] or ""
            hostile = name == target or (chaos and keep[i] == 0)
            if name.endswith("csrf_token") or not hostile:
                if field["kind"] != "checkbox" or field["value"] is not None:
                    posted[name] = kept
            elif field["kind"] in ("radio", "checkbox", "select"):
                choices = [*field["choices"], "", "zz", "1e100000", "\x00"]
                posted[name] = choices[picks[i] % len(choices)]
            else:
                posted[name] = texts[i]
        if form["buttons"]:
            button, value = form["buttons"][picks[-1] % len(form["buttons"])]
            posted[button] = value
        action = urljoin(url, form["action"]) if form["action"] else url
        answer = client.post(action, data=posted)
        body = answer.get_data(as_text=True)
        assert answer.status_code < 500, (endpoint, answer.status_code, body[:500])
        assert "<b data-fuzz" not in body, endpoint
        assert "other-host" not in answer.headers.get("Location", ""), endpoint

    fuzz()
