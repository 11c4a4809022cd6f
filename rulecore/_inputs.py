"""Turning the paths a user names into one stream of records and rejections."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from ._i18n import _
from ._model import Record, record_to_builtins, time_range_problem
from ._plugins import Registry
from ._readers import Item, Reader, Rejection, open_maybe_gzip
from ._seen import SeenIds


class InputError(Exception):
    """A problem with the inputs as named (missing file, no reader): a usage error."""


def plan_inputs(
    paths: Sequence[Path], registry: Registry, reader_name: str | None = None
) -> list[tuple[Path, Reader]]:
    """Pair every input file with its reader, expanding folders (sorted) before reading any.

    Everything is checked up front, so a typo in the last path fails before a long run.
    """
    readers = [reader for _plugin, reader in registry.readers.values()]
    if reader_name is not None:
        if reader_name not in registry.readers:
            known = ", ".join(registry.readers) or _("none")
            raise InputError(
                _("unknown reader {name!r}; known readers: {known}").format(
                    name=reader_name, known=known
                )
            )
        readers = [registry.readers[reader_name][1]]
    planned: list[tuple[Path, Reader]] = []
    for path in paths:
        if path.is_dir():
            for candidate in sorted(p for p in path.rglob("*") if p.is_file()):
                reader = _reader_for(candidate, readers)
                if reader is not None:
                    planned.append((candidate, reader))
        elif path.is_file():
            reader = _reader_for(path, readers) or (readers[0] if reader_name else None)
            if reader is None:
                suffixes = sorted({s for r in readers for s in r.suffixes})
                raise InputError(
                    _(
                        "{path}: no reader for this kind of file (known endings: "
                        "{endings}); name one with --reader"
                    ).format(path=path, endings=", ".join(suffixes))
                )
            planned.append((path, reader))
        else:
            raise InputError(_("{path}: no such file or folder").format(path=path))
    if not planned:
        raise InputError(
            _("no input records found in {paths}").format(paths=", ".join(map(str, paths)))
        )
    if all(_holds_nothing(path) for path, _reader in planned):
        # An audit of nothing would print an all-zero scorecard and exit 0, as if all were
        # well: say so, and exit as an empty folder does.
        what = (
            _("the file is empty or blank")
            if len(planned) == 1
            else _("every file is empty or blank")
        )
        raise InputError(
            _("no input records found in {paths}: {why}").format(
                paths=", ".join(map(str, paths)), why=what
            )
        )
    return planned


#: How much of a file is looked at to tell that it holds nothing but blank space.
_EMPTY_PROBE_BYTES = 65_536


def _holds_nothing(path: Path) -> bool:
    """Whether ``path`` (un-gzipped) is empty or blank; a file that cannot be read is left for
    its reader to report."""
    try:
        if path.stat().st_size > _EMPTY_PROBE_BYTES:
            return False
        with open_maybe_gzip(path) as stream:
            start = stream.read(_EMPTY_PROBE_BYTES + 1)
    except (OSError, EOFError):
        return False
    return len(start) <= _EMPTY_PROBE_BYTES and not start.strip()


def _reader_for(path: Path, readers: Iterable[Reader]) -> Reader | None:
    return next((reader for reader in readers if reader.accepts(path)), None)


def _duplicate(record: Record, source: str, position: int, earlier: str) -> Rejection:
    where = _("earlier in this file") if earlier == source else _("in {path}").format(path=earlier)
    raw = msgspec.json.encode(record_to_builtins(record)).decode("utf-8")
    return Rejection(
        source,
        0,
        _(
            "duplicate record id {id!r} (item {position} of this file): a record with "
            "this id was read {where}, and the first one is kept"
        ).format(id=record.id, position=position, where=where),
        raw,
    )


def _out_of_range(record: Record, source: str, position: int, problem: str) -> Rejection:
    raw = msgspec.json.encode(record_to_builtins(record)).decode("utf-8")
    return Rejection(
        source,
        0,
        _("record {id!r} (item {position} of this file): {problem}").format(
            id=record.id, position=position, problem=problem
        ),
        raw,
    )


def read_inputs(
    planned: Iterable[tuple[Path, Reader]], options: Mapping[str, Any] | None = None
) -> Iterator[Item]:
    """Read every planned file in turn.  A file that breaks mid-way (a truncated gzip, a
    failing disk) yields one rejection saying where it stopped, and the next file is read.

    A record whose id was already read is rejected: it would be counted twice, and share its
    fingerprints (so its waivers and baseline) with the first.  Each id read is kept for this,
    the one thing reading keeps per record (about 60 bytes plus the id).
    """
    first_seen = SeenIds()
    for path, reader in planned:
        yield from read_file(path, reader, options or {}, first_seen)


def read_file(
    path: Path,
    reader: Reader,
    options: Mapping[str, Any],
    first_seen: SeenIds,
    skip: int = 0,
) -> Iterator[Item]:
    """Read one file as :func:`read_inputs` does, given the ids read before it.

    ``skip`` passes over the file's first items, already audited elsewhere (``--jobs``): they
    are read and counted, so that positions and the reader's own state stay the same, but not
    yielded, and their ids are taken as already in ``first_seen``.
    """
    items = 0
    source = str(path)
    check_dates = not reader.checks_dates
    try:
        for item in reader.read(path, options):
            items += 1
            if items <= skip:
                continue
            if isinstance(item, Record):
                # The native reader rejects these itself, with the line; this is for the
                # others (a mapping, a plugin's reader), whose records are built otherwise.
                problem = time_range_problem(item) if check_dates else None
                if problem is not None:
                    yield _out_of_range(item, source, items, problem)
                    continue
                earlier = first_seen.setdefault(item.id, source)
                if earlier is not None:
                    yield _duplicate(item, source, items, earlier)
                    continue
            yield item
    except (OSError, EOFError, ValueError, UnicodeDecodeError) as error:
        yield Rejection(
            str(path),
            0,
            _(
                "the {reader} reader could not read this file past item {items}: {kind}: {error}"
            ).format(reader=reader.name, items=items, kind=type(error).__name__, error=error),
        )
