"""Values a standard names that never occurred in the records: a misspelt status, say.

``pause: {while: ["Wiat*"]}`` compiles and runs, and pauses nothing: no status matches.  A
rule that names an event type, actor, field value or status that no record in the whole audit
has is more often a mistake in the standard (or a mapping that spells it otherwise) than a
fact about the service, so the report says so, once, at the end.

What a rule names is read from its params as written, once, when the audit starts
(:func:`expected_values`): each selector (a mapping of ``type``, ``actor``, ``where`` and,
for an endpoint, ``status``), ``pause.while`` and ``reopen.resolved_statuses``.  Defaults a
check fills in are not the standard's words and are not watched.  While an audit runs,
:class:`Occurrences` looks at each record only as long as some value has not occurred yet, so
once every value has been seen (usually within the first records) it costs nothing; it
compares as the checks do, patterns (``Wait*``) and all.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from ._i18n import _, ngettext
from ._model import Record
from ._selectors import Patterns, matching_set
from ._timeline import field_key, timeline_index

__all__ = [
    "Expected",
    "Occurrences",
    "expected_values",
    "never_occurred_warning",
    "scorecard_lines",
]

_SELECTOR_KEYS = frozenset(("type", "actor", "where", "status"))
#: Lists of statuses, by their key and the key of the mapping they are in.
_STATUS_LISTS = frozenset((("while", "pause"), ("resolved_statuses", "reopen")))


class Expected(NamedTuple):
    """A value one rule names, and where in the events it should turn up."""

    standard: str
    rule: str
    param: str  #: where the rule names it: ``pause.while``, ``to.type``, ``steps[1].where.queue``
    compared_with: str  #: ``type``, ``actor``, or ``fields.NAME`` (statuses: as keys)
    value: Any  #: as written; a pattern such as ``Wait*`` matches as in the checks

    def as_dict(self) -> dict[str, Any]:
        return {
            "standard": self.standard,
            "rule": self.rule,
            "param": self.param,
            "compared_with": self.compared_with,
            "value": self.value,
        }


def expected_values(standard: str, rule: str, params: Mapping[str, Any]) -> list[Expected]:
    """Every value the rule's ``params`` name for events to match, in the order written."""
    status = params.get("status")
    status_field = "status"
    if isinstance(status, Mapping) and isinstance(status.get("field"), str):
        status_field = status["field"]
    found: list[Expected] = []
    for param, compared_with, value in _named(params, "", f"fields.{status_field}"):
        found.append(Expected(standard, rule, param, compared_with, value))
    return found


def _named(value: Any, path: str, status: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(value, Mapping):
        if _is_selector(value):
            yield from _selector_values(value, path, status)
        for key, inner in value.items():
            here = f"{path}.{key}" if path else str(key)
            if (key, path.rpartition(".")[2]) in _STATUS_LISTS:
                yield from ((here, status, listed) for listed in _listed(inner))
            elif not (_is_selector(value) and key in _SELECTOR_KEYS):
                yield from _named(inner, here, status)
    elif isinstance(value, list):
        for position, inner in enumerate(value):
            yield from _named(inner, f"{path}[{position}]", status)


def _is_selector(value: Mapping[str, Any]) -> bool:
    """A selector (or a transition's endpoint): ``type``, ``actor``, ``where`` or a status
    value, and nothing else."""
    keys = set(value)
    if not keys or not keys <= _SELECTOR_KEYS:
        return False
    if "status" in keys and isinstance(value["status"], Mapping):
        return False  # the ``status`` param: where statuses are read from, not a status
    return all(_is_names(value[key]) for key in ("type", "actor") if key in keys)


def _is_names(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(item, str) for item in value)
    )


def _selector_values(
    selector: Mapping[str, Any], path: str, status: str
) -> Iterator[tuple[str, str, Any]]:
    prefix = f"{path}." if path else ""
    for key in ("type", "actor"):
        if key in selector:
            yield from ((f"{prefix}{key}", key, name) for name in _listed(selector[key]))
    where = selector.get("where")
    if isinstance(where, Mapping):
        for name, values in where.items():
            for listed in _listed(values):
                yield f"{prefix}where.{name}", f"fields.{name}", listed
    if "status" in selector:
        yield from ((f"{prefix}status", status, listed) for listed in _listed(selector["status"]))


def _listed(value: Any) -> list[Any]:
    values = value if isinstance(value, list) else [value]
    return [item for item in values if item is not None and not isinstance(item, dict | list)]


