"""Rows into records: one row per case (ticket), or rows grouped into cases (event_log).

Nothing is lost.  Every row read ends in exactly one of three places, and :class:`ReadCounts`
keeps the tally: used in a record, rejected on its own (with its line, reason and raw text),
or rejected with its whole case (one rejection naming every line of the case).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any, NamedTuple

from rulecore import Event, Record, Rejection
from rulecore.i18n import _

from ._grouping import Group, group_rows, read_case_id
from ._sources import BuiltRow, SourceRow, raw_line, render_raw
from ._spec import ColumnEvent, Mapping, Timeline, Value
from ._values import RowProblem, Scalar

MAX_NAME = 128
#: The attribute that tells an auditor a case was built without some of its rows.
REJECTED_ROWS_ATTRIBUTE = "rejected_rows"
#: The attribute that tells an auditor a record's timeline was built without some elements.
REJECTED_EVENTS_ATTRIBUTE = "rejected_events"


@dataclass
class ReadCounts:
    """How the rows and cases of one export were accounted for.

    Rows: ``rows_read == rows_used + rows_rejected + rows_in_rejected_cases``.
    Cases: ``cases_seen == cases_built + cases_rejected + cases_emptied``.  For a ticket
    export a row is a case, so a rejected row is counted under ``rows_rejected`` only.  A
    timeline under ``drop_event`` leaves bad elements out of a record that is still built:
    ``events_dropped`` counts them, and each of the ``rows_with_dropped_events`` yields one
    rejection besides its record.
    """

    rows_read: int = 0
    rows_used: int = 0
    rows_rejected: int = 0
    rows_in_rejected_cases: int = 0
    cases_built: int = 0
    cases_rejected: int = 0
    cases_emptied: int = 0
    cases_reordered: int = 0
    blank_lines: int = 0
    events_dropped: int = 0
    rows_with_dropped_events: int = 0

    @property
    def cases_seen(self) -> int:
        return self.cases_built + self.cases_rejected + self.cases_emptied

    @property
    def reconciles(self) -> bool:
        """True when every row read is accounted for."""
        return self.rows_read == self.rows_used + self.rows_rejected + self.rows_in_rejected_cases

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "cases_seen": self.cases_seen}


class CaseEvent(NamedTuple):
    """A column event as one row gives it: when, by whom, with which fields."""

    at: datetime
    actor: str
    fields: dict[str, Any]


class ParsedRow(NamedTuple):
    """One readable row: its activity event, owner, attributes and column events."""

    line: int
    raw: Any
    at: datetime | None
    event: Event | None
    owner: Scalar
    attributes: tuple[Scalar, ...]
    column_events: tuple[CaseEvent | None, ...]


# ---------------------------------------------------------------------------------------------
# reading one row
# ---------------------------------------------------------------------------------------------


class RowReader:
    """Reads every value the mapping names out of one row, collecting all its problems."""

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping

    def __call__(self, row: SourceRow) -> tuple[ParsedRow | None, list[str]]:
        mapping, values = self.mapping, row.values
        problems: list[str] = []
        at, event = self._activity(values, problems)
        owner: Scalar = None
        assignment = mapping.assignment
        if assignment is not None:
            owner = _attempt(problems, assignment.owner.read, values)
            if owner is None:
                owner = assignment.unassigned
        attributes = tuple(
            _attempt(problems, value.read, values) for _attribute, value in mapping.attributes
        )
        column_events = tuple(
            _attempt(problems, column_event, spec, values) for spec in mapping.events
        )
        if problems:
            return None, problems
        return ParsedRow(row.line, row.raw, at, event, owner, attributes, column_events), []

    def _activity(
        self, values: Sequence[Any], problems: list[str]
    ) -> tuple[datetime | None, Event | None]:
        activity = self.mapping.activity
        if activity is None:
            return None, None
        found = len(problems)
        at = _attempt(problems, activity.at, values)
        if at is None and len(problems) == found:
            problems.append(
                _("missing timestamp: column {column!r} is empty").format(column=activity.column)
            )
        kind = _attempt(problems, event_type, activity.type, values)
        actor = _attempt(problems, actor_name, activity.actor, values)
        fields = _attempt(problems, _fields, activity.fields, values)
        if len(problems) > found:
            return None, None
        return at, Event(at=at, type=kind, actor=actor, fields=fields)


def _attempt(problems: list[str], read: Callable[..., Any], *arguments: Any) -> Any:
    """``read(*arguments)``, or ``None`` with its problem noted, so a row reports all of them."""
    try:
        return read(*arguments)
    except RowProblem as problem:
        problems.append(str(problem))
        return None


def event_type(spec: Value, values: Sequence[Any]) -> str:
    return _name(spec.read(values), "event type")


def _name(value: Scalar, what: str) -> str:
    if value is None:
        raise RowProblem(_("no {what}: its column is empty").format(what=what))
    text = value if isinstance(value, str) else str(value)
    if not 1 <= len(text) <= MAX_NAME:
        raise RowProblem(
            _("{what} too long: {start!r}... is over {limit} characters").format(
                what=what, start=text[:40], limit=MAX_NAME
            )
        )
    return text


def actor_name(spec: Value | None, values: Sequence[Any]) -> str:
    if spec is None:
        return "system"
    value = spec.read(values)
    return "system" if value is None else _name(value, "actor")


def _fields(specs: Sequence[tuple[str, Value]], values: Sequence[Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, spec in specs:
        value = spec.read(values)
        if value is not None:
            fields[name] = value
    return fields


def column_event(spec: ColumnEvent, values: Sequence[Any]) -> CaseEvent | None:
    at = spec.at(values)
    if at is None or (spec.when is not None and spec.when.read(values) is None):
        return None
    return CaseEvent(at, actor_name(spec.actor, values), _fields(spec.fields, values))


def order_problems(mapping: Mapping, events: Sequence[Event]) -> list[str]:
    """Pairs of events in an impossible order, such as closed before opened."""
    first: dict[str, datetime] = {}
    for event in events:
        first.setdefault(event.type, event.at)
    problems = []
    for later, earlier in mapping.not_before:
        if later in first and earlier in first and first[later] < first[earlier]:
            problems.append(
                _(
                    "impossible order: {later} ({later_at}) is before {earlier} ({earlier_at})"
                ).format(
                    later=later,
                    later_at=first[later].isoformat(),
                    earlier=earlier,
                    earlier_at=first[earlier].isoformat(),
                )
            )
    return problems


# ---------------------------------------------------------------------------------------------
# ticket: one row, one case
# ---------------------------------------------------------------------------------------------


def ticket_items(
    rows: Iterable[SourceRow | BuiltRow | Rejection],
    mapping: Mapping,
    source: str,
    counts: ReadCounts,
) -> Iterator[Record | Rejection]:
    """One record or rejection per row, in file order."""
    read_row = RowReader(mapping)
    timeline = mapping.timeline
    first_line: dict[str, int] = {}
    for row in rows:
        counts.rows_read += 1
        if isinstance(row, Rejection):
            counts.rows_rejected += 1
            yield row
            continue
        if isinstance(row, BuiltRow):
            yield _built_item(row, first_line, mapping, source, counts)
            continue
        parsed, problems = read_row(row)
        record_id = _attempt(problems, read_case_id, row, mapping)
        nested: Nested = _NO_TIMELINE
        if timeline is not None:
            nested = _attempt(problems, read_timeline, timeline, row.values) or _NO_TIMELINE
            if nested.problems and timeline.on_event_error == "reject_record":
                problems += nested.problems
        record = None
        if parsed is not None and record_id is not None:
            record = ticket_record(record_id, parsed, mapping, nested)
            problems += order_problems(mapping, record.events)
        if record_id is not None and not problems:
            if record_id in first_line:
                problems.append(
                    _("duplicate case id: {id!r} was already used on line {line}").format(
                        id=record_id, line=first_line[record_id]
                    )
                )
            else:
                first_line[record_id] = row.line
        if problems or record is None:
            counts.rows_rejected += 1
            yield Rejection(
                source, row.line, "; ".join(problems), render_raw(row.raw, mapping.delimiter)
            )
            continue
        if nested.problems:  # dropped elements, under drop_event
            counts.events_dropped += len(nested.problems)
            counts.rows_with_dropped_events += 1
            yield _dropped_events(record_id, nested, row, mapping, source)
        counts.rows_used += 1
        counts.cases_built += 1
        yield record


def _built_item(
    row: BuiltRow, first_line: dict[str, int], mapping: Mapping, source: str, counts: ReadCounts
) -> Record | Rejection:
    """A record a compiled reader built: only its id can still be a problem."""
    record_id = row.record.id
    if record_id in first_line:
        counts.rows_rejected += 1
        return Rejection(
            source,
            row.line,
            _("duplicate case id: {id!r} was already used on line {line}").format(
                id=record_id, line=first_line[record_id]
            ),
            raw_line(row.text, mapping),
        )
    first_line[record_id] = row.line
    counts.rows_used += 1
    counts.cases_built += 1
    return row.record


def _dropped_events(
    record_id: str, nested: Nested, row: SourceRow, mapping: Mapping, source: str
) -> Rejection:
    dropped = len(nested.problems)
    total = dropped + len(nested.events)
    return Rejection(
        source,
        row.line,
        _(
            "events dropped: {dropped} of the {total} events of {id!r} cannot be read and "
            "were left out of its timeline ({problems})"
        ).format(dropped=dropped, total=total, id=record_id, problems="; ".join(nested.problems)),
        render_raw(row.raw, mapping.delimiter),
    )


def ticket_record(record_id: str, parsed: ParsedRow, mapping: Mapping, nested: Nested) -> Record:
    attributes: dict[str, Scalar] = {
        name: value
        for (name, _spec), value in zip(mapping.attributes, parsed.attributes, strict=True)
        if value is not None
    }
    events = [
        Event(at=found.at, type=spec.type, actor=found.actor, fields=found.fields)
        for spec, found in zip(mapping.events, parsed.column_events, strict=True)
        if found is not None
    ]
    if nested.problems:
        attributes[REJECTED_EVENTS_ATTRIBUTE] = len(nested.problems)
    if not events:
        return Record(record_id, attributes, nested.events, nested.reordered)
    # Columns are not listed in time order, so sorting them is not a reordering of the source;
    # a timeline is, so only its own order decides whether the record was reordered.
    events += nested.events
    events.sort(key=event_time)
    return Record(record_id, attributes, tuple(events), nested.reordered)


def in_time_order(events: Sequence[Event]) -> bool:
    moments = [event.at for event in events]
    return all(map(operator.le, moments, moments[1:]))


# ---------------------------------------------------------------------------------------------
# ticket: a timeline array inside the line
# ---------------------------------------------------------------------------------------------


class Nested(NamedTuple):
    """A line's timeline: its readable elements as events, in time order, and the problems
    of the rest (one text per bad element)."""

    events: tuple[Event, ...]
    problems: list[str]
    reordered: bool = False  #: the array did not list its events in time order


_NO_TIMELINE = Nested((), [])
_JSON_KINDS = {str: "text", int: "a number", float: "a number", bool: "true or false"}


def read_timeline(timeline: Timeline, values: Sequence[Any]) -> Nested:
    """Every element of the line's array as an event; raise :class:`RowProblem` when the
    line has no array to read."""
    array = values[timeline.position]
    if not isinstance(array, list):
        what = (
            "missing"
            if array is None
            else "an object"
            if isinstance(array, dict)
            else _JSON_KINDS.get(type(array), type(array).__name__)
        )
        raise RowProblem(
            _("no timeline: key {key!r} is {what}, not an array of event objects").format(
                key=timeline.key, what=what
            )
        )
    keys, at = timeline.keys, timeline.at
    read_type = timeline.type.read
    read_actor = timeline.actor.read if timeline.actor is not None else None
    fields = tuple((name, value.read) for name, value in timeline.fields)
    events: list[Event] = []
    problems: list[str] = []
    for index, element in enumerate(array):
        if not isinstance(element, dict):
            problems.append(
                _("{key}[{index}]: not a JSON object").format(key=timeline.key, index=index)
            )
            continue
        element_values = tuple(map(element.get, keys))
        # This loop runs for every event of the export: event_type, actor_name and _fields are
        # inlined for names that are plain text of a sensible length; anything else takes
        # their path, which words the problem.
        try:
            moment = at(element_values)
            kind = read_type(element_values)
            if not (isinstance(kind, str) and 0 < len(kind) <= MAX_NAME):
                kind = _name(kind, "event type")
            actor = "system" if read_actor is None else read_actor(element_values)
            if actor is None:
                actor = "system"
            elif not (isinstance(actor, str) and 0 < len(actor) <= MAX_NAME):
                actor = _name(actor, "actor")
            found = {}
            for name, read in fields:
                value = read(element_values)
                if value is not None:
                    found[name] = value
        except RowProblem:
            problems.append(
                f"{timeline.key}[{index}]: {_element_problems(timeline, element_values)}"
            )
            continue
        events.append(Event(at=moment, type=kind, actor=actor, fields=found))  # type: ignore[arg-type]
    reordered = not in_time_order(events)
    if reordered:
        events.sort(key=event_time)  # stable: elements at the same moment keep array order
    return Nested(tuple(events), problems, reordered)


def _element_problems(timeline: Timeline, values: Sequence[Any]) -> str:
    """Every problem of a bad element, not only the first (the slow path, for bad ones only)."""
    problems: list[str] = []
    _attempt(problems, timeline.at, values)
    _attempt(problems, event_type, timeline.type, values)
    _attempt(problems, actor_name, timeline.actor, values)
    _attempt(problems, _fields, timeline.fields, values)
    return "; ".join(problems)


def event_time(event: Event) -> datetime:
    return event.at


# ---------------------------------------------------------------------------------------------
# event log: many rows, one case
# ---------------------------------------------------------------------------------------------


def event_log_items(
    rows: Iterable[SourceRow | Rejection],
    mapping: Mapping,
    source: str,
    counts: ReadCounts,
    case_ids: list[str] | None = None,
) -> Iterator[Record | Rejection]:
    """Records built case by case, with rejections for the rows and cases that cannot be."""
    read_row = RowReader(mapping)
    for item in group_rows(rows, mapping, source, case_ids):
        if isinstance(item, Rejection):
            counts.rows_read += 1
            counts.rows_rejected += 1
            yield item
            continue
        counts.rows_read += len(item.rows)
        yield from _case_items(item, read_row, mapping, source, counts)


def _case_items(
    group: Group, read_row: RowReader, mapping: Mapping, source: str, counts: ReadCounts
) -> Iterator[Record | Rejection]:
    good: list[ParsedRow] = []
    bad: list[tuple[SourceRow, list[str]]] = []
    for row in group.rows:
        parsed, problems = read_row(row)
        if parsed is None:
            bad.append((row, problems))
        else:
            good.append(parsed)
    if group.problem is not None:
        yield _reject_case(group, group.problem, mapping, source, counts)
        return
    if bad and mapping.on_row_error == "reject_case":
        reasons = "; ".join(
            _("line {line}: {problems}").format(line=row.line, problems="; ".join(problems))
            for row, problems in bad
        )
        why = _("{bad} of its rows cannot be read ({reasons})").format(
            bad=len(bad), reasons=reasons
        )
        yield _reject_case(group, why, mapping, source, counts)
        return
    if not good:
        for row, problems in bad:
            counts.rows_rejected += 1
            yield _reject_row(row, problems, mapping, source)
        counts.cases_emptied += 1
        return
    record, reordered = _case_record(group.case_id, good, mapping, len(bad))
    impossible = order_problems(mapping, record.events)
    if impossible:
        yield _reject_case(group, "; ".join(impossible), mapping, source, counts)
        return
    for row, problems in bad:
        counts.rows_rejected += 1
        yield _reject_row(row, problems, mapping, source)
    counts.rows_used += len(good)
    counts.cases_built += 1
    counts.cases_reordered += reordered
    yield record


def _reject_row(row: SourceRow, problems: list[str], mapping: Mapping, source: str) -> Rejection:
    return Rejection(source, row.line, "; ".join(problems), render_raw(row.raw, mapping.delimiter))


def _reject_case(
    group: Group, reason: str, mapping: Mapping, source: str, counts: ReadCounts
) -> Rejection:
    counts.cases_rejected += 1
    counts.rows_in_rejected_cases += len(group.rows)
    lines = line_ranges(row.line for row in group.rows)
    rows = "row" if len(group.rows) == 1 else "rows"
    return Rejection(
        source,
        group.rows[0].line,
        _("case rejected whole: {id!r} ({count} {rows}, lines {lines}): {reason}").format(
            id=group.case_id, count=len(group.rows), rows=rows, lines=lines, reason=reason
        ),
        "\n".join(render_raw(row.raw, mapping.delimiter) for row in group.rows),
    )


def _case_record(
    case_id: str, rows: list[ParsedRow], mapping: Mapping, rejected_rows: int
) -> tuple[Record, bool]:
    in_order = all(
        earlier.at <= later.at  # type: ignore[operator]
        for earlier, later in pairwise(rows)
    )
    if not in_order:
        rows = sorted(rows, key=_row_time)  # stable: rows at the same moment keep file order
    attributes: dict[str, Scalar] = {}
    for index, (name, spec) in enumerate(mapping.attributes):
        value = _pick((row.attributes[index] for row in rows), spec.pick)
        if value is not None:
            attributes[name] = value
    if rejected_rows:
        attributes[REJECTED_ROWS_ATTRIBUTE] = rejected_rows
    events: list[Event] = []
    for index, mapped in enumerate(mapping.events):
        found = _pick((row.column_events[index] for row in rows), mapped.pick)
        if found is not None:
            events.append(
                Event(at=found.at, type=mapped.type, actor=found.actor, fields=found.fields)
            )
    events += _row_events(rows, mapping)
    events.sort(key=event_time)
    return Record(
        id=case_id, attributes=attributes, events=tuple(events), reordered=not in_order
    ), not in_order


def _row_events(rows: Sequence[ParsedRow], mapping: Mapping) -> list[Event]:
    """Each row's activity event, and an assignment event wherever the owner changes."""
    assignment = mapping.assignment
    events: list[Event] = []
    owner: Scalar = None
    for row in rows:
        if row.event is not None:
            events.append(row.event)
        if assignment is None or row.owner is None or row.owner == owner:
            continue
        owner = row.owner
        # The row's own actor made the change: an update that also moved the case.
        actor = row.event.actor if row.event is not None else "system"
        events.append(
            Event(
                at=row.at,  # type: ignore[arg-type]
                type=assignment.type,
                actor=actor,
                fields={assignment.field: owner},
            )
        )
    return events


def _row_time(row: ParsedRow) -> datetime:
    return row.at  # type: ignore[return-value]


def _pick(values: Iterable[Any], pick: str) -> Any:
    """The first or last value that is not missing."""
    found = None
    for value in values:
        if value is None:
            continue
        if pick == "first":
            return value
        found = value
    return found


def line_ranges(lines: Iterable[int]) -> str:
    """Line numbers as compact ranges: ``2-7, 10``."""
    ordered = sorted(set(lines))
    parts: list[str] = []
    start = previous = None
    for line in ordered:
        if previous is not None and line == previous + 1:
            previous = line
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = line
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}-{previous}")
    return ", ".join(parts)
