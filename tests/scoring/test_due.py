"""Tests for due times: protocol rules, overrides, PRN, safety rounds, back-filling and the definition."""

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.scoring import due
from clinic.scoring.due import (
    DEFAULT_DEFINITION,
    DUE,
    OBSERVATION_LEVELS,
    OVERDUE,
    CheckWindow,
    DueDefinition,
    DueItem,
    Override,
    ScorePoint,
    check_schedule,
    late,
    most_overdue_first,
    next_due,
    possible_backfill,
    prn_effect_due,
)

LONDON = ZoneInfo("Europe/London")
PARIS_WINTER = timezone(timedelta(hours=1))
ADMITTED = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def at(hour, minute=0, day=10, month=3):
    return utc(2026, month, day, hour, minute)


def scored(when, total, band=None, flagged=False):
    return ScorePoint(at=when, total=total, band=band, flagged=flagged)


def unable(when):
    return ScorePoint(at=when, total=None, band=None, outcome="unable")


def ciwa(*totals):
    """Return CIWA-Ar results an hour apart from 08:00, oldest first; None stands for unable."""
    start = at(8)
    return [unable(start + timedelta(hours=n)) if total is None else scored(start + timedelta(hours=n), total)
            for n, total in enumerate(totals)]


def due_for(protocol, history, **kwargs):
    return next_due(protocol, history, admitted_at=kwargs.pop("admitted_at", ADMITTED), **kwargs)


# The definition and its defaults.


def test_default_definition_is_reference_defaults():
    d = DEFAULT_DEFINITION
    assert d.version == "1"
    assert dict(d.vitals_minutes_by_band) == {
        "zero": 720, "low": 240, "low-medium": 60, "medium": 60, "high": 15}
    assert (d.vitals_initial_minutes, d.unable_minutes, d.on_time_factor) == (30, 60, 1.5)
    assert (d.ciwa_ar_frequent_threshold, d.ciwa_ar_frequent_minutes, d.ciwa_ar_routine_minutes,
            d.ciwa_ar_settled_minutes, d.ciwa_ar_settled_after) == (8, 60, 240, 480, 3)
    assert (d.cows_minutes, d.cows_after_prn_minutes, d.ciwa_b_minutes) == (240, 60, 240)
    assert (d.ketamine_minutes, d.ketamine_flagged_minutes) == (240, 60)
    assert dict(d.prn_effect_minutes) == {
        "oral": 60, "sublingual": 30, "buccal": 30, "intramuscular": 30, "intravenous": 15}
    assert dict(d.observation_minutes) == {
        "general": 60, "intermittent_30": 30, "intermittent_15": 15, "eyesight": 0, "arms_length": 0}


def test_observation_levels_in_order_with_labels():
    assert list(OBSERVATION_LEVELS.items()) == [
        ("general", "General (every 60 min)"),
        ("intermittent_30", "Intermittent (every 30 min)"),
        ("intermittent_15", "Intermittent (every 15 min)"),
        ("eyesight", "Within eyesight (continuous)"),
        ("arms_length", "Within arm's length (one-to-one)"),
    ]
    assert set(OBSERVATION_LEVELS) == set(DEFAULT_DEFINITION.observation_minutes)


def test_definition_is_frozen_and_its_tables_read_only():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_DEFINITION.cows_minutes = 30
    with pytest.raises(TypeError):
        DEFAULT_DEFINITION.vitals_minutes_by_band["high"] = 60
    table = {"zero": 720, "low": 240, "low-medium": 60, "medium": 60, "high": 15}
    definition = DueDefinition("2", vitals_minutes_by_band=table)
    table["high"] = 600  # the caller's dict was copied
    assert definition.vitals_minutes_by_band["high"] == 15


def test_round_trip_through_json():
    custom = DueDefinition(
        "unit-7 v3",
        vitals_minutes_by_band={"zero": 480, "low": 180, "low-medium": 60, "medium": 30, "high": 15},
        ciwa_ar_frequent_threshold=10,
        ciwa_ar_settled_after=2,
        prn_effect_minutes={"oral": 45, "rectal": 60},
        observation_minutes={"general": 60, "intermittent_30": 30, "intermittent_15": 15,
                             "eyesight": 0, "arms_length": 0},
        on_time_factor=2,
    )
    for definition in (DEFAULT_DEFINITION, custom):
        data = json.loads(json.dumps(definition.to_dict()))
        assert DueDefinition.from_dict(data) == definition
        assert DueDefinition.from_dict(data).to_dict() == definition.to_dict()
    assert type(custom.to_dict()["prn_effect_minutes"]) is dict


def test_to_dict_returns_a_copy():
    data = DEFAULT_DEFINITION.to_dict()
    data["observation_minutes"]["general"] = 5
    assert DEFAULT_DEFINITION.observation_minutes["general"] == 60


def test_from_dict_fills_settings_left_out_with_defaults():
    assert DueDefinition.from_dict({"version": "2", "cows_minutes": 180}) == DueDefinition(
        "2", cows_minutes=180)


def _with(**changes):
    return {**DEFAULT_DEFINITION.to_dict(), **changes}


def _band(**changes):
    return _with(vitals_minutes_by_band={**DEFAULT_DEFINITION.vitals_minutes_by_band, **changes})


