"""Event selectors: which events in a timeline a check is talking about.

A selector is data in a standard, never code::

    {type: message, actor: agent}
    {type: [resolved, closed], where: {status: done}}
    {type: "escalat*", actor: "bot-?", where: {queue: "[Tt]ier*"}}

It compiles once into a predicate over :class:`~rulecore.Event`.

**Patterns.**  Wherever a standard lists names or values to match (a selector's ``type``,
``actor`` and ``where`` values; a clock's statuses, such as ``pause.while``), a text with
``*``, ``?`` or ``[`` is a pattern with :func:`fnmatch.fnmatchcase` meaning: ``*`` any run of
characters, ``?`` one character, ``[seq]`` and ``[!seq]`` one character in or not in ``seq``;
letter case counts, and the pattern must match the whole value.  Any other text, and every
number, matches itself only.  A list without patterns stays a plain ``frozenset``, so
``value in listed`` is one hash look-up; with one it is a :class:`Patterns`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
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
            "description": (
                "Event fields that must equal these values (a list means any of; a text with "
                "*, ? or [ is a pattern, such as Wait*)."
            ),
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


#: The characters that make a listed text a pattern (:func:`fnmatch.fnmatchcase`).
WILDCARDS = frozenset("*?[")
#: How many values' answers a :class:`Patterns` remembers (a type, actor or status is one of
#: a handful of values; this bounds it when a field holds free text).
_ANSWERS_KEPT = 4096


def is_pattern(value: object) -> bool:
    """Whether a listed value is a pattern: a text with ``*``, ``?`` or ``[``."""
    return isinstance(value, str) and not WILDCARDS.isdisjoint(value)


class Patterns(frozenset[Any]):
    """Values as a standard listed them, some of them patterns such as ``Wait*``.

    ``value in patterns`` is true for a value listed as it is, or a text that a pattern
    matches (see the module's docstring).  The patterns are compiled once, into one regular
    expression, and each text's answer is remembered: a timeline repeats a handful of values
    many times.
    """

    _matcher: re.Pattern[str]
    _answers: dict[str, bool]

    def __new__(cls, values: Iterable[Any]) -> Patterns:
        made = super().__new__(cls, values)
        patterns = sorted(value for value in made if is_pattern(value))
        made._matcher = re.compile("|".join(map(fnmatch.translate, patterns)))
        made._answers = {}
        return made

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str):
            return frozenset.__contains__(self, value)
        answer = self._answers.get(value)
        if answer is None:
            answer = frozenset.__contains__(self, value) or bool(self._matcher.match(value))
            if len(self._answers) < _ANSWERS_KEPT:
                self._answers[value] = answer
        return answer

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (frozenset(self),))


def matching_set(values: Iterable[Any]) -> frozenset[Any]:
    """``values`` as a set to test membership in: a :class:`Patterns` when one is a pattern,
    else a plain ``frozenset``."""
    listed = frozenset(values)
    if any(is_pattern(value) for value in listed):
        return Patterns(listed)
    return listed


def _as_set(value: str | Sequence[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return matching_set((value,))
    return matching_set(value)


def compile_selector(spec: Mapping[str, Any] | None) -> EventPredicate:
    """Compile a selector mapping into a predicate; an empty selector matches every event.

    The predicate is specialised to the parts the selector uses, because it runs for every
    event of every record: a type-only selector is one set lookup.
    """
    spec = spec or {}
    types = _as_set(spec.get("type"))
    actors = _as_set(spec.get("actor"))
    where = tuple(
        (name, matching_set(value) if isinstance(value, list) else matching_set((value,)))
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
    """The event types a selector picks when it says nothing but ``type``, and names them
    without patterns; else ``None``.

    Such a selector can be answered from a record's :func:`rulecore.timeline_index` by
    position, with no walk over the events.
    """
    spec = spec or {}
    if set(spec) != {"type"}:
        return None
    types = _as_set(spec["type"])
    return None if isinstance(types, Patterns) else types


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
