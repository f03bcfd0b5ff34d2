"""Suicide-screen consequences, observation-level rules and hourly attestations (REFERENCE §5, §9)."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.scoring import safety
from clinic.scoring.due import OBSERVATION_LEVELS
from clinic.scoring.scale import ItemError

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
NO_THOUGHTS = {"wish_dead": None, "active_thoughts": None, "method": None, "intent": None,
               "plan": None}


# Item 8: the behaviour question is asked of everyone.

@pytest.mark.parametrize(("behaviour", "recent", "risk"), [
    (False, None, "none"),
    (True, False, "moderate"),
    (True, True, "high"),
])
def test_behaviour_grades_the_screen_without_a_yes_to_thoughts(behaviour, recent, risk):
    answers = {**NO_THOUGHTS, "behaviour": behaviour, "behaviour_last_3_months": recent}
    assert safety.screen_risk(False, answers) == risk


def test_behaviour_must_be_answered_even_after_a_no_to_thoughts():
    with pytest.raises(ItemError) as error:
        safety.screen_risk(False, dict(NO_THOUGHTS))
    assert error.value.key == "behaviour"


def test_thoughts_questions_cannot_be_yes_after_a_no_to_the_opening_question():
    with pytest.raises(ItemError) as error:
        safety.screen_risk(False, {**NO_THOUGHTS, "wish_dead": True, "behaviour": False})
    assert error.value.key == "wish_dead"


def test_after_a_yes_to_thoughts_the_full_screen_grades_as_before():
    answers = {"wish_dead": True, "active_thoughts": False, "behaviour": False}
    assert safety.screen_risk(True, answers) == "low"


# Item 7: any yes needs a review; moderate or high proposes a higher level.

@pytest.mark.parametrize(("thoughts", "answers", "needed"), [
    (False, {"behaviour": False}, False),
    (True, {"wish_dead": True, "active_thoughts": False, "behaviour": False}, True),
    (True, {"wish_dead": False, "active_thoughts": False, "behaviour": False}, True),
    (False, {"behaviour": True, "behaviour_last_3_months": False}, True),
    (None, None, False),
])
def test_any_yes_needs_a_review(thoughts, answers, needed):
    assert safety.needs_review(thoughts, answers) is needed


@pytest.mark.parametrize(("risk", "current", "proposed"), [
    ("none", "general", None),
    ("low", "general", None),
    ("moderate", "general", "eyesight"),
    ("moderate", "intermittent_15", "eyesight"),
    ("moderate", "arms_length", None),
    ("high", "eyesight", "arms_length"),
    ("high", "arms_length", None),
])
def test_moderate_or_high_proposes_a_more_intense_level(risk, current, proposed):
    assert safety.proposed_level(risk, current) == proposed


@given(st.sampled_from(["none", "low", "moderate", "high"]), st.sampled_from(list(OBSERVATION_LEVELS)))
def test_a_proposal_never_lowers_the_level(risk, current):
    proposed = safety.proposed_level(risk, current)
    assert proposed is None or safety.LEVEL_ORDER.index(proposed) > safety.LEVEL_ORDER.index(current)


# Item 10: who may lower a level set for risk.

@pytest.mark.parametrize(("roles", "allowed"), [
    (("nurse",), False), (("charge_nurse",), True), (("physician",), True),
])
def test_lowering_a_level_set_for_risk_needs_a_senior_role(roles, allowed):
    refusal = safety.level_change_refusal(current="arms_length", new="general", current_for_risk=True,
                                          roles=roles, reason="Settled, reviewed")
    assert (refusal is None) is allowed
    if not allowed:
        assert "only a physician or charge nurse can lower it" in refusal


@given(st.sampled_from(list(OBSERVATION_LEVELS)), st.sampled_from(list(OBSERVATION_LEVELS)), st.booleans())
def test_any_nurse_may_raise_the_level(current, new, for_risk):
    refusal = safety.level_change_refusal(current=current, new=new, current_for_risk=for_risk,
                                          roles=("nurse",), reason="why")
    if not safety.is_lowering(current, new):
        assert refusal is None


def test_a_change_without_a_reason_is_refused():
    assert "reason" in safety.level_change_refusal(current="general", new="eyesight",
                                                   current_for_risk=False, roles=("physician",),
                                                   reason="  ")


# Item 10: hourly attestations at continuous levels.

def test_hours_without_an_attestation_show_as_missing():
    hours = safety.attestation_hours("arms_length", T0, [T0 + timedelta(hours=1)],
                                     now=T0 + timedelta(hours=3, minutes=30))
    assert [h.starts_at for h in hours] == [T0 + timedelta(hours=n) for n in range(4)]
    now = T0 + timedelta(hours=3, minutes=30)
    assert [h.missing(now) for h in hours] == [True, False, True, False]


def test_an_hour_is_not_missing_within_the_grace():
    hours = safety.attestation_hours("eyesight", T0, [], now=T0 + timedelta(minutes=70))
    assert not hours[0].missing(T0 + timedelta(minutes=70))
    assert hours[0].missing(T0 + timedelta(minutes=76))


def test_levels_with_rounds_have_no_attestations():
    assert safety.attestation_hours("general", T0, [], now=T0 + timedelta(hours=5)) == []


@given(st.integers(0, 48 * 60), st.lists(st.integers(0, 47), unique=True))
def test_every_elapsed_hour_is_listed_once_and_attested_only_if_recorded(minutes, attested_hours):
    now = T0 + timedelta(minutes=minutes)
    attested = [T0 + timedelta(hours=h) for h in attested_hours]
    hours = safety.attestation_hours("eyesight", T0, attested, now=now)
    assert len(hours) == -(-minutes // 60)
    for hour in hours:
        assert hour.attested == (hour.starts_at in attested)
        assert not (hour.attested and hour.missing(now))


# Item 9: the screen is due at admission and then as the protocol requires.

def test_screen_due_within_the_admission_grace_then_daily():
    at, why = safety.screen_due_at(T0, [])
    assert at == T0 + timedelta(minutes=safety.ADMISSION_GRACE_MINUTES)
    assert "at admission" in why
    at, why = safety.screen_due_at(T0, [T0 + timedelta(minutes=30)])
    assert at == T0 + timedelta(minutes=30, hours=24)


# Item 15: hours since last use per withdrawal-relevant substance.

def test_hours_since_use_per_relevant_substance():
    now = T0 + timedelta(hours=80)
    substances = [("alcohol", True, T0), ("cannabis", False, now - timedelta(hours=2)),
                  ("benzodiazepines", False, T0 + timedelta(hours=20))]
    shown = safety.hours_since_use(substances, ["vitals", "ciwa_ar", "ciwa_b"], now)
    assert shown == [safety.SinceUse("alcohol", 80), safety.SinceUse("benzodiazepines", 60)]


def test_a_substance_without_an_active_scale_is_left_out_unless_primary():
    now = T0 + timedelta(hours=5)
    shown = safety.hours_since_use([("cannabis", True, T0), ("opioids", False, None)], ["vitals"], now)
    assert shown == [safety.SinceUse("cannabis", 5)]
    shown = safety.hours_since_use([("cannabis", True, T0), ("opioids", False, None)], ["cows"], now)
    assert shown == [safety.SinceUse("cannabis", 5), safety.SinceUse("opioids", None)]


# Thiamine: prompted for alcohol withdrawal.

@pytest.mark.parametrize(("substances", "protocols", "prompted"), [
    (["alcohol"], ["vitals"], True), (["ketamine"], ["ciwa_ar"], True), (["ketamine"], ["ketamine"], False),
])
def test_thiamine_is_prompted_for_alcohol_withdrawal(substances, protocols, prompted):
    assert safety.thiamine_prompted(substances, protocols) is prompted


# Item 11: a check with a concern, or "agitated", escalates.

@pytest.mark.parametrize(("activity", "concern", "escalates"), [
    ("resting", None, False), ("resting", "  ", False), ("agitated", None, True),
    ("sleeping", "Breathing shallow", True),
])
def test_a_concern_or_agitation_escalates(activity, concern, escalates):
    assert safety.check_escalates(activity, concern) is escalates
