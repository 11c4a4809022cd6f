"""Service levels over a population: "80% of chats answered within 60 s, per team".

A rule's zone of tolerance judges each record.  A service level judges the population the rule
was applied to, or each group of it by a record attribute:

    service_level: {target: 80%, by: team}               # share of judged records that pass
    service_level: {target: 95%, meets: tolerance}        # share that pass or warn
    service_level: {percentile: 90, target: 2d}           # the 90th percentile of the measure

Only judged outcomes (pass, warn, fail) count; not_applicable and errors do not.  Percentiles
keep one float per judged record and rule (8 bytes), the one place an audit's memory grows with
its input, and only for rules that ask for a percentile.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from typing import Any

from ._i18n import _
from ._model import Record
from ._thresholds import format_value, parse_amount

NO_GROUP = "(all)"
MISSING = "(none)"

SERVICE_LEVEL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["target"],
    "additionalProperties": False,
    "description": "A target over the population the rule judged, or per group of it.",
    "properties": {
        "target": {
            "oneOf": [{"type": "number", "minimum": 0}, {"type": "string", "minLength": 1}],
            "description": "A share such as 80% (for meets), or a value in the check's unit "
            "(for percentile).",
        },
        "meets": {
            "enum": ["pass", "tolerance"],
            "description": "What counts towards the share: pass (default), or tolerance "
            "(pass or warn).",
        },
        "percentile": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 100,
            "description": "Judge this percentile of the measured values against the target "
            "instead of a share.",
        },
        "by": {
            "type": "string",
            "minLength": 1,
            "description": "A record attribute; the level is judged for each of its values.",
        },
    },
}


@dataclass(frozen=True)
class ServiceLevel:
    """A compiled ``service_level``."""

    target: float
    meets: str  #: "pass" or "tolerance"; unused for percentiles
    percentile: float | None
    by: str | None
    unit: str
    better: str

    def group_of(self, record: Record) -> str:
        if self.by is None:
            return NO_GROUP
        value = record.attribute(self.by)
        return MISSING if value is None else str(value)

    def describe(self) -> str:
        if self.percentile is not None:
            sign = "≤" if self.better == "lower" else "≥"
            return f"p{self.percentile:g} {sign} {format_value(self.target, self.unit)}"
        what = _("pass") if self.meets == "pass" else _("within tolerance")
        return _("≥ {share} {what}").format(share=f"{self.target:.0%}", what=what)


def parse_service_level(spec: dict[str, Any], unit: str, better: str) -> ServiceLevel:
    """Compile a ``service_level`` mapping (shape already checked by the schema)."""
    percentile = spec.get("percentile")
    if percentile is not None:
        target = parse_amount(spec["target"], unit)
    else:
        target = parse_amount(spec["target"], "ratio")
        if not 0 <= target <= 1:
            raise ValueError(
                _("a service-level share must be between 0% and 100%, not {value!r}").format(
                    value=spec["target"]
                )
            )
    return ServiceLevel(
        target=target,
        meets=spec.get("meets", "pass"),
        percentile=float(percentile) if percentile is not None else None,
        by=spec.get("by"),
        unit=unit,
        better=better,
    )


@dataclass
class GroupState:
    """What a service level keeps for one group while an audit runs."""

    judged: int = 0
    passed: int = 0
    within: int = 0
    values: array[float] = field(default_factory=lambda: array("d"))


def observe(state: GroupState, level: ServiceLevel, outcome: str, value: float | None) -> None:
    if outcome not in ("pass", "warn", "fail"):
        return
    state.judged += 1
    if outcome == "pass":
        state.passed += 1
    if outcome != "fail":
        state.within += 1
    if level.percentile is not None and value is not None:
        state.values.append(value)


def nearest_rank(values: array[float], percentile: float) -> float:
    """The nearest-rank percentile: the smallest value with at least p% of values at or below."""
    ordered = sorted(values)
    rank = max(1, math.ceil(percentile / 100 * len(ordered)))
    return ordered[rank - 1]


def judge(level: ServiceLevel, state: GroupState) -> dict[str, Any]:
    """The service level's result for one group, JSON-ready."""
    if level.percentile is not None:
        actual = nearest_rank(state.values, level.percentile) if state.values else None
        if actual is None:
            met = None
        elif level.better == "lower":
            met = actual <= level.target
        else:
            met = actual >= level.target
        actual_text = format_value(actual, level.unit)
    else:
        meeting = state.passed if level.meets == "pass" else state.within
        actual = round(meeting / state.judged, 4) if state.judged else None
        met = None if actual is None else actual >= level.target
        actual_text = format_value(actual, "ratio")
    return {
        "kind": "percentile" if level.percentile is not None else "share",
        "target": level.target,
        "expected": level.describe(),
        "actual": actual,
        "actual_text": actual_text,
        "met": met,
        "judged": state.judged,
    }
