"""A compiled reader for JSON-lines ticket exports: the general path's records, sooner.

The general path decodes each line into a dict, projects the mapping's columns and reads every
value through a few layers of compiled functions, element by element.  For a ticket mapping,
:func:`compile_fast` builds once a reader that decodes a line straight into a struct of the keys
the mapping uses (the timeline's elements too), reads the common values inline (a text or
integer column without value map or default, an ISO 8601 timestamp) and builds the record with
the general path's own pieces.

It is a shortcut, never a second definition: a line holding anything it does not read exactly
as the general path would (invalid JSON, a value of another type, a bad element, a missing
marker, a placeholder date, an impossible order...) gives ``None``, and that line takes the
general path, which words its rejection.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, tzinfo
from typing import Any, NamedTuple

import msgspec
from msgspec.structs import astuple

from rulecore import Event, Record

from ._build import (
    MAX_NAME,
    Nested,
    ParsedRow,
    actor_name,
    column_event,
    event_time,
    event_type,
    in_time_order,
    order_problems,
    ticket_record,
)
from ._grouping import MAX_ID, case_id_of
from ._sources import ReadLine
from ._spec import Mapping, Timeline, Value
from ._values import Plain, ReadValue, RowProblem, Scalar

Row = Sequence[Any]
ReadEvents = Callable[[list[Any]], Nested]

#: A struct decoder skips the keys it does not know without checking that their text is UTF-8
#: or that their numbers fit a float, which the general decoder refuses.  Seen through this
#: table, a line has ``e000`` where a number may have a three-digit exponent (``1e400``,
#: ``1E+400``), and a long run of ``0`` where one may have too many digits to fit.
_SHAPES = bytes(
    ord("0") if 48 <= byte <= 57 or byte == ord("+") else ord("e") if byte in b"eE" else ord(" ")
    for byte in range(256)
)
_LONG_MANTISSA = b"0" * 210
_find_exponent = re.compile(b"e000").search  # finds it sooner than ``in`` does
_ALSO_KEPT = (int, float, bool)  # what a text value keeps as it is, besides text
_NAMES_KEPT = 4096


class _Unsure(Exception):
    """The line holds something only the general path reads exactly."""


def compile_fast(mapping: Mapping) -> ReadLine | None:
    """A reader of one JSON line into its record, or ``None`` for mappings it does not cover
    (event logs, and a timeline whose key the mapping reads as a value too)."""
    timeline = mapping.timeline
    if mapping.shape != "ticket" or (
        timeline is not None and timeline.key in set(_top_columns(mapping))
    ):
        return None
    decode = msgspec.json.Decoder(_line_struct(mapping)).decode
    build = _record_builder(mapping)

    def read_line(text: bytes) -> Record | None:
        if not _decodes_alike(text):
            return None
        try:
            values = astuple(decode(text))
        except (msgspec.DecodeError, RecursionError):
            return None
        try:
            return build(values)
        except (RowProblem, _Unsure):
            return None

    return read_line


def _decodes_alike(text: bytes) -> bool:
    """Whether the general decoder accepts ``text`` wherever a struct decoder does."""
    if not text.isascii():
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            return False
    shapes = text.translate(_SHAPES)
    return _find_exponent(shapes) is None and _LONG_MANTISSA not in shapes


def _top_columns(mapping: Mapping) -> Iterator[str | None]:
    yield mapping.case_id.column
    for _name, value in mapping.attributes:
        yield value.column
    for event in mapping.events:
        yield event.column
        for extra in (event.actor, event.when, *(field for _name, field in event.fields)):
            if extra is not None:
                yield extra.column


def _struct(name: str, keys: Sequence[str], types: Sequence[Any]) -> type[msgspec.Struct]:
    """A struct whose fields are ``keys`` in order, so ``astuple`` gives a projected row."""
    fields = [
        (f"f{index}", kind) if kind is not Any else (f"f{index}", kind, None)
        for index, kind in enumerate(types)
    ]
    rename = {f"f{index}": key for index, key in enumerate(keys)}
    # Decoded JSON holds no cycles, so the collector need not track these.
    return msgspec.defstruct(name, fields, kw_only=True, rename=rename, gc=False)


def _line_struct(mapping: Mapping) -> type[msgspec.Struct]:
    types: list[Any] = [Any] * len(mapping.columns)
    timeline = mapping.timeline
    if timeline is not None:
        element = _struct("Element", timeline.keys, [Any] * len(timeline.keys))
        types[timeline.position] = list[element]  # type: ignore[valid-type]
    return _struct("Line", mapping.columns, types)


# ---------------------------------------------------------------------------------------------
# the record
# ---------------------------------------------------------------------------------------------


def _record_builder(mapping: Mapping) -> Callable[[Row], Record]:
    read_id = _id_reader(mapping)
    read_attributes = _fields_reader(mapping.attributes)
    names = tuple(name for name, _value in mapping.attributes)
    events = mapping.events
    timeline = mapping.timeline
    read_events = _events_reader(timeline) if timeline is not None else None
    no_timeline = Nested((), [])
    check_order = bool(mapping.not_before)

    def build(values: Row) -> Record:
        record_id = read_id(values)
        attributes = read_attributes(values)
        nested = no_timeline
        if read_events is not None:
            nested = read_events(values[timeline.position])  # type: ignore[union-attr]
        if events:
            found = tuple(column_event(spec, values) for spec in events)
            parsed = ParsedRow(0, None, None, None, None, tuple(map(attributes.get, names)), found)
            record = ticket_record(record_id, parsed, mapping, nested)
        else:  # what ticket_record builds from a timeline alone
            record = Record(record_id, attributes, nested.events, nested.reordered)
        if check_order and order_problems(mapping, record.events):
            raise _Unsure
        return record

    return build


def _id_reader(mapping: Mapping) -> Callable[[Row], str]:
    plain = _bare(mapping.case_id)
    if plain is None or plain.kind != "text":
        return lambda values: case_id_of(values, mapping)
    return _text_reader(plain, 0, MAX_ID, lambda values: case_id_of(values, mapping))


def _text_reader(
    plain: Plain, shortest: int, longest: int, general: Callable[[Row], str]
) -> Callable[[Row], str]:
    """A plain text column read inline: trimmed, neither a missing marker nor of a length
    outside ``shortest``..``longest``; anything else goes to the ``general`` reader, which
    words the problem or applies the rest of the value's spec."""
    index, markers = plain.position, plain.missing

    def read_text(values: Row) -> str:
        raw = values[index]
        if type(raw) is str:
            text = raw.strip()
            if shortest <= len(text) <= longest and text not in markers:
                return text
        return general(values)

    return read_text