@pytest.mark.parametrize(("data", "message"), [
    ([("version", "1")], "must be a set of named settings"),
    (_with(cows_interval=60), "Unknown setting: cows_interval"),
    ({"cows_minutes": 60}, "need a version"),
    (_with(version="  "), "need a version"),
    (_with(version=2), "need a version"),
    (_with(cows_minutes=0), "COWS interval must be a whole number of minutes from 1 to 10080, not 0"),
    (_with(cows_minutes=-60), "COWS interval must be"),
    (_with(cows_minutes="60"), "not '60'"),
    (_with(cows_minutes=60.5), "not 60.5"),
    (_with(cows_minutes=True), "not True"),
    (_with(cows_minutes=None), "not None"),
    (_with(unable_minutes=20_000), "from 1 to 10080"),
    (_with(vitals_initial_minutes=-1), "Grace period after admission for the first observations "
                                       "and scales must be a whole number of minutes from 0"),
    (_with(ciwa_ar_frequent_threshold=0), "CIWA-Ar score for hourly reassessment must be a whole number "
                                          "from 1 to 67"),
    (_with(ciwa_ar_frequent_threshold=68), "from 1 to 67"),
    (_with(ciwa_ar_settled_after=0), "before stepping down must be"),
    (_with(on_time_factor=0.9), "On-time factor for safety checks must be a number of at least 1"),
    (_with(on_time_factor="1.5"), "at least 1, not '1.5'"),
    (_with(on_time_factor=float("nan")), "at least 1"),
    (_with(vitals_minutes_by_band=[720, 240]), "must be a table of names and minutes"),
    (_band(critical=5), "unknown critical"),
    (_with(vitals_minutes_by_band={"zero": 720, "low": 240, "medium": 60, "high": 15}),
     "missing low-medium"),
    (_band(medium=0), "“medium”, must be a whole number of minutes from 1"),
    (_band(high=90), "band “high” (90 min) cannot be longer than for band “medium” (60 min)"),
    (_band(low=800), "band “low” (800 min) cannot be longer than for band “zero” (720 min)"),
    (_with(observation_minutes={"general": 60, "intermittent_30": 30, "intermittent_15": 15,
                                "eyesight": 0}), "missing arms_length"),
    (_with(observation_minutes={"general": 60, "intermittent_30": 30, "intermittent_15": 15,
                                "eyesight": 0, "arms_length": 0, "constant": 0}), "unknown constant"),
    (_with(observation_minutes={"general": -1, "intermittent_30": 30, "intermittent_15": 15,
                                "eyesight": 0, "arms_length": 0}), "from 0 to 10080"),
    (_with(prn_effect_minutes={}), "PRN effect reassessment by route needs at least one entry"),
    (_with(prn_effect_minutes={"": 30}), "is not a name"),
    (_with(prn_effect_minutes={"oral": 0}), "“oral”, must be a whole number of minutes from 1"),
    (_with(ciwa_ar_frequent_minutes=300), "CIWA-Ar interval at or above the threshold (300 min) cannot "
                                          "be longer than CIWA-Ar interval below the threshold (240 min)."),
    (_with(ciwa_ar_settled_minutes=120),
     "(240 min) cannot be longer than CIWA-Ar interval once settled (120 min)."),
    (_with(ketamine_flagged_minutes=300), "when flagged (300 min) cannot be longer"),
])
def test_from_dict_refuses_bad_rules_with_a_clear_message(data, message):
    with pytest.raises(ValueError) as error:
        DueDefinition.from_dict(data)
    assert message in str(error.value)


def test_continuous_observation_may_be_configured_for_any_level():
    levels = {"general": 60, "intermittent_30": 30, "intermittent_15": 0, "eyesight": 0, "arms_length": 0}
    assert DueDefinition("2", observation_minutes=levels).observation_minutes["intermittent_15"] == 0


# next_due: first assessment and the rule per protocol.


FIRST = "first assessment, within 30 min of admission"


@pytest.mark.parametrize("protocol", due.PROTOCOLS)
def test_no_history_is_due_within_the_admission_grace_period(protocol):
    item = due_for(protocol, [])
    assert item == DueItem(protocol, at(6, 30), 30, FIRST, False)


@pytest.mark.parametrize(("minutes_since", "status"), [
    (0, DUE), (1, DUE), (30, DUE), (31, OVERDUE),
])
def test_a_new_admission_is_due_not_overdue_during_the_grace_period(minutes_since, status):
    item = due_for("vitals", [])
    assert item.status(ADMITTED + timedelta(minutes=minutes_since)) == status


@pytest.mark.parametrize("protocol", due.PROTOCOLS)
def test_a_unit_without_grace_has_the_first_assessment_due_at_admission(protocol):
    item = due_for(protocol, [], definition=DueDefinition("2", vitals_initial_minutes=0))
    assert item == DueItem(protocol, ADMITTED, 0, "first assessment", False)


def test_first_assessment_delay_is_configurable_and_elapsed():
    definition = DueDefinition("2", vitals_initial_minutes=30)
    item = due_for("vitals", [], admitted_at=datetime(2026, 10, 25, 0, 45, tzinfo=LONDON),
                   definition=definition)
    # 00:45 BST is 23:45 UTC; thirty minutes later is 00:15 UTC.
    assert item.due_at == utc(2026, 10, 25, 0, 15)


