"""Ketamine withdrawal checklist (not a validated instrument) and the suicide-risk screen.

The checklist is configuration: a versioned definition that a unit may change, so that an old
entry keeps the version it was scored with. It has no bands, only a symptom burden and flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clinic.scoring.scale import Item, ItemError, validate_items

BURDEN_LABEL = "symptom burden (unvalidated)"

ANCHORS: dict[int, str] = {
    0: "absent",
    1: "mild",
    2: "moderate: distressing or interferes",
    3: "severe: asks for help",
    4: "extreme: cannot function or needs intervention now",
}

_ITEM_LABELS = (
    ("craving", "Craving"),
    ("anxiety", "Anxiety"),
    ("low_mood", "Low mood"),
    ("irritability", "Irritability"),
    ("agitation", "Agitation"),
    ("confusion", "Poor concentration or confusion"),
    ("hallucinations", "Hallucinations"),
    ("paranoia", "Paranoia"),
    ("fatigue", "Fatigue"),
    ("sleep_disturbance", "Sleep disturbance (including nightmares)"),
    ("appetite_nausea", "Appetite loss or nausea"),
    ("tremor", "Tremor"),
    ("sweating_chills", "Sweating or chills"),
    ("palpitations", "Palpitations"),
    ("abdominal_pain", "Abdominal pain"),
    ("bladder_pain", "Bladder or suprapubic pain"),
    ("urinary_frequency", "Urinary frequency or urgency"),
    ("dysuria", "Pain passing urine"),
)


@dataclass(frozen=True)
class FlagRules:
    """Which answers raise a flag: any item at a level, some items lower, some yes answers."""

    any_item_at_least: int | None = 3
    item_at_least: Mapping[str, int] = field(
        default_factory=lambda: {"hallucinations": 2, "paranoia": 2, "confusion": 2},
        hash=False,
    )
    yes_flags: tuple[str, ...] = ("blood_in_urine", "unable_to_pass_urine")


@dataclass(frozen=True)
class KetamineDefinition:
    """A versioned checklist: graded items, yes/no items and the rules that flag them."""

    version: str
    items: tuple[Item, ...]
    yes_no_items: tuple[tuple[str, str], ...]
    flag_rules: FlagRules = field(default_factory=FlagRules)

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not self.version.strip():
            raise ValueError("the checklist definition needs a version")
        if not self.items:
            raise ValueError("the checklist needs at least one item")
        keys = [item.key for item in self.items] + [key for key, _ in self.yes_no_items]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"item keys must be unique: {', '.join(duplicates)}")
        graded = {item.key for item in self.items}
        for key in self.flag_rules.item_at_least:
            if key not in graded:
                raise ValueError(f"flag rule names {key!r}, which is not a graded item")
        yes_no = {key for key, _ in self.yes_no_items}
        for key in self.flag_rules.yes_flags:
            if key not in yes_no:
                raise ValueError(f"flag rule names {key!r}, which is not a yes/no item")

    def to_dict(self) -> dict[str, Any]:
        """Return the definition as plain JSON-ready data."""
        return {
            "version": self.version,
            "items": [
                {
                    "key": item.key,
                    "label": item.label,
                    "max_value": item.max_value,
                    # JSON object keys are strings.
                    "anchors": {str(value): text for value, text in item.anchors.items()},
                }
                for item in self.items
            ],
            "yes_no_items": [{"key": key, "label": label} for key, label in self.yes_no_items],
            "flag_rules": {
                "any_item_at_least": self.flag_rules.any_item_at_least,
                "item_at_least": dict(self.flag_rules.item_at_least),
                "yes_flags": list(self.flag_rules.yes_flags),
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KetamineDefinition:
        """Build a definition from data made by to_dict, or raise ValueError if it is malformed."""
        try:
            rules = data["flag_rules"]
            return cls(
                version=str(data["version"]),
                items=tuple(
                    Item(
                        key=str(item["key"]),
                        label=str(item["label"]),
                        max_value=_whole(item["max_value"]),
                        anchors={int(value): str(text) for value, text in item["anchors"].items()},
                    )
                    for item in data["items"]
                ),
                yes_no_items=tuple(
                    (str(entry["key"]), str(entry["label"])) for entry in data["yes_no_items"]
                ),
                flag_rules=FlagRules(
                    any_item_at_least=(
                        None
                        if rules["any_item_at_least"] is None
                        else _whole(rules["any_item_at_least"])
                    ),
                    item_at_least={
                        str(key): _whole(level) for key, level in rules["item_at_least"].items()
                    },
                    yes_flags=tuple(str(key) for key in rules["yes_flags"]),
                ),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"malformed checklist definition: {error!r}") from None


DEFAULT_DEFINITION = KetamineDefinition(
    version="1",
    items=tuple(Item(key, label, 4, ANCHORS) for key, label in _ITEM_LABELS),
    yes_no_items=(
        ("blood_in_urine", "Blood in urine"),
        ("unable_to_pass_urine", "Unable to pass urine"),
    ),
)


@dataclass(frozen=True)
class KetamineResult:
    """The symptom burden (unvalidated), the flags raised and the answers scored."""

    burden: int
    flags: tuple[str, ...]
    items: dict[str, int] = field(hash=False)
    yes_no: dict[str, bool] = field(hash=False)
    version: str = DEFAULT_DEFINITION.version

    @property
    def flagged(self) -> bool:
        """Return whether any flag was raised."""
        return bool(self.flags)


def score(
    items: Mapping[str, int],
    yes_no: Mapping[str, bool],
    definition: KetamineDefinition = DEFAULT_DEFINITION,
) -> KetamineResult:
    """Validate the answers, sum the burden and list the reasons for any flag."""
    graded = validate_items(definition.items, items)
    answers = _validate_yes_no(definition, yes_no)
    rules = definition.flag_rules
    flags: list[str] = []
    for item in definition.items:
        value = graded[item.key]
        if rules.any_item_at_least is not None and value >= rules.any_item_at_least:
            severity = item.anchors.get(value, "").split(":")[0].strip()
            reason = f"{item.label} {value}"
            flags.append(f"{reason} ({severity})" if severity else reason)
        elif item.key in rules.item_at_least and value >= rules.item_at_least[item.key]:
            flags.append(f"{item.label} {value}")
    for key, label in definition.yes_no_items:
        if key in rules.yes_flags and answers[key]:
            flags.append(label)
    return KetamineResult(
        burden=sum(graded.values()),
        flags=tuple(flags),
        items=graded,
        yes_no=answers,
        version=definition.version,
    )


def _validate_yes_no(definition: KetamineDefinition, yes_no: Mapping[str, bool]) -> dict[str, bool]:
    known = {key for key, _ in definition.yes_no_items}
    for key in yes_no:
        if key not in known:
            raise ItemError(str(key), f"{key} is not a yes/no question of this checklist")
    answers: dict[str, bool] = {}
    for key, _ in definition.yes_no_items:
        value = yes_no.get(key)
        if not isinstance(value, bool):
            raise ItemError(key, f"{key} must be answered yes or no")
        answers[key] = value
    return answers


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not a whole number")
    return value


# Suicide-risk screen (Columbia C-SSRS screener structure).

GATE_QUESTION = "Any thoughts of harming yourself or ending your life since the last check?"

QUESTIONS: tuple[tuple[str, str], ...] = (
    (
        "wish_dead",
        "Have you wished you were dead, or wished you could go to sleep and not wake up?",
    ),
    ("active_thoughts", "Have you actually had any thoughts of killing yourself?"),
    ("method", "Have you been thinking about how you might do this?"),
    ("intent", "Have you had these thoughts and had some intention of acting on them?"),
    (
        "plan",
        "Have you started to work out, or worked out, the details of how to kill yourself, "
        "and do you intend to carry out this plan?",
    ),
    (
        "behaviour",
        "Have you ever done anything, started to do anything, or prepared to do anything "
        "to end your life?",
    ),
    ("behaviour_last_3_months", "Was this within the past 3 months?"),
)

SUICIDE_QUESTION_KEYS: frozenset[str] = frozenset(key for key, _ in QUESTIONS)

RISK_NONE = "none"
RISK_LOW = "low"
RISK_MODERATE = "moderate"
RISK_HIGH = "high"
RISK_LEVELS: tuple[str, ...] = (RISK_NONE, RISK_LOW, RISK_MODERATE, RISK_HIGH)

# Asked only after a yes to the question they follow.
_FOLLOW_UPS: dict[str, tuple[str, ...]] = {
    "active_thoughts": ("method", "intent", "plan"),
    "behaviour": ("behaviour_last_3_months",),
}


def suicide_risk(answers: Mapping[str, bool | None]) -> str:
    """Return the risk level from the most severe yes, or raise ItemError naming the question."""
    known = {key for key, _ in QUESTIONS}
    for key in answers:
        if key not in known:
            raise ItemError(str(key), f"{key} is not a question of the screen")
    for key in ("wish_dead", "active_thoughts", "behaviour"):
        if not isinstance(answers.get(key), bool):
            raise ItemError(key, f"{key} must be answered yes or no")
    for gate, follow_ups in _FOLLOW_UPS.items():
        for key in follow_ups:
            value = answers.get(key)
            if answers[gate]:
                if not isinstance(value, bool):
                    raise ItemError(key, f"{key} must be answered yes or no when {gate} is yes")
            elif value is True:
                raise ItemError(key, f"{key} cannot be yes when {gate} is no")
            elif value is not None and value is not False:
                raise ItemError(key, f"{key}: {value!r} is not a yes or no answer")

    def yes(key: str) -> bool:
        return answers.get(key) is True

    recent_behaviour = yes("behaviour") and yes("behaviour_last_3_months")
    if yes("intent") or yes("plan") or recent_behaviour:
        return RISK_HIGH
    if yes("method") or yes("behaviour"):
        return RISK_MODERATE
    if yes("wish_dead") or yes("active_thoughts"):
        return RISK_LOW
    return RISK_NONE


def escalates(risk: str) -> bool:
    """Return whether a risk level raises an escalation that must be acknowledged."""
    if risk not in RISK_LEVELS:
        raise ValueError(f"{risk!r} is not a risk level ({', '.join(RISK_LEVELS)})")
    return risk in (RISK_MODERATE, RISK_HIGH)
