"""Scope conditions: which records a standard or rule applies to.

Conditions are data, never evaluated code::

    scope:
      - {field: channel, op: eq, value: chat}
      - any:
          - {field: priority, op: in, value: [high, urgent]}
          - {field: tier, op: eq, value: gold}

A list means all of its conditions.  Each condition compiles once into a Python closure, so a
record pays one function call per condition and no interpretation.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from ._i18n import _
from ._model import Record

RecordPredicate = Callable[[Record], bool]

OPERATORS = ("eq", "ne", "in", "not_in", "exists", "missing", "gt", "gte", "lt", "lte", "matches")

_COMPARISON: dict[str, Any] = {
    "type": "object",
    "required": ["field", "op"],
    "additionalProperties": False,
    "properties": {
        "field": {"type": "string", "minLength": 1},
        "op": {"enum": list(OPERATORS)},
        "value": {},
    },
}


def _combinator(key: str, inner: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [key],
        "additionalProperties": False,
        "properties": {key: inner},
    }


# if/then chains rather than oneOf, so a mistake is reported against the branch the author
# meant (a comparison, all, any or not), not against whichever branch failed least.
CONDITION_SCHEMA: dict[str, Any] = {
    "if": {"type": "array"},
    "then": {"items": {"$ref": "#/$defs/condition"}},
    "else": {"$ref": "#/$defs/condition"},
    "$defs": {
        "condition": {
            "type": "object",
            "if": {"required": ["field"]},
            "then": _COMPARISON,
            "else": {
                "if": {"required": ["all"]},
                "then": _combinator(
                    "all", {"type": "array", "items": {"$ref": "#/$defs/condition"}}
                ),
                "else": {
                    "if": {"required": ["any"]},
                    "then": _combinator(
                        "any", {"type": "array", "items": {"$ref": "#/$defs/condition"}}
                    ),
                    "else": _combinator("not", {"$ref": "#/$defs/condition"}),
                },
            },
        }
    },
}

_ORDERING = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def is_always(predicate: RecordPredicate) -> bool:
    """Whether ``predicate`` is the scope that lets every record through (no scope at all)."""
    return predicate is _always


def _always(_record: Record) -> bool:
    return True


def compile_scope(spec: Any) -> RecordPredicate:
    """Compile a scope (a condition or a list of them) into a record predicate."""
    if spec is None:
        return _always
    if isinstance(spec, list):
        return _all_of([compile_condition(item) for item in spec])
    return compile_condition(spec)


def _all_of(parts: list[RecordPredicate]) -> RecordPredicate:
    if not parts:
        return _always
    if len(parts) == 1:
        return parts[0]
    return lambda record: all(part(record) for part in parts)


def compile_condition(spec: Mapping[str, Any]) -> RecordPredicate:
    """Compile one condition mapping (already validated against the schema)."""
    if "all" in spec:
        return _all_of([compile_condition(item) for item in spec["all"]])
    if "any" in spec:
        parts = [compile_condition(item) for item in spec["any"]]
        return lambda record: any(part(record) for part in parts)
    if "not" in spec:
        inner = compile_condition(spec["not"])
        return lambda record: not inner(record)
    return _compile_comparison(spec["field"], spec["op"], spec.get("value"))


def _compile_comparison(field: str, op: str, value: Any) -> RecordPredicate:
    def get(record: Record) -> Any:
        return record.attribute(field)

    if op == "eq":
        return lambda record: get(record) == value
    if op == "ne":
        return lambda record: get(record) != value
    if op in ("in", "not_in"):
        if not isinstance(value, list):
            raise ValueError(
                _("operator {op!r} needs a list value, got {value!r}").format(op=op, value=value)
            )
        if any(isinstance(item, (list, dict)) for item in value):
            raise ValueError(
                _("operator {op!r} needs a flat list of values, got {value!r}").format(
                    op=op, value=value
                )
            )
        allowed = frozenset(value)
        if op == "in":
            return lambda record: get(record) in allowed
        return lambda record: get(record) not in allowed
    if op == "exists":
        return lambda record: get(record) is not None
    if op == "missing":
        return lambda record: get(record) is None
    if op == "matches":
        if not isinstance(value, str):
            raise ValueError(
                _("operator 'matches' needs a regular expression string, got {value!r}").format(
                    value=value
                )
            )
        try:
            pattern = re.compile(value)
        except re.error as error:
            raise ValueError(
                _("{value!r} is not a valid regular expression: {error}").format(
                    value=value, error=error
                )
            ) from None
        return lambda record: (
            isinstance(get(record), str) and pattern.search(get(record)) is not None
        )
    compare = _ORDERING[op]

    def ordered(record: Record) -> bool:
        actual = get(record)
        if actual is None or isinstance(actual, bool) != isinstance(value, bool):
            return False
        try:
            return bool(compare(actual, value))
        except TypeError:
            return False

    return ordered
