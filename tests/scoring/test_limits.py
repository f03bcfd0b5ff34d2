"""Tests for vital-sign input limits: refuse, confirm, flag and ok at every edge."""

from dataclasses import replace
from decimal import Decimal

import pytest

from clinic.scoring import limits
from clinic.scoring.limits import CONFIRM, FLAG, OK, REFUSE

# (parameter, value, tier) at each side of each edge of REFERENCE §6.
EDGES = [
    ("respiratory_rate", -1, REFUSE), ("respiratory_rate", 0, CONFIRM),
    ("respiratory_rate", 8, CONFIRM), ("respiratory_rate", 9, FLAG),
    ("respiratory_rate", 11, FLAG), ("respiratory_rate", 12, OK), ("respiratory_rate", 20, OK),
    ("respiratory_rate", 21, FLAG), ("respiratory_rate", 29, FLAG),
    ("respiratory_rate", 30, CONFIRM), ("respiratory_rate", 80, CONFIRM),
    ("respiratory_rate", 81, REFUSE),
    ("heart_rate", -1, REFUSE), ("heart_rate", 0, CONFIRM), ("heart_rate", 19, CONFIRM),
    ("heart_rate", 39, CONFIRM),
    ("heart_rate", 40, FLAG), ("heart_rate", 50, FLAG), ("heart_rate", 51, OK),
    ("heart_rate", 90, OK), ("heart_rate", 91, FLAG), ("heart_rate", 150, FLAG),
    ("heart_rate", 151, CONFIRM), ("heart_rate", 300, CONFIRM), ("heart_rate", 301, REFUSE),
    ("systolic_bp", 19, REFUSE), ("systolic_bp", 20, CONFIRM), ("systolic_bp", 79, CONFIRM),
    ("systolic_bp", 80, FLAG), ("systolic_bp", 110, FLAG), ("systolic_bp", 111, OK),
    ("systolic_bp", 200, OK), ("systolic_bp", 201, CONFIRM), ("systolic_bp", 300, CONFIRM),
    ("systolic_bp", 301, REFUSE),
    ("diastolic_bp", 4, REFUSE), ("diastolic_bp", 5, CONFIRM), ("diastolic_bp", 39, CONFIRM),
    ("diastolic_bp", 40, FLAG), ("diastolic_bp", 59, FLAG), ("diastolic_bp", 60, OK),
    ("diastolic_bp", 90, OK), ("diastolic_bp", 91, FLAG), ("diastolic_bp", 120, FLAG),
    ("diastolic_bp", 121, CONFIRM), ("diastolic_bp", 200, CONFIRM),
    ("diastolic_bp", 201, REFUSE),
    ("temperature", "24.9", REFUSE), ("temperature", "25.0", CONFIRM),
    ("temperature", "29.9", CONFIRM),
    ("temperature", "34.9", CONFIRM), ("temperature", "35.0", FLAG),
    ("temperature", "36.0", FLAG), ("temperature", "36.1", OK), ("temperature", "38.0", OK),
    ("temperature", "38.1", FLAG), ("temperature", "39.4", FLAG),
    ("temperature", "39.5", CONFIRM), ("temperature", "45.0", CONFIRM),
    ("temperature", "45.1", REFUSE),
    ("spo2", -1, REFUSE), ("spo2", 0, CONFIRM), ("spo2", 49, CONFIRM), ("spo2", 84, CONFIRM),
    ("spo2", 85, FLAG),
    ("spo2", 95, FLAG), ("spo2", 96, OK), ("spo2", 100, OK), ("spo2", 101, REFUSE),
    ("glucose", "0.4", REFUSE), ("glucose", "0.5", CONFIRM), ("glucose", "3.9", CONFIRM),
    ("glucose", "4.0", OK), ("glucose", "7.8", OK), ("glucose", "7.9", FLAG),
    ("glucose", "20.0", FLAG), ("glucose", "20.1", CONFIRM), ("glucose", "50.0", CONFIRM),
    ("glucose", "50.1", REFUSE),
    ("pain", -1, REFUSE), ("pain", 0, OK), ("pain", 10, OK), ("pain", 11, REFUSE),
]


@pytest.mark.parametrize(("parameter", "value", "tier"), EDGES)
def test_tiers_at_each_edge(parameter, value, tier):
    verdict = limits.check(parameter, value)
    assert verdict.tier == tier
    assert verdict.saveable is (tier != REFUSE)
    assert verdict.needs_confirmation is (tier == CONFIRM)
    assert (verdict.message == "") is (tier == OK)


