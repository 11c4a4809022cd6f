"""Event selectors: which events in a timeline a check is talking about.

A selector is data in a standard, never code::

    {type: message, actor: agent}
    {type: [resolved, closed], where: {status: done}}

It compiles once into a predicate over :class:`~rulecore.Event`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._i18n import _
from ._model import Event, Record

EventPredicate = Callable[[Event], bool]

#: JSON Schema for a selector, for checks to embed in their parameter schemas.
SELECTOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "type": {"$ref": "#/$defs/names"},
        "actor": {"$ref": "#/$defs/names"},
        "where": {
            "type": "object",
            "description": "Event fields that must equal these values (a list means any of).",
            "additionalProperties": {
                "oneOf": [
                    {"type": ["string", "number", "boolean", "null"]},
                    {"type": "array", "items": {"type": ["string", "number", "boolean", "null"]}},
                ]
            },
        },
    },
    "$defs": {
        "names": {
            "oneOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        }
    },
}


def _as_set(value: str | Sequence[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset((value,))
    return frozenset(value)


def compile_selector(spec: Mapping[str, Any] | None) -> EventPredicate:
    """Compile a selector mapping into a predicate; an empty selector matches every event.

    The predicate is specialised to the parts the selector uses, because it runs for every
    event of every record: a type-only selector is one set lookup.
    """
    spec = spec or {}
    types = _as_set(spec.get("type"))
    actors = _as_set(spec.get("actor"))
    where = tuple(
        (name, frozenset(value) if isinstance(value, list) else frozenset((value,)))
        for name, value in (spec.get("where") or {}).items()
    )
    if not where:
        if types is not None and actors is not None:
            return lambda event: event.type in types and event.actor in actors
        if types is not None:
            return lambda event: event.type in types
        if actors is not None:
            return lambda event: event.actor in actors
        return lambda event: True

    def matches(event: Event) -> bool:
        if types is not None and event.type not in types:
            return False
        if actors is not None and event.actor not in actors:
            return False
        fields = event.fields
        return all(_is_one_of(fields.get(name), allowed) for name, allowed in where)

    return matches


def _is_one_of(value: Any, allowed: frozenset[Any]) -> bool:
    """Whether an event field's value is one of ``allowed``; a list or an object in the
    record (which cannot be hashed) is never equal to the text or number a standard gives."""
    try:
        return value in allowed
    except TypeError:
        return False


def selector_types(spec: Mapping[str, Any] | None) -> frozenset[str] | None:
    """The event types a selector picks when it says nothing but ``type``; else ``None``.

    Such a selector can be answered from a record's :func:`rulecore.timeline_index` by
    position, with no walk over the events.
    """
    spec = spec or {}
    if set(spec) != {"type"}:
        return None
    return _as_set(spec["type"])


def describe_selector(spec: Mapping[str, Any] | None) -> str:
    """Words for a selector, for messages: ``message by agent``."""
    spec = spec or {}
    kind = spec.get("type", "any event")
    words = kind if isinstance(kind, str) else _(" or ").join(kind)
    actor = spec.get("actor")
    if actor:
        actors = actor if isinstance(actor, str) else _(" or ").join(actor)
        words = _("{type} by {actor}").format(type=words, actor=actors)
    return str(words)


def find_event(
    record: Record,
    predicate: EventPredicate,
    occurrence: str = "first",
    after: int = -1,
) -> int | None:
    """Index of the first or last matching event after index ``after``; ``None`` if none."""
    events = record.events
    if occurrence == "last":
        for index in range(len(events) - 1, after, -1):
            if predicate(events[index]):
                return index
        return None
    for index in range(after + 1, len(events)):
        if predicate(events[index]):
            return index
    return None