@pytest.mark.parametrize(("total", "band", "minutes", "reason"), [
    (0, "low", 720, "NEWS2 0 (low): every 12 h"),
    (1, "low", 240, "NEWS2 1 (low): every 4 h"),
    (4, "low", 240, "NEWS2 4 (low): every 4 h"),
    (3, "low-medium", 60, "NEWS2 3 (low-medium): hourly"),
    (5, "medium", 60, "NEWS2 5 (medium): hourly"),
    (6, "medium", 60, "NEWS2 6 (medium): hourly"),
    (7, "high", 15, "NEWS2 7 (high): every 15 min"),
    (20, "high", 15, "NEWS2 20 (high): every 15 min"),
])
def test_vitals_interval_by_band(total, band, minutes, reason):
    item = due_for("vitals", [scored(at(9), total, band)])
    assert item == DueItem("vitals", at(9) + timedelta(minutes=minutes), minutes, reason, False)


def test_vitals_the_newest_set_decides_whatever_the_order_given():
    history = [scored(at(10), 7, "high"), scored(at(8), 0, "low"), scored(at(9), 2, "low")]
    assert due_for("vitals", history).due_at == at(10, 15)


def test_incomplete_set_does_not_reset_the_clock():
    history = [scored(at(8), 2, "low"), scored(at(10), None, None)]
    item = due_for("vitals", history)
    assert item.due_at == at(12)
    assert item.reason == "NEWS2 2 (low): every 4 h; newest set incomplete, not counted"


def test_older_incomplete_set_is_not_mentioned():
    item = due_for("vitals", [scored(at(8), None, None), scored(at(9), 5, "medium")])
    assert (item.due_at, item.reason) == (at(10), "NEWS2 5 (medium): hourly")


def test_only_incomplete_sets_leave_the_first_assessment_due():
    item = due_for("vitals", [scored(at(7), None, None)])
    assert item.due_at == at(6, 30)
    assert item.reason == FIRST + "; newest set incomplete, not counted"


def test_unknown_news2_band_is_refused():
    with pytest.raises(ValueError, match="NEWS2 band 'amber'"):
        due_for("vitals", [scored(at(9), 3, "amber")])


def ciwa4(*totals):
    """Return CIWA-Ar results four hours apart from 08:00 (the routine interval), oldest first."""
    start = at(8)
    return [unable(start + timedelta(hours=4 * n)) if total is None
            else scored(start + timedelta(hours=4 * n), total) for n, total in enumerate(totals)]


SETTLED = "three in a row below 8, not rising, every 4 h: every 8 h"


@pytest.mark.parametrize(("totals", "minutes", "reason"), [
    ((3,), 240, "CIWA-Ar 3 (below 8): every 4 h"),
    ((7,), 240, "CIWA-Ar 7 (below 8): every 4 h"),
    ((8,), 60, "CIWA-Ar 8 (8 or more): hourly"),
    ((25,), 60, "CIWA-Ar 25 (8 or more): hourly"),
    ((3, 9), 60, "CIWA-Ar 9 (8 or more): hourly"),  # step up
    ((2, 2, 9), 60, "CIWA-Ar 9 (8 or more): hourly"),
    ((12, 5, 4), 240, "CIWA-Ar 4 (below 8): every 4 h"),  # two low: not yet
    ((5, 4, 3), 480, f"CIWA-Ar 3, {SETTLED}"),  # step down
    ((7, 7, 7), 480, f"CIWA-Ar 7, {SETTLED}"),
    ((2, 5, 4, 3), 480, f"CIWA-Ar 3, {SETTLED}"),
    ((2, 5, 7), 240, "CIWA-Ar 7 (below 8): every 4 h"),  # rising: issue 11 item 3
    ((3, 2, 3), 240, "CIWA-Ar 3 (below 8): every 4 h"),  # any rise returns to 4-hourly
    ((5, 4, 8, 3), 240, "CIWA-Ar 3 (below 8): every 4 h"),  # a high one resets the run
    ((5, 4, 8, 3, 2), 240, "CIWA-Ar 2 (below 8): every 4 h"),
    ((5, 4, 8, 3, 2, 1), 480, f"CIWA-Ar 1, {SETTLED}"),
    ((5, None, 4, 3), 480, f"CIWA-Ar 3, {SETTLED}"),  # unable is skipped
    ((5, 4, 3, None), 60, "CIWA-Ar unable to assess: reassess within 1 h"),
])
def test_ciwa_ar_steps_up_and_down(totals, minutes, reason):
    history = ciwa4(*totals)
    item = due_for("ciwa_ar", list(reversed(history)))
    newest = history[-1].at
    assert item == DueItem("ciwa_ar", newest + timedelta(minutes=minutes), minutes, reason, False)


def test_ciwa_ar_hourly_scores_never_step_down():
    """Scores taken an hour apart were not taken at the 4-hourly interval (issue 11 item 3)."""
    item = due_for("ciwa_ar", ciwa(5, 4, 3))
    assert item.interval_minutes == 240


def test_ciwa_ar_run_must_begin_on_the_routine_interval():
    """The first of the run taken an hour after a score of 8 or more was an hourly score."""
    history = [scored(at(8), 10), scored(at(9), 7), scored(at(13), 6), scored(at(17), 5)]
    assert due_for("ciwa_ar", history).interval_minutes == 240
    history = [scored(at(4), 7), scored(at(8), 7), scored(at(12), 6), scored(at(16), 5)]
    assert due_for("ciwa_ar", history).interval_minutes == 480


