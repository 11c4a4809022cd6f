"""Loading a mapping file: YAML, schema, then compiled readers for every value it names.

Every problem is reported at ``file:line:col`` through :class:`rulecore.StandardsInvalid`,
all at once.  A compiled :class:`Mapping` refers to columns by position in a projected row
(``columns``), so reading a row costs one tuple of the columns the mapping uses.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping as MappingABC
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rulecore import Location, SourceError, StandardsInvalid
from rulecore._standards import schema_errors
from rulecore._yaml import Document, load_yaml_file
from rulecore.i18n import _

from ._timestamps import ParseTimestamp, compile_format, compile_formats, in_utc, within
from ._values import (
    IsoMoment,
    Plain,
    ReadMoment,
    ReadValue,
    column_moment,
    column_value,
    constant,
)

DEFAULT_MISSING = ("",)
DEFAULT_EARLIEST = "1971-01-01"
Path_ = tuple[str | int, ...]


@cache
def mapping_schema() -> dict[str, Any]:
    """The JSON Schema a mapping file must match (shipped beside this module)."""
    text = resources.files("rulecore_mapping").joinpath("mapping.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@dataclass(frozen=True)
class Value:
    """One compiled value: how to read it, and which row of a case it comes from."""

    read: ReadValue
    column: str | None
    pick: str = "last"
    plain: Plain | None = None  #: set when a compiled reader may inline the reading


@dataclass(frozen=True)
class ColumnEvent:
    """A timestamp column that becomes an event when it has a value."""

    type: str
    at: ReadMoment
    column: str
    actor: Value | None
    fields: tuple[tuple[str, Value], ...]
    pick: str = "first"
    when: Value | None = None


@dataclass(frozen=True)
class Activity:
    """event_log: how each row becomes an event."""

    at: ReadMoment
    column: str
    type: Value
    actor: Value | None
    fields: tuple[tuple[str, Value], ...]


@dataclass(frozen=True)
class Timeline:
    """ticket over JSON lines: an array of objects in each line, each element one event.

    The element's values are read like a row's: ``keys`` are the element keys the timeline
    names, and every compiled value reads its place in ``tuple(element.get(key) ...)``.
    """

    key: str  #: the top-level key that holds the array
    position: int  #: its place in the line's projected row
    at: ReadMoment
    at_key: str
    type: Value
    actor: Value | None
    fields: tuple[tuple[str, Value], ...]
    keys: tuple[str, ...]
    on_event_error: str
    iso_at: IsoMoment | None = None  #: set when ``at`` is read first as ISO 8601


@dataclass(frozen=True)
class Assignment:
    """event_log: the column whose changes of value are changes of owner."""

    owner: Value
    column: str
    field: str
    type: str
    unassigned: str | None


@dataclass(frozen=True)
class Mapping:
    """A compiled mapping, ready to read exports."""

    path: str
    shape: str
    format: str | None
    delimiter: str
    quotechar: str
    encoding: str
    case_id: Value
    sorted: bool
    on_row_error: str
    attributes: tuple[tuple[str, Value], ...]
    events: tuple[ColumnEvent, ...]
    activity: Activity | None
    assignment: Assignment | None
    timeline: Timeline | None
    not_before: tuple[tuple[str, str], ...]
    columns: tuple[str, ...]
    column_locations: MappingABC[str, Location] = field(repr=False)

    def format_for(self, path: Path) -> str:
        """The source format: as the mapping says, else by the export's file name."""
        if self.format is not None:
            return self.format
        name = path.name.lower().removesuffix(".gz")
        return "jsonl" if name.endswith((".jsonl", ".ndjson")) else "csv"


def load_mapping(path: Path) -> Mapping:
    """Load, validate and compile a mapping file; raise :class:`rulecore.StandardsInvalid`."""
    try:
        document = load_yaml_file(path)
    except SourceError as error:
        raise StandardsInvalid([error]) from None
    errors = list(schema_errors(document, mapping_schema()))
    if errors:
        raise StandardsInvalid(errors)
    compiler = _Compiler(document)
    mapping = compiler.compile()
    if compiler.errors:
        raise StandardsInvalid(compiler.errors)
    return mapping


