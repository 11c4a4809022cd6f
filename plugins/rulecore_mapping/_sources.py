"""Rows out of an export: CSV or JSON lines, plain or gzip (told by its magic bytes).

A source yields, in file order, a :class:`SourceRow` for each row (its line number, the values
of the columns the mapping uses, and what it said, for the rejects file) or a
:class:`rulecore.Rejection` for a row it cannot split into values.  Blank lines are not rows;
they are counted, not yielded.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

import msgspec

from rulecore import Record, Rejection, SourceError, StandardsInvalid
from rulecore._readers import (
    LINE_RANGE_OPTION,
    MAX_LINE_BYTES,
    LineRange,
    open_lines,
    open_maybe_gzip,
)
from rulecore.i18n import _

from ._spec import Mapping


class SourceRow(NamedTuple):
    """One row: where it starts, the mapping's columns in order, and the row as read."""

    line: int
    values: Sequence[Any]
    raw: Any  #: the CSV fields as a list, or the JSON line as text


@dataclass
class SourceTally:
    """What a source saw that is not a row."""

    blank_lines: int = 0


def read_rows(
    path: Path, mapping: Mapping, tally: SourceTally, lines: LineRange | None = None
) -> Iterator[SourceRow | Rejection]:
    """Every row of ``path`` in file order; the header (CSV) is checked against the mapping
    before the first row is yielded.  ``lines`` reads part of the export only: lines of JSON,
    or rows of CSV that :func:`csv_row_ranges` cut."""
    if mapping.format_for(path) == "jsonl":
        return _jsonl_rows(path, mapping, tally, lines)
    if mapping.timeline is not None:
        raise StandardsInvalid(
            [
                SourceError(
                    mapping.column_locations[mapping.timeline.key],
                    _(
                        "a timeline is an array inside each JSON line, but {path} is read as CSV: "
                        "name it .jsonl or .ndjson, or set source.format: jsonl"
                    ).format(path=path),
                )
            ]
        )
    return _csv_rows(path, mapping, tally, lines)


def render_raw(raw: Any, delimiter: str = ",") -> str:
    """A row as it stood in the export, for the rejects file."""
    if isinstance(raw, str):
        return raw
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="").writerow(raw)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------


def _csv_rows(
    path: Path, mapping: Mapping, tally: SourceTally, lines: LineRange | None = None
) -> Iterator[SourceRow | Rejection]:
    source = str(path)
    with (
        open_maybe_gzip(path) as binary,
        # A byte the encoding cannot decode becomes a lone surrogate, so that its row alone
        # is rejected, with its line, and reading goes on.
        io.TextIOWrapper(
            binary, encoding=mapping.encoding, errors="surrogateescape", newline=""
        ) as text,
    ):
        reader = csv.reader(text, delimiter=mapping.delimiter, quotechar=mapping.quotechar)
        header = next(reader, None)
        if header is None:
            return
        project = _projector(header, mapping, source)
        width = len(header)
        skipped = 0  # lines before the rows read
        if lines is not None:
            reader, skipped = _csv_part(binary, lines, mapping), lines.first_line - 1
        started = skipped + reader.line_num + 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield Rejection(
                    source, started, _("not readable as CSV: {error}").format(error=error)
                )
                started = skipped + reader.line_num + 1
                continue
            line, started = started, skipped + reader.line_num + 1
            if not fields:
                tally.blank_lines += 1
                continue
            undecodable = _undecodable(fields)
            if undecodable is not None:
                yield _undecodable_row(source, line, fields, undecodable, mapping)
                continue
            if len(fields) != width:
                if len(fields) == 1 and not fields[0].strip():
                    tally.blank_lines += 1
                    continue
                yield Rejection(
                    source,
                    line,
                    _("wrong number of fields: the row has {count}, the header {width}").format(
                        count=len(fields), width=width
                    ),
                    render_raw(fields, mapping.delimiter),
                )
                continue
            yield SourceRow(line, project(fields), fields)