def test_ciwa_ar_follows_the_units_rules():
    definition = DueDefinition("2", ciwa_ar_frequent_threshold=10, ciwa_ar_settled_after=2,
                               ciwa_ar_settled_minutes=360)
    assert due_for("ciwa_ar", ciwa(9), definition=definition).interval_minutes == 240
    assert due_for("ciwa_ar", ciwa(10), definition=definition).interval_minutes == 60
    item = due_for("ciwa_ar", ciwa4(4, 3), definition=definition)
    assert (item.interval_minutes, item.reason) == (
        360, "CIWA-Ar 3, two in a row below 10, not rising, every 4 h: every 6 h")


def test_ciwa_ar_scored_without_a_total_is_incomplete():
    history = [scored(at(8), 12), scored(at(9), None)]
    item = due_for("ciwa_ar", history)
    assert item.due_at == at(9)
    assert item.reason == "CIWA-Ar 12 (8 or more): hourly; newest assessment incomplete, not counted"


@pytest.mark.parametrize(("protocol", "point", "minutes", "reason"), [
    ("cows", scored(at(9), 9, "mild"), 240, "COWS 9: every 4 h"),
    ("cows", scored(at(9), 24, "moderate"), 240, "COWS 24: every 4 h"),
    # Issue 11 item 6: moderately severe COWS and severe CIWA-B shorten the interval.
    ("cows", scored(at(9), 30, "moderately severe"), 60, "COWS 30 (moderately severe): hourly"),
    ("ciwa_b", scored(at(9), 25, "moderate"), 240, "CIWA-B 25: every 4 h"),
    ("ciwa_b", scored(at(9), 41, "severe"), 60, "CIWA-B 41 (severe): hourly"),
    ("ciwa_b", scored(at(9), 70, "very severe"), 60, "CIWA-B 70 (very severe): hourly"),
    ("ketamine", scored(at(9), 12), 240, "Ketamine checklist burden 12: every 4 h"),
    ("ketamine", scored(at(9), 3, flagged=True), 60, "Ketamine checklist burden 3, flagged: hourly"),
    ("vitals", unable(at(9)), 60, "NEWS2 unable to assess: reassess within 1 h"),
    ("cows", unable(at(9)), 60, "COWS unable to assess: reassess within 1 h"),
    ("ciwa_b", unable(at(9)), 60, "CIWA-B unable to assess: reassess within 1 h"),
    ("ketamine", unable(at(9)), 60, "Ketamine checklist unable to assess: reassess within 1 h"),
])
def test_fixed_intervals_flags_and_unable(protocol, point, minutes, reason):
    assert due_for(protocol, [point]) == DueItem(
        protocol, at(9) + timedelta(minutes=minutes), minutes, reason, False)


def test_a_score_after_unable_returns_to_the_rule():
    assert due_for("cows", [unable(at(8)), scored(at(9), 4)]).due_at == at(13)


# Across midnight and across the autumn DST change (intervals are elapsed time).


@pytest.mark.parametrize(("protocol", "point", "expected"), [
    ("vitals", scored(utc(2026, 3, 10, 23, 30), 5, "medium"), utc(2026, 3, 11, 0, 30)),
    ("vitals", scored(utc(2026, 12, 31, 23, 50), 8, "high"), utc(2027, 1, 1, 0, 5)),
    ("vitals", scored(utc(2026, 3, 10, 20, 0), 0, "low"), utc(2026, 3, 11, 8, 0)),
    ("ciwa_ar", scored(utc(2026, 3, 10, 22, 15), 4), utc(2026, 3, 11, 2, 15)),
    ("cows", unable(utc(2026, 2, 28, 23, 40)), utc(2026, 3, 1, 0, 40)),
    ("ketamine", scored(utc(2026, 3, 10, 23, 59), 6, flagged=True), utc(2026, 3, 11, 0, 59)),
])
def test_due_across_midnight(protocol, point, expected):
    assert due_for(protocol, [point]).due_at == expected


@pytest.mark.parametrize(("protocol", "point", "local_due"), [
    # 00:30 BST (23:30 UTC) + 4 h is 03:30 UTC, 03:30 GMT on the wall: only 3 wall hours later.
    ("ciwa_ar", scored(datetime(2026, 10, 25, 0, 30, tzinfo=LONDON), 4),
     datetime(2026, 10, 25, 3, 30, tzinfo=LONDON)),
    # 01:30 BST, the first 01:30, + 1 h is the second 01:30 (GMT).
    ("vitals", scored(datetime(2026, 10, 25, 1, 30, tzinfo=LONDON), 5, "medium"),
     datetime(2026, 10, 25, 1, 30, fold=1, tzinfo=LONDON)),
    # 01:50 BST + 15 min is 01:05 GMT: the wall clock goes backwards.
    ("vitals", scored(datetime(2026, 10, 25, 1, 50, tzinfo=LONDON), 7, "high"),
     datetime(2026, 10, 25, 1, 5, fold=1, tzinfo=LONDON)),
    # 20:00 BST + 12 h is 07:00 GMT the next morning, not 08:00.
    ("vitals", scored(datetime(2026, 10, 24, 20, 0, tzinfo=LONDON), 0, "low"),
     datetime(2026, 10, 25, 7, 0, tzinfo=LONDON)),
    # Spring: 00:30 GMT + 4 h is 05:30 BST.
    ("cows", scored(datetime(2026, 3, 29, 0, 30, tzinfo=LONDON), 6),
     datetime(2026, 3, 29, 5, 30, tzinfo=LONDON)),
])
def test_due_across_dst_is_elapsed_time(protocol, point, local_due):
    item = due_for(protocol, [point])
    # Compare in UTC: Python never finds an ambiguous (fold) wall time equal to another zone's.
    assert item.due_at == local_due.astimezone(UTC)
    assert item.due_at.astimezone(LONDON).replace(tzinfo=None) == local_due.replace(tzinfo=None)
    assert item.due_at.tzinfo is UTC
    assert item.due_at - point.at == timedelta(minutes=item.interval_minutes)