def _events_reader(timeline: Timeline) -> ReadEvents:
    read_event = _event_reader(timeline)
    read_plain = _plain_events_reader(timeline, read_event)
    if read_plain is not None:
        return read_plain

    def read_events(elements: list[Any]) -> Nested:
        return _nested([read_event(astuple(element)) for element in elements])

    return read_events


def _nested(events: list[Event]) -> Nested:
    reordered = not in_time_order(events)
    if reordered:
        events.sort(key=event_time)  # stable, as on the general path
    return Nested(tuple(events), [], reordered)


def _event_reader(timeline: Timeline) -> Callable[[Row], Event]:
    """One element's event, each value read inline where it is plain."""
    read_at = _moment_reader(timeline)
    read_type = _type_reader(timeline.type)
    read_actor = _actor_reader(timeline.actor)
    read_fields = _fields_reader(timeline.fields)

    def read_event(values: Row) -> Event:
        return Event(
            at=read_at(values),
            type=read_type(values),
            actor=read_actor(values),
            fields=read_fields(values),
        )

    return read_event


def _plain_events_reader(
    timeline: Timeline, read_event: Callable[[Row], Event]
) -> ReadEvents | None:
    """The events of a timeline whose every value is plain and whose timestamp is read as
    ISO 8601 first, in one loop: what most exports run per element, so nothing is called that
    need not be.  An element it is not sure of goes to ``read_event``."""
    plan = _plain_plan(timeline)
    if plan is None:
        return None
    at_index, at_missing, zone, earliest, latest = plan.at
    # A marker that is no ISO 8601 timestamp (the usual "", "n/a") fails fromisoformat anyway.
    at_missing = frozenset(marker for marker in at_missing if _is_iso(marker))
    type_index, type_missing = plan.type
    actor_index, actor_missing, no_actor = plan.actor
    fields = plan.fields
    fromisoformat = datetime.fromisoformat

    # Exports repeat a few names (types, actors, queues) on every line: each distinct text is
    # cleaned and checked once.
    names = _Names(type_missing, "", MAX_NAME)
    actors = _Names(actor_missing, no_actor, MAX_NAME)
    texts = tuple(
        (field, index, _Names(missing, None, None) if text_kind else None, read)
        for field, index, text_kind, missing, read in fields
    )

    def read_events(elements: list[Any]) -> Nested:
        events = []
        for element in elements:
            values = astuple(element)
            raw_at, name = values[at_index], values[type_index]
            name = names[name] if type(name) is str else ""
            who = None if actor_index < 0 else values[actor_index]
            who = actors[who] if type(who) is str else no_actor if who is None else ""
            if type(raw_at) is not str or not name or not who:
                events.append(read_event(values))
                continue
            text = raw_at.strip()
            try:
                moment = fromisoformat(text)
            except ValueError:
                events.append(read_event(values))
                continue
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            if (
                (at_missing and text in at_missing)
                or (earliest is not None and moment < earliest)
                or (latest is not None and moment > latest)
            ):
                events.append(read_event(values))
                continue
            found: dict[str, Any] = {}
            for field, index, seen, read in texts:  # _plain_fields, inline: once per element
                raw = values[index]
                kind = type(raw)
                if kind is str and seen is not None:
                    clean = seen[raw]
                    if clean is not None:
                        found[field] = clean
                elif kind is int or (seen is not None and kind in _ALSO_KEPT):
                    found[field] = raw
                elif raw is not None and (value := read(values)) is not None:
                    found[field] = value
            events.append(Event(at=moment, type=name, actor=who, fields=found))
        return _nested(events)

    return read_events


