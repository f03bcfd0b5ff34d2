"""Tests for the ketamine checklist (burden, flags, versioned definition) and suicide screen."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.scoring import ketamine
from clinic.scoring.scale import Item

KEYS = ("craving", "anxiety", "low_mood", "irritability", "agitation", "confusion",
        "hallucinations", "paranoia", "fatigue", "sleep_disturbance", "appetite_nausea", "tremor",
        "sweating_chills", "palpitations", "abdominal_pain", "bladder_pain", "urinary_frequency",
        "dysuria")
NONE = {key: 0 for key in KEYS}
NO = {"blood_in_urine": False, "unable_to_pass_urine": False}


def test_default_definition():
    definition = ketamine.DEFAULT_DEFINITION
    assert definition.version == "1"
    assert tuple(item.key for item in definition.items) == KEYS
    assert [key for key, _ in definition.yes_no_items] == ["blood_in_urine", "unable_to_pass_urine"]
    for item in definition.items:
        assert item.max_value == 4
        assert item.anchors[3] == "severe: asks for help"
    assert ketamine.BURDEN_LABEL == "symptom burden (unvalidated)"


def test_no_symptoms_no_flags():
    result = ketamine.score(NONE, NO)
    assert (result.burden, result.flags, result.flagged) == (0, (), False)
    assert result.version == "1"


@pytest.mark.parametrize(("changes", "yes_no", "flags"), [
    ({"anxiety": 3}, {}, ("Anxiety 3 (severe)",)),
    ({"craving": 4}, {}, ("Craving 4 (extreme)",)),
    ({"craving": 2, "low_mood": 2, "fatigue": 2}, {}, ()),
    ({"hallucinations": 2}, {}, ("Hallucinations 2",)),
    ({"paranoia": 2}, {}, ("Paranoia 2",)),
    ({"confusion": 2}, {}, ("Poor concentration or confusion 2",)),
    ({"hallucinations": 1, "paranoia": 1, "confusion": 1}, {}, ()),
    ({"hallucinations": 3}, {}, ("Hallucinations 3 (severe)",)),
    ({}, {"blood_in_urine": True}, ("Blood in urine",)),
    ({}, {"unable_to_pass_urine": True}, ("Unable to pass urine",)),
    ({"anxiety": 3, "paranoia": 2}, {"blood_in_urine": True},
     ("Anxiety 3 (severe)", "Paranoia 2", "Blood in urine")),
])
def test_flags(changes, yes_no, flags):
    result = ketamine.score({**NONE, **changes}, {**NO, **yes_no})
    assert result.flags == flags
    assert result.burden == sum(changes.values())


@pytest.mark.parametrize(("items", "yes_no", "named"), [
    ({**NONE, "craving": 5}, NO, "craving"),
    ({**NONE, "dysuria": 1.5}, NO, "dysuria"),
    ({key: 0 for key in KEYS[1:]}, NO, "craving"),
    ({**NONE, "k_cramps": 1}, NO, "k_cramps"),
    (NONE, {"blood_in_urine": False}, "unable_to_pass_urine"),
    (NONE, {**NO, "blood_in_urine": 1}, "blood_in_urine"),
    (NONE, {**NO, "urgency": True}, "urgency"),
])
def test_refusals_name_the_item(items, yes_no, named):
    with pytest.raises(ValueError, match=named):
        ketamine.score(items, yes_no)


def test_definition_round_trips_through_json():
    data = json.loads(json.dumps(ketamine.DEFAULT_DEFINITION.to_dict()))
    rebuilt = ketamine.KetamineDefinition.from_dict(data)
    assert rebuilt == ketamine.DEFAULT_DEFINITION
    assert rebuilt.to_dict() == ketamine.DEFAULT_DEFINITION.to_dict()
    assert rebuilt.items[0].anchors == ketamine.ANCHORS


def test_a_unit_definition_keeps_its_version_and_rules():
    definition = ketamine.KetamineDefinition(
        version="2025-06 unit A",
        items=(Item("craving", "Craving", 4, ketamine.ANCHORS),
               Item("k_cramps", "K-cramps", 4, ketamine.ANCHORS)),
        yes_no_items=(("blood_in_urine", "Blood in urine"),),
        flag_rules=ketamine.FlagRules(any_item_at_least=4, item_at_least={"k_cramps": 2},
                                      yes_flags=("blood_in_urine",)),
    )
    result = ketamine.score({"craving": 3, "k_cramps": 2}, {"blood_in_urine": False}, definition)
    assert result.version == "2025-06 unit A"
    assert result.flags == ("K-cramps 2",)
    assert ketamine.KetamineDefinition.from_dict(definition.to_dict()).to_dict() == (
        definition.to_dict()
    )


@pytest.mark.parametrize("change", [
    {"version": ""},
    {"items": []},
    {"flag_rules": {"any_item_at_least": 3, "item_at_least": {"nope": 2}, "yes_flags": []}},
    {"flag_rules": {"any_item_at_least": 3, "item_at_least": {}, "yes_flags": ["nope"]}},
    {"flag_rules": {"any_item_at_least": "3", "item_at_least": {}, "yes_flags": []}},
    {"yes_no_items": [{"key": "craving", "label": "Craving"}]},
    {"items": [{"key": "craving"}]},
    {"flag_rules": None},
])
def test_malformed_definitions_are_refused(change):
    data = {**ketamine.DEFAULT_DEFINITION.to_dict(), **change}
    with pytest.raises(ValueError):
        ketamine.KetamineDefinition.from_dict(data)


@settings(max_examples=150)
@given(st.fixed_dictionaries({key: st.integers(0, 4) for key in KEYS}),
       st.fixed_dictionaries({key: st.booleans() for key in NO}))
def test_burden_is_the_sum_and_flags_follow_the_rules(items, yes_no):
    result = ketamine.score(items, yes_no)
    assert result.burden == sum(items.values()) <= 72
    expected = (any(v >= 3 for v in items.values())
                or any(items[k] >= 2 for k in ("hallucinations", "paranoia", "confusion"))
                or any(yes_no.values()))
    assert result.flagged is expected


# Suicide-risk screen.
ALL_NO = {"wish_dead": False, "active_thoughts": False, "behaviour": False}


@pytest.mark.parametrize(("answers", "risk"), [
    ({}, "none"),
    ({"method": None, "intent": None, "plan": None, "behaviour_last_3_months": None}, "none"),
    ({"wish_dead": True}, "low"),
    ({"active_thoughts": True, "method": False, "intent": False, "plan": False}, "low"),
    ({"active_thoughts": True, "method": True, "intent": False, "plan": False}, "moderate"),
    ({"behaviour": True, "behaviour_last_3_months": False}, "moderate"),
    ({"active_thoughts": True, "method": True, "intent": True, "plan": False}, "high"),
    ({"active_thoughts": True, "method": False, "intent": False, "plan": True}, "high"),
    ({"behaviour": True, "behaviour_last_3_months": True}, "high"),
    ({"wish_dead": True, "behaviour": True, "behaviour_last_3_months": True}, "high"),
])
def test_suicide_risk_from_the_most_severe_yes(answers, risk):
    assert ketamine.suicide_risk({**ALL_NO, **answers}) == risk


@pytest.mark.parametrize(("answers", "named"), [
    ({"wish_dead": None}, "wish_dead"),
    ({"active_thoughts": "no"}, "active_thoughts"),
    ({"behaviour": 0}, "behaviour"),
    ({"active_thoughts": True, "intent": False, "plan": False}, "method"),
    ({"active_thoughts": True, "method": False, "plan": False}, "intent"),
    ({"active_thoughts": True, "method": False, "intent": False}, "plan"),
    ({"method": True}, "method"),
    ({"plan": 0}, "plan"),
    ({"behaviour": True}, "behaviour_last_3_months"),
    ({"behaviour_last_3_months": True}, "behaviour_last_3_months"),
    ({"self_harm": True}, "self_harm"),
])
def test_suicide_screen_refusals_name_the_question(answers, named):
    with pytest.raises(ValueError, match=named):
        ketamine.suicide_risk({**ALL_NO, **answers})


def test_missing_required_question():
    with pytest.raises(ValueError, match="behaviour"):
        ketamine.suicide_risk({"wish_dead": False, "active_thoughts": False})


def test_questions():
    assert [key for key, _ in ketamine.QUESTIONS] == [
        "wish_dead", "active_thoughts", "method", "intent", "plan", "behaviour",
        "behaviour_last_3_months"]
    assert all(label.endswith("?") for _, label in ketamine.QUESTIONS)


@pytest.mark.parametrize(("risk", "escalate"), [
    ("none", False), ("low", False), ("moderate", True), ("high", True),
])
def test_escalates(risk, escalate):
    assert ketamine.escalates(risk) is escalate


def test_escalates_refuses_unknown_level():
    with pytest.raises(ValueError):
        ketamine.escalates("severe")