# PRN doses.


@pytest.mark.parametrize(("doses", "expected", "reason"), [
    ((), at(13), "COWS 9: every 4 h"),
    ((at(10),), at(11), "COWS 9: every 4 h; PRN dose given: reassess 1 h after it"),
    ((at(11), at(10)), at(11), "COWS 9: every 4 h; PRN dose given: reassess 1 h after it"),
    ((at(12),), at(13), "COWS 9: every 4 h"),  # dose + 1 h is the routine time anyway
    ((at(12, 30),), at(13), "COWS 9: every 4 h"),  # routine comes first
    ((at(8, 30),), at(13), "COWS 9: every 4 h"),  # given before the score: answered by it
    ((at(9),), at(13), "COWS 9: every 4 h"),  # given at the score time: answered by it
])
def test_cows_after_prn(doses, expected, reason):
    item = due_for("cows", [scored(at(9), 9)], prn_doses=doses)
    assert (item.due_at, item.reason) == (expected, reason)
    assert item.interval_minutes == (60 if "PRN" in reason else 240)


def test_cows_prn_across_midnight_and_before_first_assessment():
    item = due_for("cows", [scored(utc(2026, 3, 10, 22), 11)], prn_doses=[utc(2026, 3, 10, 23, 45)])
    assert item.due_at == utc(2026, 3, 11, 0, 45)
    # With no score yet, the first assessment (due in the grace period) comes first.
    assert due_for("cows", [], prn_doses=[at(7)]).due_at == at(6, 30)
    later = DueDefinition("2", vitals_initial_minutes=240)
    assert due_for("cows", [], prn_doses=[at(7)], definition=later).due_at == at(8)


@pytest.mark.parametrize("protocol", ["vitals", "ciwa_ar", "ciwa_b", "ketamine"])
def test_prn_doses_do_not_move_protocols_without_an_after_prn_rule(protocol):
    point = scored(at(9), 5, "medium" if protocol == "vitals" else None)
    assert due_for(protocol, [point], prn_doses=[at(9, 10)]) == due_for(protocol, [point])


def test_after_prn_minutes_per_protocol():
    assert DEFAULT_DEFINITION.after_prn_minutes("cows") == 60
    assert DEFAULT_DEFINITION.after_prn_minutes("ciwa_ar") is None


@pytest.mark.parametrize(("route", "minutes"), [
    ("oral", 60), ("sublingual", 30), ("buccal", 30), ("intramuscular", 30), ("intravenous", 15)])
def test_prn_effect_due_by_route(route, minutes):
    assert prn_effect_due(at(23, 50), route) == at(23, 50) + timedelta(minutes=minutes)


def test_prn_effect_due_is_elapsed_time_and_refuses_unknown_routes():
    given_at = datetime(2026, 10, 25, 1, 40, tzinfo=LONDON)  # BST
    assert prn_effect_due(given_at, "oral") == utc(2026, 10, 25, 1, 40)  # 01:40 GMT, an hour later
    with pytest.raises(ValueError, match="'nasal' is not a route"):
        prn_effect_due(at(9), "nasal")
    rectal = DueDefinition("2", prn_effect_minutes={"rectal": 45})
    assert prn_effect_due(at(9), "rectal", rectal) == at(9, 45)


# Physician override.


def test_override_replaces_the_computed_interval():
    item = due_for("ciwa_ar", ciwa(12), override=Override(120, "delirium team reviewing"))
    assert item == DueItem("ciwa_ar", at(10), 120,
                           "Physician override: every 120 min — delirium team reviewing", True)


def test_override_without_history_counts_from_admission():
    item = due_for("vitals", [], override=Override(30, "post-seizure"))
    assert (item.due_at, item.overridden) == (at(6, 30), True)


def test_override_replaces_unable_and_band_rules_too():
    assert due_for("vitals", [unable(at(9))], override=Override(240, "asleep")).due_at == at(13)
    history = [scored(at(8), 7, "high"), scored(at(9), None, None)]
    # Set while the band was already high, it holds (issue 11 item 2 has the worsening cases).
    assert due_for("vitals", history, override=Override(45, "x", band="high")).due_at == at(8, 45)


def test_cows_prn_still_applies_under_an_override():
    item = due_for("cows", [scored(at(9), 9)], prn_doses=[at(10)], override=Override(480, "settled"))
    assert (item.due_at, item.interval_minutes, item.overridden) == (at(11), 60, True)
    assert item.reason == "Physician override: every 480 min — settled; PRN dose given: reassess 1 h after it"