class _Compiler:
    """Turns a schema-valid mapping document into a :class:`Mapping`, collecting problems."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.data: dict[str, Any] = document.data
        self.errors: list[SourceError] = []
        self.columns: dict[str, int] = {}
        self.locations: dict[str, Location] = {}
        source = self.data.get("source") or {}
        self.missing = tuple(source.get("missing", DEFAULT_MISSING))
        self.parsers: dict[tuple[str, ...], ParseTimestamp] = {}
        stamps = self.data.get("timestamps") or {}
        self.formats = tuple(stamps.get("formats", ("iso8601",)))
        self.zone: tzinfo = self._zone(stamps.get("timezone", "UTC"))
        self.earliest = self._bound(stamps.get("earliest", DEFAULT_EARLIEST), ("earliest",))
        self.latest = self._bound(stamps.get("latest"), ("latest",))

    def compile(self) -> Mapping:
        data = self.data
        shape = data["shape"]
        source = data.get("source") or {}
        case = data["case"]
        case_id = self.value(case["id"], ("case", "id"), default_pick="first")
        activity = self._activity() if "activity" in data else None
        assignment = self._assignment() if "assignment" in data else None
        timeline = self._timeline() if "timeline" in data else None
        self._shape_rules(shape)
        self._check_encoding(source)
        attributes = tuple(
            (name, self.value(spec, ("attributes", name), default_pick="last"))
            for name, spec in (data.get("attributes") or {}).items()
        )
        events = tuple(
            self._column_event(spec, ("events", index))
            for index, spec in enumerate(data.get("events") or ())
        )
        not_before = tuple((data.get("not_before") or {}).items())
        self._check_not_before(not_before, events, activity or timeline, assignment)
        return Mapping(
            path=self.document.path,
            shape=shape,
            format=source.get("format"),
            delimiter=source.get("delimiter", ","),
            quotechar=source.get("quotechar", '"'),
            encoding=source.get("encoding", "utf-8-sig"),
            case_id=case_id,
            sorted=bool(case.get("sorted", False)),
            on_row_error=case.get("on_row_error", "drop_row"),
            attributes=attributes,
            events=events,
            activity=activity,
            assignment=assignment,
            timeline=timeline,
            not_before=not_before,
            columns=tuple(self.columns),
            column_locations=dict(self.locations),
        )

    # -- pieces ---------------------------------------------------------------------------

    def _check_encoding(self, source: dict[str, Any]) -> None:
        """An encoding Python does not know, or one that is not for text (rot13, base64),
        would only fail once the export is opened, as a traceback."""
        name = source.get("encoding")
        if not isinstance(name, str):
            return
        try:
            # CodecInfo says whether text can be read with it; TextIOWrapper asks the same.
            is_text = getattr(codecs.lookup(name), "_is_text_encoding", True)
        except LookupError:
            is_text = None
        if not is_text:
            problem = (
                _("{name!r} is not a text encoding Python knows")
                if is_text is False
                else _("{name!r} is not an encoding Python knows")
            )
            self.errors.append(
                SourceError(
                    self.document.locate(["source", "encoding"]),
                    _("{problem}; use one such as utf-8, utf-8-sig, cp1252 or latin-1").format(
                        problem=problem.format(name=name)
                    ),
                )
            )

    def _shape_rules(self, shape: str) -> None:
        data = self.data
        if shape == "event_log" and "activity" not in data:
            self.errors.append(
                SourceError(
                    self.document.locate(["shape"]),
                    "an event_log mapping needs 'activity': which column holds each row's "
                    "timestamp and which its event type",
                )
            )
        if shape == "event_log" and "timeline" in data:
            self.errors.append(
                SourceError(
                    self.document.locate_key(["timeline"]),
                    "'timeline' is for ticket mappings of JSON lines: an event log already "
                    "has one event per row",
                )
            )
        if "timeline" in data and (data.get("source") or {}).get("format") == "csv":
            self.errors.append(
                SourceError(
                    self.document.locate(["source", "format"]),
                    "a timeline is an array inside each JSON line; a CSV row has none",
                )
            )
        if shape == "ticket":
            for key in ("activity", "assignment"):
                if key in data:
                    self.errors.append(
                        SourceError(
                            self.document.locate_key([key]),
                            _("'{key}' is for event_log mappings; a ticket row is one case").format(
                                key=key
                            ),
                        )
                    )
            for key in ("sorted", "on_row_error"):
                if key in data["case"]:
                    self.errors.append(
                        SourceError(
                            self.document.locate_key(["case", key]),
                            _(
                                "'case.{key}' is for event_log mappings; a ticket row is one case"
                            ).format(key=key),
                        )
                    )
        if shape == "ticket" and not data.get("events") and "timeline" not in data:
            self.errors.append(
                SourceError(
                    self.document.locate(["shape"]),
                    _(
                        "a ticket mapping needs 'events' (at least one timestamp column, such as "
                        "{{type: opened, at: Created Date}}) or a 'timeline' (an array of events "
                        "in each JSON line)"
                    ).format(),
                )
            )

    def _check_not_before(
        self,
        pairs: Sequence[tuple[str, str]],
        events: Sequence[ColumnEvent],
        activity: Activity | Timeline | None,
        assignment: Assignment | None,
    ) -> None:
        if activity is not None:
            return  # row or element event types come from the data, so any name may occur
        known = {event.type for event in events}
        if assignment is not None:
            known.add(assignment.type)
        for later, earlier in pairs:
            where = ["not_before", later]
            for name, location in (
                (later, self.document.locate_key(where)),
                (earlier, self.document.locate(where)),
            ):
                if name not in known:
                    self.errors.append(
                        SourceError(
                            location,
                            _("no event of type {name!r} is mapped; known: {known}").format(
                                name=name, known=", ".join(sorted(known))
                            ),
                        )
                    )

    def _activity(self) -> Activity:
        spec = self.data["activity"]
        where: Path_ = ("activity",)
        parse = self.parser(spec.get("format"), (*where, "format"))
        column = spec["at"]
        return Activity(
            at=column_moment(self.position(column, (*where, "at")), column, self.missing, parse),
            column=column,
            type=self.value(spec["type"], (*where, "type"), required=True),
            actor=self.value(spec["actor"], (*where, "actor")) if "actor" in spec else None,
            fields=self.fields(spec.get("fields"), (*where, "fields")),
        )

    def _timeline(self) -> Timeline:
        spec = self.data["timeline"]
        where: Path_ = ("timeline",)
        key = spec["from"]
        position = self.position(key, (*where, "from"))
        outer = self.columns, self.locations
        self.columns, self.locations = {}, {}  # an element's keys are its own columns
        try:
            parse = self.parser(spec.get("format"), (*where, "format"))
            at_key = spec["at"]
            at = column_moment(
                self.position(at_key, (*where, "at")), at_key, self.missing, parse, required=True
            )
            kind = self.value(spec["type"], (*where, "type"), required=True)
            actor = self.value(spec["actor"], (*where, "actor")) if "actor" in spec else None
            fields = self.fields(spec.get("fields"), (*where, "fields"))
            keys = tuple(self.columns)
        finally:
            self.columns, self.locations = outer
        return Timeline(
            key=key,
            position=position,
            at=at,
            at_key=at_key,
            type=kind,
            actor=actor,
            fields=fields,
            keys=keys,
            on_event_error=spec.get("on_event_error", "reject_record"),
            iso_at=self._iso_moment(spec.get("format")),
        )

    def _iso_moment(self, fmt: str | None) -> IsoMoment | None:
        formats = (fmt,) if fmt is not None else self.formats
        if formats[0] != "iso8601":
            return None
        return IsoMoment(
            frozenset(self.missing), self.zone, in_utc(self.earliest), in_utc(self.latest)
        )

    def _assignment(self) -> Assignment:
        spec = self.data["assignment"]
        where: Path_ = ("assignment",)
        column = spec["column"]
        return Assignment(
            owner=self.value(column, (*where, "column")),
            column=column,
            field=spec.get("field", "team"),
            type=spec.get("type", "assigned"),
            unassigned=spec.get("unassigned"),
        )

    def _column_event(self, spec: MappingABC[str, Any], where: Path_) -> ColumnEvent:
        parse = self.parser(spec.get("format"), (*where, "format"))
        column = spec["at"]
        at = column_moment(
            self.position(column, (*where, "at")),
            column,
            self.missing,
            parse,
            required=bool(spec.get("required", False)),
        )
        return ColumnEvent(
            type=spec["type"],
            at=at,
            column=column,
            actor=self.value(spec["actor"], (*where, "actor")) if "actor" in spec else None,
            fields=self.fields(spec.get("fields"), (*where, "fields")),
            pick=spec.get("from", "first"),
            when=self.value(spec["when"], (*where, "when")) if "when" in spec else None,
        )

    def fields(
        self, spec: MappingABC[str, Any] | None, where: Path_
    ) -> tuple[tuple[str, Value], ...]:
        return tuple(
            (name, self.value(value, (*where, name))) for name, value in (spec or {}).items()
        )

    def value(
        self,
        spec: str | MappingABC[str, Any],
        where: Path_,
        *,
        default_pick: str = "last",
        required: bool = False,
    ) -> Value:
        """Compile a value spec: a column name, a constant, or a column with options."""
        if isinstance(spec, str):
            spec = {"column": spec}
        pick = spec.get("from", default_pick)
        if "value" in spec:
            return Value(constant(spec["value"]), None, pick)
        column = spec["column"]
        kind = spec.get("type", "text")
        missing = tuple(spec.get("missing", self.missing))
        required = required or bool(spec.get("required", False))
        parse = self.parser(spec.get("format"), (*where, "format")) if kind == "timestamp" else None
        if "format" in spec and kind != "timestamp":
            self.errors.append(
                SourceError(
                    self.document.locate_key([*where, "format"]),
                    "'format' is for values of type timestamp",
                )
            )
        position = self.position(column, (*where, "column"))
        read = column_value(
            position,
            column,
            missing,
            value_map=spec.get("map"),
            unmapped=spec.get("unmapped", "keep"),
            kind=kind,
            default=spec.get("default"),
            required=required,
            parse_timestamp=parse,
        )
        plain = None
        if kind in ("text", "integer") and "map" not in spec:
            plain = Plain(position, frozenset(missing), kind, required, spec.get("default"))
        return Value(read, column, pick, plain)

    def position(self, column: str, where: Path_) -> int:
        """The column's place in the projected row, adding it on first use."""
        if column not in self.columns:
            self.columns[column] = len(self.columns)
            self.locations[column] = self.document.locate(list(where))
        return self.columns[column]

    def parser(self, fmt: str | None, where: Path_) -> ParseTimestamp:
        formats = (fmt,) if fmt is not None else self.formats
        if formats not in self.parsers:
            usable = formats
            for index, text in enumerate(formats):
                try:
                    compile_format(text, self.zone)
                except ValueError as error:
                    place: list[str | int] = (
                        list(where) if fmt is not None else ["timestamps", "formats", index]
                    )
                    self.errors.append(SourceError(self.document.locate(place), str(error)))
                    usable = ("iso8601",)  # only so compiling can go on and find more problems
            parse = compile_formats(usable, self.zone)
            self.parsers[formats] = within(parse, self.earliest, self.latest)
        return self.parsers[formats]

    def _zone(self, name: str) -> tzinfo:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.errors.append(
                SourceError(
                    self.document.locate(["timestamps", "timezone"]),
                    _(
                        "{name!r} is not an IANA time zone (such as Europe/Rome or "
                        "America/New_York)"
                    ).format(name=name),
                )
            )
            return timezone.utc

    def _bound(self, text: str | None, where: Path_) -> datetime | None:
        if text is None:
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.errors.append(
                SourceError(
                    self.document.locate(["timestamps", *where]),
                    _("{value!r} is not an ISO 8601 date (such as 2000-01-01)").format(value=text),
                )
            )
            return None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=self.zone)
