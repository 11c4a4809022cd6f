"""Pieces the flow checks share: schema fragments, value keys, status tracking and evidence."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from rulecore import SELECTOR_SCHEMA, Event, Evidence, Record, compile_selector, describe_selector

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


def value_key(value: Any) -> str | None:
    """A status or level as a comparable key, so ``2``, ``2.0`` and ``"2"`` are one level.

    Exports disagree on whether a level is a number or text; a standard should not have to
    know which.  ``None`` means the event carries no value (a blank counts as none).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def value_keys(values: Any) -> frozenset[str]:
    """Keys for one value or a list of values, as written in a standard."""
    listed = values if isinstance(values, Sequence) and not isinstance(values, str) else [values]
    return frozenset(key for key in map(value_key, listed) if key is not None)


def describe_values(values: Any) -> str:
    """Values for messages: ``Resolved`` or ``Resolved or Closed``."""
    listed = values if isinstance(values, Sequence) and not isinstance(values, str) else [values]
    return " or ".join(str(value) for value in listed)


def describe_event(spec: Mapping[str, Any] | None) -> str:
    """Words for an event selector, including its ``where`` fields: ``status where state=x``."""
    words = describe_selector(selector_part(spec))
    where = (spec or {}).get("where") or {}
    if where:
        words += " where " + ", ".join(
            f"{name}={describe_values(value)}" for name, value in sorted(where.items())
        )
    return words


#: Where the case status is read from; the same key, with the same meaning, as the
#: timeliness checks take, so one standard describes its statuses one way.
STATUS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "Where the case's status is read from: {field: status, events: SELECTOR}.  "
    "Each selected event that carries the field sets the status from its time on; repeating "
    "the current status is no change.  Default: field status, any event carrying it.",
    "properties": {
        "field": {
            "type": "string",
            "minLength": 1,
            "description": "The event field that carries the status (default: status).",
        },
        "events": {
            **SELECTOR_SCHEMA,
            "description": "Which events set the status (default: any event carrying the field).",
        },
    },
}

DEFAULT_REOPEN_EVENTS: Mapping[str, Any] = {"type": "reopened"}
DEFAULT_RESOLVED_STATUSES = ("resolved", "closed")

#: What counts as a reopen; the same key, with the same meaning, as the timeliness checks take.
REOPEN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "What counts as a reopen: an event matching 'events' (default: type "
    "reopened), or a change of status from one of 'resolved_statuses' to a status that is "
    "not one of them (default: resolved, closed).",
    "properties": {
        "events": {
            **SELECTOR_SCHEMA,
            "description": "Events that reopen the case (default: {type: reopened}).",
        },
        "resolved_statuses": {
            **VALUES_SCHEMA,
            "description": "Statuses in which the case is resolved or closed.  Leaving one for "
            "a status outside the list is a reopen; moving between them (resolved → closed) "
            "is not (default: resolved, closed).",
        },
    },
}


class StatusChange(NamedTuple):
    """An event that set the status to a value other than the one before it."""

    before: str | None  #: ``None`` when this is the first status the timeline records
    after: str


class StatusReader(NamedTuple):
    """Where a rule reads the case status from (the compiled ``status`` param)."""

    field: str
    carries: EventPredicate | None  #: ``None``: any event carrying the field

    @classmethod
    def compile(cls, spec: Mapping[str, Any] | None) -> StatusReader:
        spec = spec or {}
        events = spec.get("events")
        return cls(spec.get("field", "status"), compile_selector(events) if events else None)

    def changes(self, record: Record) -> list[StatusChange | None]:
        """Per event, the change of status it made; ``None`` where it made none."""
        current: str | None = None
        changes: list[StatusChange | None] = []
        for event in record.events:
            value = self.value(event)
            if value is None or value == current:
                changes.append(None)
                continue
            changes.append(StatusChange(current, value))
            current = value
        return changes

    def value(self, event: Event) -> str | None:
        if self.carries is not None and not self.carries(event):
            return None
        return value_key(event.fields.get(self.field))


class ReopenRule(NamedTuple):
    """What counts as a reopen (the compiled ``reopen`` param)."""

    is_reopen_event: EventPredicate
    resolved: frozenset[str]

    @classmethod
    def compile(cls, spec: Mapping[str, Any] | None) -> ReopenRule:
        spec = spec or {}
        return cls(
            compile_selector(spec.get("events", DEFAULT_REOPEN_EVENTS)),
            value_keys(spec.get("resolved_statuses", DEFAULT_RESOLVED_STATUSES)),
        )

    def by_status(self, before: str | None, after: str) -> bool:
        """Whether a change of status from ``before`` to ``after`` reopens the case."""
        return before in self.resolved and after not in self.resolved


def event_evidence(record: Record, index: int, label: str, detail: str = "") -> Evidence:
    """Evidence pointing at one event of the timeline."""
    return Evidence("event", label, record.events[index].at, event_index=index, detail=detail)


def reordered_note(record: Record) -> tuple[Evidence, ...]:
    """A note when the reader had to sort the events, so an auditor knows the order was fixed."""
    if record.reordered:
        return (Evidence("note", "reordered", detail="events were sorted by time"),)
    return ()