@pytest.mark.parametrize(("minutes", "reason", "message"), [
    (0, "x", "override interval must be"),
    (-15, "x", "override interval must be"),
    (30.0, "x", "override interval must be"),
    (30, "   ", "needs a reason"),
    (30, None, "needs a reason"),
])
def test_override_is_validated(minutes, reason, message):
    with pytest.raises(ValueError, match=message):
        Override(minutes, reason)


# Refusals.


def test_naive_datetimes_are_refused():
    naive = datetime(2026, 3, 10, 9)
    with pytest.raises(ValueError, match="timezone-aware"):
        ScorePoint(at=naive, total=3, band=None)
    with pytest.raises(ValueError, match="admitted_at must be timezone-aware"):
        next_due("cows", [], admitted_at=naive)
    with pytest.raises(ValueError, match="PRN dose time must be timezone-aware"):
        due_for("cows", [], prn_doses=[naive])
    with pytest.raises(ValueError, match="timezone-aware"):
        prn_effect_due(naive, "oral")
    item = due_for("cows", [])
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        item.status(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        item.overdue_minutes(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        check_schedule("general", [naive], start=at(8), now=at(9))
    with pytest.raises(ValueError, match="timezone-aware"):
        check_schedule("general", [], start=naive, now=at(9))
    with pytest.raises(ValueError, match="timezone-aware"):
        possible_backfill([at(9), naive])
    with pytest.raises(ValueError, match="timezone-aware"):
        late(naive, at(8), 60)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"outcome": "refused"}, "outcome 'refused'"),
    ({"total": -1}, "total -1"),
    ({"total": True}, "total True"),
    ({"total": 2.5}, "total 2.5"),
])
def test_score_point_is_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ScorePoint(**{"at": at(9), "total": 3, "band": None, **kwargs})


def test_unknown_protocol_is_refused():
    with pytest.raises(ValueError, match="'ciwa' is not a protocol"):
        due_for("ciwa", [])


# DueItem status and ordering.


@pytest.mark.parametrize(("now", "status", "overdue"), [
    (at(7), "later", 0),
    (at(8, 59), "later", 0),
    (at(9), "due", 0),
    (at(9, 30), "due", 0),
    (at(10), "due", 0),
    (at(10, 0) + timedelta(seconds=1), "overdue", 1),
    (at(10, 1), "overdue", 1),
    (at(10, 59) + timedelta(seconds=30), "overdue", 60),
    (at(12, 5), "overdue", 125),
])
def test_due_item_status(now, status, overdue):
    item = DueItem("cows", at(10), 240, "COWS 3: every 4 h", False)
    assert (item.status(now), item.overdue_minutes(now)) == (status, overdue)


def test_status_compares_instants_not_wall_clocks():
    item = DueItem("vitals", utc(2026, 7, 1, 12), 60, "x", False)
    assert item.status(datetime(2026, 7, 1, 12, 30, tzinfo=LONDON)) == "due"  # 11:30 UTC
    assert item.status(datetime(2026, 7, 1, 13, 30, tzinfo=LONDON)) == "overdue"


def test_most_overdue_first():
    now = at(12)
    items = [
        DueItem("cows", at(13), 240, "", False),
        DueItem("vitals", at(11, 30), 60, "", False),
        DueItem("ciwa_ar", at(9), 60, "", False),
        DueItem("ketamine", at(12, 30), 240, "", False),
        DueItem("ciwa_b", at(11, 30), 240, "", False),
    ]
    assert [item.protocol for item in most_overdue_first(items, now)] == [
        "ciwa_ar", "ciwa_b", "vitals", "ketamine", "cows"]
    assert most_overdue_first([], now) == []


# Safety observation rounds.


@pytest.mark.parametrize(("check_at", "previous_at", "interval", "expected"), [
    (at(9, 30), at(8), 60, False),  # exactly 1.5 × 60: on time
    (at(9, 30) + timedelta(seconds=1), at(8), 60, True),
    (at(8, 22) + timedelta(seconds=30), at(8), 15, False),
    (at(8, 22) + timedelta(seconds=31), at(8), 15, True),
    (at(8, 45), at(8), timedelta(minutes=30), False),
    (at(8, 46), at(8), 30, True),
    (at(8, 10), at(8), 60, False),
])
def test_late(check_at, previous_at, interval, expected):
    assert late(check_at, previous_at, interval) is expected


def test_late_with_the_units_factor():
    assert late(at(10), at(8), 60, factor=2) is False
    assert late(at(10, 1), at(8), 60, factor=2) is True


def test_missed_windows_from_the_worked_example():
    schedule = check_schedule("general", [at(8), at(11, 10)], start=at(8), now=at(11, 20))
    assert schedule.missed == (CheckWindow(at(9), at(9, 30)), CheckWindow(at(10), at(10, 30)))
    # The 11:10 check is real, so the clock runs from it: nothing is filled in at 11:00.
    assert (schedule.last_check, schedule.next_due, schedule.late_at) == (at(11, 10), at(12, 10), at(12, 40))
    assert schedule.status(at(11, 20)) == "ok"