def _csv_part(binary: IO[bytes], lines: LineRange, mapping: Mapping) -> Any:
    """A CSV reader of the rows in ``lines``, which are few megabytes at most."""
    binary.seek(lines.start)
    part = io.BytesIO(binary.read(lines.end - lines.start))
    # A byte-order mark can only open the file, whose first line is the header.
    encoding = "utf-8" if codecs.lookup(mapping.encoding).name == "utf-8-sig" else mapping.encoding
    text = io.TextIOWrapper(part, encoding=encoding, errors="surrogateescape", newline="")
    return csv.reader(text, delimiter=mapping.delimiter, quotechar=mapping.quotechar)


#: Encodings in which a line feed and the quote are always those bytes, never part of a
#: character: a CSV export in one of them can be cut between rows by looking at its bytes.
_CUTTABLE_ENCODINGS = ("utf-8", "ascii", "latin-1", "iso8859-", "cp125")


def csv_cuttable(mapping: Mapping) -> bool:
    """Whether an export in ``mapping``'s encoding can be cut between rows."""
    name = codecs.lookup(mapping.encoding).name
    return name.startswith(_CUTTABLE_ENCODINGS)


#: A row's case id, from its projected values; ``None`` when it has none.
CaseOf = Callable[[Sequence[Any]], "str | None"]
#: A row as the cutting reads it: where it ends, its last line, and the row.
_RowEnd = tuple[int, int, Any]


def csv_row_ranges(
    path: Path, mapping: Mapping, size_each: int, case_of: CaseOf | None = None
) -> Iterator[tuple[LineRange, int]]:
    """``path``, a plain CSV export, cut after its header into ranges of whole rows of about
    ``size_each`` bytes, each with the number of its last line; with ``case_of``, only where
    one case's rows end and another's begin (an event log whose cases are sorted).

    The file is read once, through the same CSV module as the reader, so that a line break
    inside a quoted field is never taken for the end of a row.  Raises :class:`ValueError`
    (or ``csv.Error``) for a file that cannot be cut so: a carriage return alone ends a line
    (the reader would count its lines otherwise), or the CSV module fails on a row.
    """
    position = line = 0
    with path.open("rb") as binary:

        def decoded_lines() -> Iterator[str]:
            nonlocal position, line
            for raw in binary:
                if raw.count(b"\r") != raw.endswith(b"\r\n"):
                    raise ValueError(f"{path}: a carriage return ends a line on its own")
                position += len(raw)
                line += 1
                yield raw.decode(mapping.encoding, "surrogateescape")

        rows = csv.reader(decoded_lines(), delimiter=mapping.delimiter, quotechar=mapping.quotechar)
        header = next(rows, None)  # which every part reads from the start of the file
        if header is None:
            return
        start, first_line = position, line + 1
        row_case = None
        if case_of is not None:
            project, width = _projector(header, mapping, str(path)), len(header)

            def row_case(fields: list[str]) -> str | None:
                if len(fields) != width or _undecodable(fields) is not None:
                    return None
                return case_of(project(fields))

        ends = ((position, line, fields) for fields in rows)
        yield from _cut(ends, start, first_line, size_each, row_case)


def jsonl_case_ranges(
    path: Path, mapping: Mapping, size_each: int, case_of: CaseOf
) -> Iterator[tuple[LineRange, int]]:
    """``path``, a plain JSON-lines event log whose cases are sorted, cut into ranges of whole
    lines of about ``size_each`` bytes, only where one case's lines end and another's begin."""
    columns = mapping.columns

    def line_case(text: bytes) -> str | None:
        try:
            data = _decode_json(text.removeprefix(_BOM))
        except (msgspec.DecodeError, RecursionError):
            return None
        return case_of(tuple(map(data.get, columns))) if isinstance(data, dict) else None

    with path.open("rb") as binary:
        ends = _line_ends(binary)
        yield from _cut(ends, 0, 1, size_each, line_case)


