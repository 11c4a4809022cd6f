"""Parameter schemas and parsers that the timeliness checks share.

Everything here runs once per rule, at compile time.  The schemas are what ``rulecore
explain`` prints and what standards are validated against, so every key has a description.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rulecore import SELECTOR_SCHEMA, Thresholds, parse_duration
from rulecore.i18n import _

SELECTOR_DEFS: dict[str, Any] = SELECTOR_SCHEMA["$defs"]


def selector_schema(description: str) -> dict[str, Any]:
    """An event selector (type, actor, where) with its own description."""
    return {**SELECTOR_SCHEMA, "description": description}


def endpoint_schema(description: str) -> dict[str, Any]:
    """An event selector plus which matching event to take."""
    return {
        **SELECTOR_SCHEMA,
        "description": description,
        "properties": {
            **SELECTOR_SCHEMA["properties"],
            "occurrence": {
                "enum": ["first", "last"],
                "description": "Which matching event to take (default: first).",
            },
        },
    }


DURATION_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*[wdhmsWDHMS]\s*)+$"},
    ]
}

SHARE_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*%\s*$"},
    ]
}


def parse_share(raw: Any, name: str) -> float:
    """A share of a target, written ``75%`` or ``0.75``; the schema has checked its shape."""
    share = float(raw.strip().rstrip("%")) / 100 if isinstance(raw, str) else float(raw)
    if not 0 < share <= 1:
        raise ValueError(
            _("{name} must be more than 0% and at most 100%, not {value!r}").format(
                name=name, value=raw
            )
        )
    return share


def parse_lower_bound(raw: Any) -> Thresholds:
    """The ``at_least`` zone: a duration, or ``{desired: ..., adequate: ...}`` (higher is better).

    Below ``adequate`` is too rushed (fail); between ``adequate`` and ``desired`` is rushed but
    tolerated (warn).
    """
    if isinstance(raw, Mapping):
        desired = parse_duration(raw.get("desired", raw.get("adequate")))
        adequate = parse_duration(raw.get("adequate", raw.get("desired")))
        if desired < adequate:
            raise ValueError(
                _(
                    "at_least: desired must not be shorter than adequate: the desired minimum is "
                    "the longer one, and below the adequate minimum a case is too rushed"
                )
            )
        return Thresholds(desired, adequate, "higher", "seconds")
    amount = parse_duration(raw)
    return Thresholds(amount, amount, "higher", "seconds")


LOWER_BOUND_SCHEMA: dict[str, Any] = {
    "description": (
        "Too rushed: a lower bound on the time.  A duration (at_least: 30s) fails anything "
        "shorter; a zone (at_least: {desired: 2m, adequate: 1m}) fails below adequate and warns "
        "between adequate and desired.  The finding's note says it was too rushed.  Only "
        "finished spans are judged for this; an open case cannot be too rushed."
    ),
    "oneOf": [
        DURATION_SCHEMA,
        {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "desired": {
                    **DURATION_SCHEMA,
                    "description": "At or above this the time is as unhurried as desired.",
                },
                "adequate": {
                    **DURATION_SCHEMA,
                    "description": "Below this the case was too rushed: the rule fails.",
                },
            },
        },
    ],
}