@pytest.mark.parametrize(("level", "checks", "now", "missed"), [
    ("general", [at(8), at(9, 30)], at(9, 40), ()),  # on time at exactly 1.5 ×
    ("general", [at(8), at(9, 30) + timedelta(seconds=1)], at(9, 40), ((at(9), at(9, 30)),)),
    ("general", [at(8), at(8, 55), at(9, 50), at(11, 20)], at(11, 30), ()),
    ("general", [at(8), at(10, 31)], at(10, 40), ((at(9), at(9, 30)), (at(10), at(10, 30)))),
    ("intermittent_30", [at(8), at(8, 45)], at(8, 50), ()),
    ("intermittent_30", [at(8), at(8, 46)], at(8, 50), ((at(8, 30), at(8, 45)),)),
    ("intermittent_15", [at(8), at(8, 22)], at(8, 25), ()),
    ("intermittent_15", [at(8), at(8, 23)], at(8, 25),
     ((at(8, 15), at(8, 22) + timedelta(seconds=30)),)),
    ("intermittent_15", [at(8), at(9)], at(9, 5), tuple(
        (at(8, m), at(8, m + 7) + timedelta(seconds=30)) for m in (15, 30, 45))),
    # No check since 08:00 and now is 10:45: the open gap counts up to now.
    ("general", [at(8)], at(10, 45), ((at(9), at(9, 30)), (at(10), at(10, 30)))),
    ("general", [at(8)], at(10, 30), ((at(9), at(9, 30)),)),  # the 10:00 window is late only after 10:30
    # Across midnight.
    ("intermittent_30", [at(23, 40), at(0, 35, day=11)], at(0, 40, day=11),
     ((at(0, 10, day=11), at(0, 25, day=11)),)),
])
def test_missed_windows(level, checks, now, missed):
    schedule = check_schedule(level, checks, start=checks[0], now=now)
    assert schedule.missed == tuple(CheckWindow(due_at, late_at) for due_at, late_at in missed)


def test_missed_windows_across_dst_use_elapsed_time():
    # 00:50 BST to 01:40 GMT reads as 50 minutes on the wall but is 1 h 50 min: late.
    first = datetime(2026, 10, 25, 0, 50, tzinfo=LONDON)
    second = datetime(2026, 10, 25, 1, 40, fold=1, tzinfo=LONDON)
    schedule = check_schedule("general", [first, second], start=first, now=second)
    assert schedule.missed == (CheckWindow(utc(2026, 10, 25, 0, 50), utc(2026, 10, 25, 1, 20)),)
    assert late(second, first, 60)
    assert schedule.next_due == utc(2026, 10, 25, 2, 40)


@pytest.mark.parametrize(("now", "status"), [
    (at(8, 30), "ok"),
    (at(8, 59), "ok"),
    (at(9), "due"),
    (at(9, 30), "due"),
    (at(9, 31), "overdue"),
])
def test_check_status(now, status):
    assert check_schedule("general", [at(8)], start=at(7, 30), now=now).status(now) == status


def test_no_checks_yet_counts_from_start():
    schedule = check_schedule("intermittent_30", [], start=at(10), now=at(10, 20))
    assert (schedule.last_check, schedule.next_due, schedule.missed) == (None, at(10, 30), ())
    assert schedule.status(at(10, 20)) == "ok"
    schedule = check_schedule("intermittent_30", [], start=at(10), now=at(11, 20))
    assert schedule.missed == (CheckWindow(at(10, 30), at(10, 45)), CheckWindow(at(11), at(11, 15)))
    assert schedule.status(at(11, 20)) == "overdue"


def test_a_check_before_start_keeps_the_clock_running():
    # A new shift at 19:00 does not give a free interval: the 18:50 check is the anchor.
    schedule = check_schedule("general", [at(17), at(18, 50)], start=at(19), now=at(19, 55))
    assert (schedule.last_check, schedule.next_due, schedule.missed) == (at(18, 50), at(19, 50), ())
    assert schedule.status(at(19, 55)) == "due"


def test_windows_due_before_start_are_not_listed():
    # Last check 17:00: the 18:00 window belongs to the previous shift; 19:00 and 20:00 are missed.
    schedule = check_schedule("general", [at(17)], start=at(19), now=at(20, 40))
    assert schedule.missed == (CheckWindow(at(19), at(19, 30)), CheckWindow(at(20), at(20, 30)))
    assert (schedule.next_due, schedule.status(at(20, 40))) == (at(18), "overdue")
    schedule = check_schedule("general", [at(17), at(19, 10)], start=at(19), now=at(19, 20))
    assert schedule.missed == ()


def test_checks_after_now_are_ignored():
    schedule = check_schedule("general", [at(8), at(9, 50)], start=at(8), now=at(9, 40))
    assert (schedule.last_check, schedule.missed) == (at(8), ((CheckWindow(at(9), at(9, 30))),))


def test_a_check_at_start_counts():
    schedule = check_schedule("general", [at(8)], start=at(8), now=at(8, 10))
    assert (schedule.last_check, schedule.next_due) == (at(8), at(9))


@pytest.mark.parametrize("level", ["eyesight", "arms_length"])
def test_continuous_levels_have_no_schedule(level):
    schedule = check_schedule(level, [at(8)], start=at(6), now=at(20))
    assert (schedule.interval_minutes, schedule.next_due, schedule.missed) == (0, None, ())
    assert schedule.last_check == at(8)
    assert schedule.status(at(20)) == "ok"