@pytest.mark.parametrize(("parameter", "value", "message"), [
    ("heart_rate", 301, "Heart rate 301 is outside the possible range 0–300 /min"),
    ("heart_rate", 160, "Heart rate 160 is very high (above 150 /min): re-measure and confirm"),
    ("heart_rate", 35, "Heart rate 35 is very low (below 40 /min): re-measure and confirm"),
    ("heart_rate", 95, "Heart rate 95 is above the normal range 51–90 /min"),
    ("spo2", 94, "SpO2 94 is below the normal range ≥96 %"),
    ("temperature", "98.6", "Temperature 98.6 looks like °F (= 37.0 °C); enter °C"),
    ("temperature", 86, "Temperature 86.0 looks like °F (= 30.0 °C); enter °C"),
    ("temperature", "113", "Temperature 113.0 looks like °F (= 45.0 °C); enter °C"),
    ("temperature", "114", "Temperature 114.0 is outside the possible range 25.0–45.0 °C"),
    ("temperature", "37.25", "Temperature is recorded to 0.1 °C"),
    ("pain", 11, "Pain score 11 is outside the possible range 0–10"),
    ("heart_rate", 72.5, "Heart rate must be a whole number"),
    ("heart_rate", "72.5", "Heart rate must be a whole number"),
    ("heart_rate", "fast", "Heart rate must be a number"),
    ("heart_rate", "NaN", "Heart rate must be a number"),
    ("heart_rate", True, "Heart rate must be a number"),
    ("heart_rate", None, "Heart rate must be a number"),
])
def test_messages_say_what_and_why(parameter, value, message):
    assert limits.check(parameter, value).message == message


@pytest.mark.parametrize(("value", "stored"), [
    (72, 72), ("72", 72), (72.0, 72), (Decimal("72.0"), 72), (" 72 ", 72),
])
def test_whole_numbers_are_stored_as_int(value, stored):
    verdict = limits.check("heart_rate", value)
    assert verdict.value == stored and type(verdict.value) is int


@pytest.mark.parametrize(("value", "stored"), [
    ("37", Decimal("37.0")), (37.2, Decimal("37.2")), (Decimal("37.20"), Decimal("37.2")),
])
def test_temperature_is_stored_in_tenths(value, stored):
    verdict = limits.check("temperature", value)
    assert verdict.value == stored
    assert str(verdict.value) == str(stored)


@pytest.mark.parametrize(("diastolic", "systolic", "tier"), [
    (80, 120, OK), (119, 120, FLAG), (120, 120, REFUSE), (130, 140, CONFIRM),
    (130, 120, REFUSE), (80, None, OK),
])
def test_diastolic_must_be_below_systolic(diastolic, systolic, tier):
    assert limits.check("diastolic_bp", diastolic, systolic=systolic).tier == tier


def test_diastolic_message_names_the_systolic():
    verdict = limits.check("diastolic_bp", 90, systolic=85)
    assert verdict.message == "Diastolic BP 90 must be below the systolic (85)"


@pytest.mark.parametrize(("reading", "stored", "meaning"), [
    ("LO", "LO", "below"), ("HI", "HI", "above"), (" hi ", "HI", "above"),
])
def test_glucose_meter_words_need_confirmation(reading, stored, meaning):
    verdict = limits.check("glucose", reading)
    assert (verdict.tier, verdict.value) == (CONFIRM, stored)
    assert stored in verdict.message and meaning in verdict.message


def test_meter_words_are_only_for_glucose():
    assert limits.check("heart_rate", "HI").tier == REFUSE


@pytest.mark.parametrize(("fahrenheit", "celsius"), [
    ("98.6", "37.0"), (100.4, "38.0"), (32, "0.0"), ("104", "40.0"), ("95", "35.0"),
])
def test_fahrenheit_to_celsius(fahrenheit, celsius):
    assert limits.fahrenheit_to_celsius(fahrenheit) == Decimal(celsius)


def test_unknown_parameter():
    with pytest.raises(ValueError, match="weight"):
        limits.check("weight", 70)


def test_a_unit_can_override_limits():
    unit = {**limits.LIMITS, "heart_rate": replace(
        limits.LIMITS["heart_rate"], plausible=limits.Range(Decimal(45), Decimal(140)))}
    assert limits.check("heart_rate", 42, limits=unit).tier == CONFIRM
    assert limits.check("heart_rate", 42).tier == FLAG
    assert limits.check("heart_rate", 145, limits=unit).tier == CONFIRM


def test_limits_cover_the_reference_parameters():
    assert set(limits.PARAMETERS) == {"respiratory_rate", "heart_rate", "systolic_bp",
                                      "diastolic_bp", "temperature", "spo2", "glucose", "pain"}
    with pytest.raises(TypeError):
        limits.LIMITS["pain"] = limits.LIMITS["spo2"]  # the defaults are read-only