class _Names(dict[str, "str | None"]):
    """Texts as a plain value reads them, each distinct text cleaned once: stripped, or
    ``missing`` for a missing marker, or ``""`` when it is no name (empty, or longer than
    ``longest``).  Bounded, so that unique texts cost no memory."""

    def __init__(self, markers: frozenset[str], missing: str | None, longest: int | None) -> None:
        super().__init__()
        self.markers, self.missing, self.longest = markers, missing, longest

    def __missing__(self, raw: str) -> str | None:
        text = raw.strip()
        clean: str | None = text
        if text in self.markers:
            clean = self.missing
        elif self.longest is not None and not 0 < len(text) <= self.longest:
            clean = ""
        if len(self) >= _NAMES_KEPT:
            self.clear()
        self[raw] = clean
        return clean


def _is_iso(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


class _PlainPlan(NamedTuple):
    at: tuple[int, frozenset[str], tzinfo, datetime | None, datetime | None]
    type: tuple[int, frozenset[str]]
    actor: tuple[int, frozenset[str], str]  #: place -1: no actor key; then what is missing

    fields: tuple[tuple[str, int, bool, frozenset[str], ReadValue], ...]


def _plain_plan(timeline: Timeline) -> _PlainPlan | None:
    """Where each value of a timeline is and how it is read, when all of them are plain (the
    actor may have a default)."""
    iso, kind = timeline.iso_at, _bare(timeline.type)
    fields = [(name, _bare(spec), spec.read) for name, spec in timeline.fields]
    actor = timeline.actor.plain if timeline.actor is not None else None
    if iso is None or kind is None or kind.kind != "text":
        return None
    if any(plain is None or plain.required for _name, plain, _read in fields):
        return None
    actor_place: tuple[int, frozenset[str], str] = (-1, frozenset(), "system")
    if timeline.actor is not None:
        default = "system" if actor is None or actor.default is None else actor.default
        if actor is None or actor.kind != "text" or actor.required or not _is_name(default):
            return None
        actor_place = (actor.position, actor.missing, default)  # type: ignore[assignment]
    return _PlainPlan(
        (timeline.keys.index(timeline.at_key), *iso),
        (kind.position, kind.missing),
        actor_place,
        tuple(
            (name, plain.position, plain.kind == "text", plain.missing, read)
            for name, plain, read in fields
            if plain is not None
        ),
    )


def _bare(value: Value) -> Plain | None:
    """A plain value without a default: what most inline readings handle."""
    plain = value.plain
    return plain if plain is not None and plain.default is None else None


def _is_name(value: Scalar) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_NAME


def _moment_reader(timeline: Timeline) -> Callable[[Row], datetime]:
    general = timeline.at
    iso = timeline.iso_at
    if iso is None:
        return general  # type: ignore[return-value]  # required: never None
    index = timeline.keys.index(timeline.at_key)
    missing, zone, earliest, latest = iso
    fromisoformat = datetime.fromisoformat

    def read_at(values: Row) -> datetime:
        raw = values[index]
        if type(raw) is str:
            text = raw.strip()
            try:
                moment = fromisoformat(text)
            except ValueError:
                return general(values)  # type: ignore[return-value]
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            if (
                text not in missing
                and (earliest is None or moment >= earliest)
                and (latest is None or moment <= latest)
            ):
                return moment
        return general(values)  # type: ignore[return-value]

    return read_at


def _type_reader(spec: Value) -> Callable[[Row], str]:
    plain = _bare(spec)
    if plain is None or plain.kind != "text":
        return lambda values: event_type(spec, values)
    return _text_reader(plain, 1, MAX_NAME, lambda values: event_type(spec, values))


def _actor_reader(spec: Value | None) -> Callable[[Row], str]:
    if spec is None:
        return lambda _values: "system"
    plain = _bare(spec)
    if plain is None or plain.kind != "text" or plain.required:
        return lambda values: actor_name(spec, values)
    index, missing = plain.position, plain.missing

    def read_actor(values: Row) -> str:
        raw = values[index]
        if raw is None:
            return "system"
        if type(raw) is str:
            text = raw.strip()
            if text in missing:
                return "system"
            if 0 < len(text) <= MAX_NAME:
                return text
        return actor_name(spec, values)

    return read_actor


def _fields_reader(specs: Sequence[tuple[str, Value]]) -> Callable[[Row], dict[str, Any]]:
    """Named values, those missing left out, in their order: event fields and attributes."""
    bare = [(name, _bare(spec), spec.read) for name, spec in specs]
    plain = tuple(
        (
            name,
            found.position,
            _Names(found.missing, None, None) if found.kind == "text" else None,
            read,
        )
        for name, found, read in bare
        if found is not None and not found.required
    )
    general = tuple((name, read) for name, found, read in bare if found is None or found.required)
    order = tuple(name for name, _spec in specs)

    def read_fields(values: Row) -> dict[str, Any]:
        fields = _plain_fields(plain, values)
        for name, read in general:
            value = read(values)
            if value is not None:
                fields[name] = value
        if general and len(fields) > 1:
            return {name: fields[name] for name in order if name in fields}
        return fields

    return read_fields


PlainFields = tuple[tuple[str, int, "_Names | None", ReadValue], ...]


def _plain_fields(plain: PlainFields, values: Row) -> dict[str, Any]:
    """Plain text (cleaned by its ``_Names``) and integer values, inline where they hold what
    such values usually hold (text, a whole number); read by their compiled reader if not."""
    fields: dict[str, Any] = {}
    for name, index, texts, read in plain:
        raw = values[index]
        kind = type(raw)
        if kind is str and texts is not None:
            clean = texts[raw]
            if clean is not None:
                fields[name] = clean
        elif kind is int or (texts is not None and kind in _ALSO_KEPT):
            fields[name] = raw
        elif raw is not None:
            value = read(values)
            if value is not None:
                fields[name] = value
    return fields
