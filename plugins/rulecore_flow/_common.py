"""Pieces the flow checks share: schema fragments, words for selectors and values, evidence.

Statuses, reopens and the case clock are the core's (:mod:`rulecore.caseclock`), and a value
such as a status or a level compares as a :func:`rulecore.field_key`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rulecore import SELECTOR_SCHEMA, Event, Evidence, Record, describe_selector
from rulecore.i18n import _

#: A compiled event selector.
EventPredicate = Callable[[Event], bool]

SELECTOR_KEYS = ("type", "actor", "where")
SELECTOR_DEFS: dict[str, Any] = SELECTOR_SCHEMA["$defs"]

#: A status or level value as written in a standard: a name or a number.
VALUE_SCHEMA: dict[str, Any] = {"type": ["string", "number"]}
VALUES_SCHEMA: dict[str, Any] = {
    "oneOf": [
        VALUE_SCHEMA,
        {"type": "array", "items": VALUE_SCHEMA, "minItems": 1},
    ]
}


def selector(description: str) -> dict[str, Any]:
    """The shared event-selector schema with a description for ``rulecore explain``."""
    return {**SELECTOR_SCHEMA, "description": description}


def selector_part(spec: Mapping[str, Any] | None) -> dict[str, Any]:
    """Only the selector keys of ``spec`` (a step or endpoint may carry more, such as a name)."""
    return {key: value for key, value in (spec or {}).items() if key in SELECTOR_KEYS}


def describe_values(values: Any) -> str:
    """Values for messages: ``Resolved`` or ``Resolved or Closed``."""
    listed = values if isinstance(values, Sequence) and not isinstance(values, str) else [values]
    return _(" or ").join(str(value) for value in listed)


def describe_event(spec: Mapping[str, Any] | None) -> str:
    """Words for an event selector, including its ``where`` fields: ``status where state=x``."""
    words = describe_selector(selector_part(spec))
    where = (spec or {}).get("where") or {}
    if where:
        words += _(" where ") + ", ".join(
            f"{name}={describe_values(value)}" for name, value in sorted(where.items())
        )
    return words


def event_evidence(record: Record, index: int, label: str, detail: str = "") -> Evidence:
    """Evidence pointing at one event of the timeline."""
    return Evidence("event", label, record.events[index].at, event_index=index, detail=detail)