def test_on_time_factor_is_the_units():
    definition = DueDefinition("2", on_time_factor=2)
    schedule = check_schedule("general", [at(8), at(10)], start=at(8), now=at(10), definition=definition)
    assert schedule.missed == ()
    schedule = check_schedule("general", [at(8), at(10, 1)], start=at(8), now=at(10, 1),
                              definition=definition)
    assert schedule.missed == (CheckWindow(at(9), at(10)),)


def test_check_schedule_refusals():
    with pytest.raises(ValueError, match="'constant' is not an observation level"):
        check_schedule("constant", [], start=at(8), now=at(9))
    with pytest.raises(ValueError, match="start cannot be after now"):
        check_schedule("general", [], start=at(10), now=at(9))


# Possible back-filling.


@pytest.mark.parametrize(("times", "flagged"), [
    ([], set()),
    ([at(9)], set()),
    ([at(9), at(9, 15), at(9, 30)], set()),
    ([at(9), at(9) + timedelta(seconds=40)], {0, 1}),
    ([at(9, 0) + timedelta(seconds=59), at(9, 1)], {0, 1}),  # across a clock-minute boundary
    ([at(9), at(9, 1)], set()),  # a full minute apart
    ([at(9, 30), at(9) + timedelta(seconds=20), at(9, 15), at(9) + timedelta(seconds=5)], {1, 3}),
    ([at(9), at(9) + timedelta(seconds=30), at(9, 1) + timedelta(seconds=20)], {0, 1, 2}),
    ([at(9), at(9)], {0, 1}),
    ([at(10), datetime(2026, 3, 10, 10, 0, 30, tzinfo=PARIS_WINTER)], set()),
    ([at(9, 0) + timedelta(seconds=10), datetime(2026, 3, 10, 10, 0, 30, tzinfo=PARIS_WINTER)],
     {0, 1}),
])
def test_possible_backfill(times, flagged):
    assert possible_backfill(times) == flagged


# Properties.

BASE = utc(2026, 10, 24, 18)
minutes_after = st.integers(min_value=0, max_value=3 * 24 * 60)


def _instant(minutes):
    return BASE + timedelta(minutes=minutes)


@st.composite
def score_points(draw, protocol):
    minutes = draw(minutes_after)
    outcome = draw(st.sampled_from(["scored", "scored", "scored", "unable"]))
    if outcome == "unable":
        return ScorePoint(_instant(minutes), None, None, "unable")
    total = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=30)))
    band = draw(st.sampled_from(["low", "low-medium", "medium", "high"])) if protocol == "vitals" else None
    return ScorePoint(_instant(minutes), total, band, flagged=draw(st.booleans()))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_next_due_is_never_before_the_newest_counted_result(data):
    protocol = data.draw(st.sampled_from(due.PROTOCOLS))
    history = data.draw(st.lists(score_points(protocol), max_size=6))
    doses = data.draw(st.lists(minutes_after.map(_instant), max_size=3))
    item = next_due(protocol, history, admitted_at=BASE, prn_doses=doses)
    counted = [point.at for point in history if point.counts]
    if counted:
        assert item.due_at >= max(counted)
        assert not item.reason.startswith("first assessment")
    else:
        assert item.due_at == BASE + timedelta(minutes=30)
    assert not item.overridden
    assert item.due_at.tzinfo is UTC


@settings(max_examples=200, deadline=None)
@given(
    earlier=st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=67)), max_size=6),
    low=st.integers(min_value=0, max_value=67),
    high=st.integers(min_value=0, max_value=67),
)
def test_higher_ciwa_ar_never_gives_a_longer_interval(earlier, low, high):
    low, high = min(low, high), max(low, high)
    intervals = [due_for("ciwa_ar", ciwa(*earlier, newest)).interval_minutes for newest in (low, high)]
    assert intervals[1] <= intervals[0]


@settings(max_examples=200, deadline=None)
@given(
    level=st.sampled_from(["general", "intermittent_30", "intermittent_15"]),
    offsets=st.lists(st.integers(min_value=0, max_value=12 * 60), max_size=8),
    start_offset=st.integers(min_value=0, max_value=6 * 60),
    now_offset=st.integers(min_value=0, max_value=12 * 60),
)
def test_missed_windows_are_ordered_before_now_and_unchecked(level, offsets, start_offset, now_offset):
    start, now = _instant(start_offset), _instant(max(start_offset, now_offset))
    checks = [_instant(offset) for offset in offsets]
    schedule = check_schedule(level, checks, start=start, now=now)
    interval = timedelta(minutes=schedule.interval_minutes)
    dues = [window.due_at for window in schedule.missed]
    assert dues == sorted(set(dues))
    for window in schedule.missed:
        assert start <= window.due_at < window.late_at < now
        assert window.late_at - window.due_at == interval / 2
        # Never filled: no check was made between one interval before it and its late time.
        assert not any(window.due_at - interval < check <= window.late_at for check in checks)
    if schedule.missed and schedule.missed[-1].due_at > (schedule.last_check or start):
        assert schedule.status(now) == "overdue"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=600), max_size=10))
def test_backfill_flags_exactly_the_checks_within_a_minute_of_another(seconds):
    times = [BASE + timedelta(seconds=s) for s in seconds]
    expected = {i for i, a in enumerate(seconds)
                for j, b in enumerate(seconds) if i != j and abs(a - b) < 60}
    assert possible_backfill(times) == expected
