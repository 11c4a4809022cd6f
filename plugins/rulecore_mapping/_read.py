"""Reading an export through a mapping, and the ``mapping`` reader the CLI uses."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from collections.abc import Mapping as MappingABC
from pathlib import Path
from typing import Any

from rulecore import Item, Location, SourceError, StandardsInvalid
from rulecore._readers import CASE_IDS_OPTION, LINE_RANGE_OPTION, LineRange, is_gzip

from ._build import ReadCounts, event_log_items, ticket_items
from ._fast import compile_fast
from ._grouping import case_id_of
from ._sources import (
    SourceTally,
    csv_cuttable,
    csv_row_ranges,
    jsonl_case_ranges,
    read_rows,
    read_ticket_rows,
)
from ._spec import Mapping, load_mapping
from ._values import RowProblem

#: The reader option that carries the mapping file (``rulecore audit --mapping``).
MAPPING_OPTION = "mapping"


class Export:
    """One export read through a mapping.

    Iterate it for records and rejections, in file order (event logs: in the order each case
    first appears).  :attr:`counts` fills as it goes and reconciles once iteration ends.
    """

    def __init__(
        self,
        path: Path,
        mapping: Mapping,
        lines: LineRange | None = None,
        case_ids: list[str] | None = None,
    ) -> None:
        self.path = path
        self.mapping = mapping
        self.lines = lines  #: read only these lines or rows (a part of the export, --jobs)
        self.case_ids = case_ids  #: the id of each case started is appended here
        self.counts = ReadCounts()

    def __iter__(self) -> Iterator[Item]:
        tally = SourceTally()
        mapping, source, lines = self.mapping, str(self.path), self.lines
        if mapping.shape == "ticket":
            rows = read_ticket_rows(self.path, mapping, tally, compile_fast(mapping), lines)
            yield from ticket_items(rows, mapping, source, self.counts)
        else:
            rows = read_rows(self.path, mapping, tally, lines)
            yield from event_log_items(rows, mapping, source, self.counts, self.case_ids)
        self.counts.blank_lines = tally.blank_lines


def read_export(path: str | Path, mapping: str | Path | Mapping) -> Export:
    """Read ``path`` through ``mapping`` (a mapping file or one already loaded).

    Raises :class:`rulecore.StandardsInvalid` for an invalid mapping, and, once iterated, for
    an export whose header lacks a column the mapping names.
    """
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(Path(mapping))
    return Export(Path(path), mapping)


_loaded: dict[tuple[str, int], Mapping] = {}


def _load_once(path: Path) -> Mapping:
    # An audit of a folder calls the reader once per file; compile the mapping once.
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _loaded:
        _loaded.clear()
        _loaded[key] = load_mapping(path)
    return _loaded[key]


def read_mapped(path: Path, options: MappingABC[str, Any]) -> Iterator[Item]:
    """The ``mapping`` reader: ``options["mapping"]`` names the mapping file."""
    mapping_path = options.get(MAPPING_OPTION)
    if mapping_path is None:
        raise SourceError(
            Location(str(path), 1, 1),
            "an export needs a field mapping to become records: add --mapping MAPPING.yaml "
            "(see docs/mapping.md)",
        )
    mapping = _load_once(Path(mapping_path))
    yield from Export(path, mapping, options.get(LINE_RANGE_OPTION), options.get(CASE_IDS_OPTION))


def splits_mapped(path: Path, options: MappingABC[str, Any]) -> bool:
    """A plain export can be read in parts: a ticket export, each line of JSON, or each row of
    CSV in an encoding whose bytes show where rows end, being a case on its own; and an event
    log whose cases are sorted, between cases."""
    mapping_path = options.get(MAPPING_OPTION)
    if mapping_path is None:
        return False
    try:
        mapping = _load_once(Path(mapping_path))
    except (SourceError, StandardsInvalid):  # reported when the export is read
        return False
    if is_gzip(path) or not (mapping.shape == "ticket" or mapping.sorted):
        return False
    return mapping.format_for(path) == "jsonl" or csv_cuttable(mapping)


def ranges_mapped(
    path: Path, options: MappingABC[str, Any], size_each: int
) -> Iterator[tuple[LineRange, int]] | None:
    """Where an export that :func:`splits_mapped` may be cut: a ticket export between rows
    (None for JSON lines, cut between any two lines), an event log between cases."""
    mapping = _load_once(Path(options[MAPPING_OPTION]))
    jsonl = mapping.format_for(path) == "jsonl"
    if mapping.shape == "ticket":
        return None if jsonl else csv_row_ranges(path, mapping, size_each)

    def case_of(values: Sequence[Any]) -> str | None:
        try:
            return case_id_of(values, mapping)
        except RowProblem:
            return None

    if jsonl:
        return jsonl_case_ranges(path, mapping, size_each, case_of)
    return csv_row_ranges(path, mapping, size_each, case_of)