def _line_ends(binary: IO[bytes]) -> Iterator[_RowEnd]:
    position = 0
    for line, raw in enumerate(binary, 1):
        position += len(raw)
        yield position, line, raw


def _cut(
    rows: Iterator[_RowEnd],
    start: int,
    first_line: int,
    size_each: int,
    case_of: Callable[[Any], str | None] | None,
) -> Iterator[tuple[LineRange, int]]:
    """Ranges of ``rows`` (each with where it ends) of about ``size_each`` bytes; with
    ``case_of``, each cut just before a row whose case differs from the last row's that has
    one.  A case's id is read only for the rows after a range has reached its size."""
    end, line = start, first_line - 1
    previous: Any = None
    last_case: str | None = None
    for row_end, row_line, row in rows:
        if end - start >= size_each:
            if case_of is None:
                cut = True
            else:
                if last_case is None and previous is not None:
                    last_case = case_of(previous)
                case = case_of(row)
                cut = case is not None and last_case is not None and case != last_case
                last_case = None if cut else (case or last_case)
            if cut:
                yield LineRange(start, end, first_line), line
                start, first_line = end, line + 1
        previous = row
        end, line = row_end, row_line
    if end > start:
        yield LineRange(start, end, first_line), line


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _undecodable(fields: Sequence[str]) -> str | None:
    """The first byte of ``fields`` that its encoding could not decode, as an escape."""
    for field in fields:
        if not field.isascii():
            found = _ESCAPED_BYTE.search(field)
            if found is not None:
                return found.group()
    return None


def _undecodable_row(
    source: str, line: int, fields: Sequence[str], escaped: str, mapping: Mapping
) -> Rejection:
    byte = ord(escaped) - 0xDC00
    raw = _ESCAPED_BYTE.sub("\ufffd", render_raw(fields, mapping.delimiter))
    return Rejection(
        source,
        line,
        _(
            "byte {byte} is not valid {encoding}: if the export is in another encoding, name it "
            "in the mapping's source.encoding (for example cp1252 or latin-1)"
        ).format(byte=f"{byte:#04x}", encoding=mapping.encoding),
        raw,
    )


def _projector(
    header: Sequence[str], mapping: Mapping, source: str
) -> Callable[[Sequence[str]], Sequence[Any]]:
    """A function picking the mapping's columns out of a row, in the mapping's order."""
    names = [name.strip() for name in header]
    indexes: list[int] = []
    errors: list[SourceError] = []
    for column in mapping.columns:
        places = [index for index, name in enumerate(names) if name == column]
        location = mapping.column_locations[column]
        if not places and names and names[0].startswith("\ufeff") and column == names[0][1:]:
            errors.append(
                SourceError(
                    location,
                    _(
                        "{source} starts with a byte-order mark (BOM), which encoding "
                        "{encoding!r} keeps as part of the first column's name, so column "
                        "{column!r} is not found; set source.encoding: utf-8-sig (the default), "
                        "which reads UTF-8 with or without a BOM"
                    ).format(source=source, encoding=mapping.encoding, column=column),
                )
            )
        elif not places:
            close = difflib.get_close_matches(column, names, n=1)
            hint = _("; did you mean {name!r}?").format(name=close[0]) if close else ""
            errors.append(
                SourceError(
                    location,
                    _(
                        "column {column!r} is not in the header of {source}{hint} "
                        "(its columns: {names})"
                    ).format(
                        column=column,
                        source=source,
                        hint=hint,
                        names=", ".join(names[:40]) + (" ..." if len(names) > 40 else ""),
                    ),
                )
            )
        elif len(places) > 1:
            where = " and ".join(str(place + 1) for place in places)
            errors.append(
                SourceError(
                    location,
                    _(
                        "column {column!r} appears more than once in the header of {source} "
                        "(columns {where}), so it cannot be told which one is meant"
                    ).format(column=column, source=source, where=where),
                )
            )
        else:
            indexes.append(places[0])
    if errors:
        raise StandardsInvalid(errors)
    if not indexes:
        return lambda _fields: ()
    if len(indexes) == 1:
        only = indexes[0]
        return lambda fields: (fields[only],)
    return operator.itemgetter(*indexes)


