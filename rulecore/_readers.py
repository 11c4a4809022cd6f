"""Record readers: how files become records, and how unreadable input is set aside.

A reader yields, for each unit of input it reads, either a :class:`~rulecore.Record` or a
:class:`Rejection` that says where the input was and why it could not be used.  It never skips
silently: the audit's counts must reconcile (records read = evaluated + rejected).
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

from ._model import Record

#: Longest input line kept whole in a report; the rejects file keeps up to MAX_LINE_BYTES.
RAW_EXCERPT_CHARS = 2000
#: A line longer than this is rejected without being held in memory whole.
MAX_LINE_BYTES = 16 * 1024 * 1024


class Rejection(NamedTuple):
    """Input that could not become a record: where it was, why, and what it said."""

    source: str
    line: int
    reason: str
    raw: str = ""

    def excerpt(self) -> str:
        if len(self.raw) <= RAW_EXCERPT_CHARS:
            return self.raw
        return self.raw[:RAW_EXCERPT_CHARS] + f"... ({len(self.raw)} characters in all)"


Item = Record | Rejection
ReadFunction = Callable[[Path, Mapping[str, Any]], Iterator[Item]]


@dataclass(frozen=True)
class Reader:
    """An input format, as a plugin registers it.

    :param name: how ``--reader`` names it (``jsonl``).
    :param description: one line for ``rulecore plugins``.
    :param suffixes: file name endings it reads by default (``.jsonl``, ``.jsonl.gz``).
    :param read: ``read(path, options)`` yields records and rejections, in file order.
    """

    name: str
    description: str
    suffixes: tuple[str, ...]
    read: ReadFunction
    #: ``splits(path, options)``: whether ``read`` can read this file in parts, whole lines at
    #: a time (``options[LINE_RANGE_OPTION]``), so that ``--jobs`` can share it out.
    splits: Callable[[Path, Mapping[str, Any]], bool] | None = None
    #: ``ranges(path, options, size_each)``: for a file ``splits`` accepts, where it may be cut
    #: (ranges of whole rows of about ``size_each`` bytes, each with its last line's number),
    #: or ``None`` to cut it between any two lines.  For rows that span lines (CSV).
    ranges: (
        Callable[[Path, Mapping[str, Any], int], Iterator[tuple[LineRange, int]] | None] | None
    ) = None
    #: ``True`` when ``read`` itself rejects records dated outside the range rulecore audits
    #: (with their line); otherwise the audit checks every record the reader yields.
    checks_dates: bool = False

    def accepts(self, path: Path) -> bool:
        lowered = path.name.lower()
        return any(lowered.endswith(suffix) for suffix in self.suffixes)


class LineRange(NamedTuple):
    """Part of a file, whole lines: bytes ``start`` to ``end``, the first line being numbered
    ``first_line`` (so that rejections name the same lines as when the file is read whole)."""

    start: int
    end: int
    first_line: int


#: The reader option that asks a reader to read one :class:`LineRange` of a file.
LINE_RANGE_OPTION = "line_range"
#: With a line range: a list to which a reader that groups rows into cases (an event log)
#: appends each case's id as it starts one, so that ``--jobs`` can tell a case whose rows
#: turn up again in a later range, as reading the whole file would.
CASE_IDS_OPTION = "case_ids"


def is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def open_maybe_gzip(path: Path) -> IO[bytes]:
    """Open a file for binary reading, transparently un-gzipping it by its magic bytes."""
    handle = path.open("rb")
    magic = handle.read(2)
    handle.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=handle, mode="rb")  # type: ignore[return-value]
    return handle


@contextmanager
def open_lines(
    path: Path, options: Mapping[str, Any]
) -> Iterator[Iterator[tuple[int, bytes | None]]]:
    """The numbered lines of ``path`` (:func:`iter_lines`), or of the part of it that
    ``options[LINE_RANGE_OPTION]`` names, with the file open while they are read."""
    part: LineRange | None = options.get(LINE_RANGE_OPTION)
    if part is None:
        with open_maybe_gzip(path) as stream:
            yield iter_lines(stream)
        return
    with path.open("rb") as stream:
        stream.seek(part.start)
        yield _lines_until(stream, part)


def _lines_until(stream: IO[bytes], part: LineRange) -> Iterator[tuple[int, bytes | None]]:
    for numbered in iter_lines(stream, part.first_line):
        yield numbered
        if stream.tell() >= part.end:
            return


def iter_lines(stream: IO[bytes], first_line: int = 1) -> Iterator[tuple[int, bytes | None]]:
    """Yield ``(line_number, line)``, with ``None`` for a line over :data:`MAX_LINE_BYTES`.

    Memory stays bounded on hostile input: an over-long line is skipped in chunks.
    """
    number = first_line - 1
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:
                rest = stream.readline(MAX_LINE_BYTES)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
            continue
        yield number, line
