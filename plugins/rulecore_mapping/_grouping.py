"""Grouping event-log rows into cases.

Two ways, chosen by the mapping's ``case.sorted``:

- **sorted** (the rows of each case are together in the file): cases stream, one in memory at
  a time.  Only the ids of finished cases are remembered, so that a case whose rows turn up
  again later is caught: that later fragment is rejected whole, with the reason, rather than
  audited as a second, partial case.
- **unsorted** (the default): rows are written to a temporary SQLite file as they are read
  and read back case by case, in the order each case first appeared.  Memory holds one case
  and an id-to-number table, not the rows; the file is deleted when reading ends.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from rulecore import Rejection
from rulecore.i18n import _

from ._sources import SourceRow, render_raw
from ._spec import Mapping
from ._values import RowProblem, Scalar

#: Rows written to the temporary file per batch.
BATCH_ROWS = 5000
MAX_ID = 512


class Group(NamedTuple):
    """The rows of one case, in file order; ``problem`` rejects the case whole."""

    case_id: str
    rows: list[SourceRow]
    problem: str | None = None


def group_rows(
    rows: Iterable[SourceRow | Rejection],
    mapping: Mapping,
    source: str,
    case_ids: list[str] | None = None,
) -> Iterator[Group | Rejection]:
    """Cases (or rejected rows), grouped as the mapping's ``case.sorted`` says; the id of each
    case started is appended to ``case_ids`` (sorted cases only: a part of the file)."""
    if mapping.sorted:
        return _sorted_groups(rows, mapping, source, case_ids)
    return _spilled_groups(rows, mapping, source)


def read_case_id(row: SourceRow, mapping: Mapping) -> str:
    """The row's case id; raise :class:`RowProblem` when it has none."""
    return case_id_of(row.values, mapping)


def case_id_of(values: Sequence[Any], mapping: Mapping) -> str:
    """The case id in a row's projected values; raise :class:`RowProblem` when it has none."""
    value: Scalar = mapping.case_id.read(values)
    if value is None:
        raise RowProblem(
            _("no case id: column {column!r} is empty").format(column=mapping.case_id.column)
        )
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_ID:
        raise RowProblem(_("case id too long: over {limit} characters").format(limit=MAX_ID))
    return text


def _without_id(row: SourceRow, problem: RowProblem, mapping: Mapping, source: str) -> Rejection:
    return Rejection(source, row.line, str(problem), render_raw(row.raw, mapping.delimiter))


def _sorted_groups(
    rows: Iterable[SourceRow | Rejection],
    mapping: Mapping,
    source: str,
    case_ids: list[str] | None = None,
) -> Iterator[Group | Rejection]:
    finished: dict[str, int] = {}  # case id -> last line of its rows
    current: Group | None = None
    for row in rows:
        if isinstance(row, Rejection):
            yield row
            continue
        try:
            case_id = read_case_id(row, mapping)
        except RowProblem as problem:
            yield _without_id(row, problem, mapping, source)
            continue
        if current is not None and case_id == current.case_id:
            current.rows.append(row)
            continue
        if current is not None:
            finished.setdefault(current.case_id, current.rows[-1].line)
            yield current
        refusal = None
        if case_id in finished:
            refusal = _(
                "not grouped by case: its earlier rows ended on line {line}; "
                "set case.sorted: false in the mapping to group the file"
            ).format(line=finished[case_id])
        current = Group(case_id, [row], refusal)
        if case_ids is not None:
            case_ids.append(case_id)
    if current is not None:
        yield current


def _spilled_groups(
    rows: Iterable[SourceRow | Rejection], mapping: Mapping, source: str
) -> Iterator[Group | Rejection]:
    encode = msgspec.msgpack.Encoder().encode
    decode = msgspec.msgpack.Decoder().decode
    with tempfile.TemporaryDirectory(prefix="rulecore-mapping-") as folder:
        database = sqlite3.connect(Path(folder) / "rows.sqlite")
        try:
            database.execute("PRAGMA journal_mode=OFF")
            database.execute("PRAGMA synchronous=OFF")
            database.execute("CREATE TABLE row (case_no INTEGER, line INTEGER, body BLOB)")
            numbers: dict[str, int] = {}
            batch: list[tuple[int, int, bytes]] = []
            for row in rows:
                if isinstance(row, Rejection):
                    yield row
                    continue
                try:
                    case_id = read_case_id(row, mapping)
                except RowProblem as problem:
                    yield _without_id(row, problem, mapping, source)
                    continue
                number = numbers.setdefault(case_id, len(numbers))
                batch.append((number, row.line, encode((list(row.values), row.raw))))
                if len(batch) >= BATCH_ROWS:
                    database.executemany("INSERT INTO row VALUES (?, ?, ?)", batch)
                    batch.clear()
            if batch:
                database.executemany("INSERT INTO row VALUES (?, ?, ?)", batch)
            case_ids = list(numbers)
            numbers.clear()
            yield from _read_back(database, case_ids, decode)
        finally:
            database.close()


def _read_back(database: sqlite3.Connection, case_ids: list[str], decode: Any) -> Iterator[Group]:
    cursor = database.execute("SELECT case_no, line, body FROM row ORDER BY case_no, line")
    current: Group | None = None
    current_no = -1
    for case_no, line, body in cursor:
        values, raw = decode(body)
        row = SourceRow(line, values, raw)
        if case_no == current_no and current is not None:
            current.rows.append(row)
            continue
        if current is not None:
            yield current
        current, current_no = Group(case_ids[case_no], [row]), case_no
    if current is not None:
        yield current