# ---------------------------------------------------------------------------------------------
# JSON lines
# ---------------------------------------------------------------------------------------------

_decode_json = msgspec.json.Decoder().decode
_BOM = b"\xef\xbb\xbf"


class BuiltRow(NamedTuple):
    """A line a compiled reader built into its record, exactly as the general path would."""

    line: int
    record: Record
    text: bytes  #: the line as read, for a rejection that comes later (a duplicate id)


#: A compiled reader: a JSON line into its record, or ``None`` for the general path to read.
ReadLine = Callable[[bytes], "Record | None"]


def read_ticket_rows(
    path: Path,
    mapping: Mapping,
    tally: SourceTally,
    fast: ReadLine | None,
    lines: LineRange | None = None,
) -> Iterator[SourceRow | BuiltRow | Rejection]:
    """:func:`read_rows`, with each JSON line that ``fast`` reads already built."""
    if fast is None or mapping.format_for(path) != "jsonl":
        return read_rows(path, mapping, tally, lines)
    return _jsonl_built_rows(path, mapping, tally, fast, lines)


def raw_line(text: bytes, mapping: Mapping) -> str:
    """A JSON line as text, for the rejects file."""
    return text.decode(mapping.encoding, errors="replace").rstrip("\r\n")


def _jsonl_rows(
    path: Path, mapping: Mapping, tally: SourceTally, lines: LineRange | None = None
) -> Iterator[SourceRow | Rejection]:
    source = str(path)
    for item in _jsonl_lines(path, tally, lines):
        yield item if isinstance(item, Rejection) else _jsonl_row(*item, mapping, source)


def _jsonl_built_rows(
    path: Path, mapping: Mapping, tally: SourceTally, fast: ReadLine, lines: LineRange | None
) -> Iterator[SourceRow | BuiltRow | Rejection]:
    source = str(path)
    for item in _jsonl_lines(path, tally, lines):
        if isinstance(item, Rejection):
            yield item
            continue
        number, text = item
        record = fast(text)
        yield (
            _jsonl_row(number, text, mapping, source)
            if record is None
            else BuiltRow(number, record, text)
        )


def _jsonl_lines(
    path: Path, tally: SourceTally, lines: LineRange | None
) -> Iterator[tuple[int, bytes] | Rejection]:
    """Each line that is not blank, without a leading byte-order mark; ``lines`` only, if
    given."""
    source = str(path)
    with open_lines(path, {LINE_RANGE_OPTION: lines}) as numbered_lines:
        for number, line in numbered_lines:
            if line is None:
                yield Rejection(
                    source,
                    number,
                    _("line is longer than {limit} bytes").format(limit=MAX_LINE_BYTES),
                )
                continue
            if not line.strip():
                tally.blank_lines += 1
                continue
            yield number, line[len(_BOM) :] if number == 1 and line.startswith(_BOM) else line


def _jsonl_row(number: int, text: bytes, mapping: Mapping, source: str) -> SourceRow | Rejection:
    try:
        data = _decode_json(text)
    except (msgspec.DecodeError, RecursionError) as error:  # RecursionError: nested too deeply
        return Rejection(
            source,
            number,
            _("not valid JSON: {error}").format(error=error),
            raw_line(text, mapping),
        )
    if not isinstance(data, dict):
        return Rejection(source, number, _("not a JSON object"), raw_line(text, mapping))
    return SourceRow(number, tuple(map(data.get, mapping.columns)), raw_line(text, mapping))