class Occurrences:
    """Which of the :class:`Expected` values no record has shown yet.

    :meth:`observe` each record; :attr:`pending` is empty (and :meth:`observe` need not be
    called) once every value has occurred.  :meth:`merge` adds what another process saw.
    """

    def __init__(self, expected: Sequence[Expected]) -> None:
        self.expected = tuple(expected)
        #: by what each value is compared with: the values still to occur, as listed, each
        #: with its pattern (``None`` for a plain value, which is looked up)
        self._waiting: dict[str, dict[Any, frozenset[Any] | None]] = {}
        for item in self.expected:
            key = _as_listed(item)
            if key is not None:
                pattern = matching_set((key,))
                self._waiting.setdefault(item.compared_with, {})[key] = (
                    pattern if isinstance(pattern, Patterns) else None
                )
        self.pending = any(self._waiting.values())

    def observe(self, record: Record) -> None:
        """Note the values ``record``'s events hold; stop waiting for those that occurred."""
        for compared_with, waiting in self._waiting.items():
            if not waiting:
                continue
            seen = _values_in(record, compared_with)
            for value, pattern in list(waiting.items()):
                if pattern is None:
                    found = _holds(seen, value)
                else:
                    found = any(_holds(pattern, one) for one in seen)
                if found:
                    del waiting[value]
        self.pending = any(self._waiting.values())

    def occurred(self) -> frozenset[tuple[str, Any]]:
        """The values that occurred, as ``(compared_with, value)`` pairs."""
        return frozenset(
            (item.compared_with, key)
            for item in self.expected
            if (key := _as_listed(item)) is not None
            and key not in self._waiting.get(item.compared_with, {})
        )

    def merge(self, occurred: Iterable[tuple[str, Any]]) -> None:
        """Stop waiting for what another process saw occur (``--jobs``)."""
        for compared_with, value in occurred:
            self._waiting.get(compared_with, {}).pop(value, None)
        self.pending = any(self._waiting.values())

    def never(self) -> tuple[Expected, ...]:
        """The expected values that have not occurred, in the order the rules name them."""
        return tuple(
            item
            for item in self.expected
            if (key := _as_listed(item)) is not None
            and key in self._waiting.get(item.compared_with, {})
        )


def _as_listed(item: Expected) -> Any:
    """The value as the checks compare it: statuses as keys, the rest as written."""
    if item.compared_with in ("type", "actor"):
        return item.value if isinstance(item.value, str) else None
    if item.param.endswith(("while", "resolved_statuses", "status")):
        return field_key(item.value)
    return item.value


def _values_in(record: Record, compared_with: str) -> Collection[Any]:
    """The distinct values ``record``'s events hold for ``compared_with``."""
    if compared_with == "type":
        return timeline_index(record).by_type  # built already by the checks that use it
    events = record.events
    if compared_with == "actor":
        return {event.actor for event in events}
    name = compared_with[len("fields.") :]
    held = [event.fields.get(name) for event in events]
    texts = {value for value in held if value.__class__ is str}
    # Statuses compare as keys (2, 2.0 and "2" are one; text stripped), so both forms count.
    values: set[Any] = texts | {text.strip() for text in texts}
    for value in [value for value in held if value is not None and value.__class__ is not str]:
        if not isinstance(value, dict | list):  # a list or object is no value a rule names
            values.add(value)
            values.add(field_key(value))
    return values


def _holds(values: Collection[Any], value: Any) -> bool:
    try:
        return value in values
    except TypeError:
        return False


def _what(never: Mapping[str, Any]) -> str:
    compared_with = str(never["compared_with"])
    if compared_with == "type":
        return _("event type")
    if compared_with == "actor":
        return _("actor")
    return _("{field} value").format(field=compared_with[len("fields.") :])


#: How many values the scorecard and the warning name; the JSON report lists them all.
NAMED_AT_MOST = {"scorecard": 10, "warning": 3}


def _named_value(never: Mapping[str, Any]) -> str:
    return _("{what} {value!r}").format(what=_what(never), value=never["value"])


def _named_where(never: Mapping[str, Any]) -> str:
    return "{standard}/{rule} {param}".format(**never)


def scorecard_lines(nevers: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The scorecard's rows for the values that never occurred: (value, where it is named)."""
    shown = NAMED_AT_MOST["scorecard"]
    rows = [(_named_value(never), _named_where(never)) for never in nevers[:shown]]
    if len(nevers) > shown:
        more = _("... and {count} more (the JSON report lists them all)")
        rows.append((more.format(count=len(nevers) - shown), ""))
    return rows


def never_occurred_warning(nevers: Sequence[Mapping[str, Any]]) -> str:
    """One line for stderr about the values that never occurred."""
    shown = NAMED_AT_MOST["warning"]
    listed = ", ".join(
        _("{value} ({where})").format(value=_named_value(never), where=_named_where(never))
        for never in nevers[:shown]
    )
    if len(nevers) > shown:
        listed += _(" and {count} more").format(count=len(nevers) - shown)
    return ngettext(
        "warning: {count} value the standards name never occurred in the records, "
        "misspelt perhaps: {listed}",
        "warning: {count} values the standards name never occurred in the records, "
        "misspelt perhaps: {listed}",
        len(nevers),
    ).format(count=len(nevers), listed=listed)
