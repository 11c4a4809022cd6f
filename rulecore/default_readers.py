"""The built-in reader: canonical interaction records as JSON lines, plain or gzip."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import msgspec

from ._i18n import _
from ._model import decode_record
from ._plugins import hookimpl
from ._readers import MAX_LINE_BYTES, Item, Reader, Rejection, is_gzip, open_lines
from ._schemas import load_schema


def read_jsonl(path: Path, options: Mapping[str, Any]) -> Iterator[Item]:
    """Yield one record or rejection per non-blank line of ``path``."""
    source = str(path)
    with open_lines(path, options) as lines:
        for number, line in lines:
            if line is None:
                yield Rejection(
                    source,
                    number,
                    _("line is longer than {limit} bytes").format(limit=MAX_LINE_BYTES),
                )
                continue
            if not line.strip():
                continue
            try:
                yield decode_record(line)
            except (msgspec.DecodeError, msgspec.ValidationError) as error:
                raw = line.decode("utf-8", errors="replace").rstrip("\r\n")
                yield Rejection(source, number, explain_invalid_record(line, error), raw)


def _splits(path: Path, options: Mapping[str, Any]) -> bool:
    return not is_gzip(path)


def explain_invalid_record(line: bytes, error: Exception) -> str:
    """Word why a line is not a record.  Only runs for a line that failed the fast decoder."""
    try:
        data = json.loads(line, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as parse_error:
        return _("not valid JSON: {error}").format(error=parse_error)
    except RecursionError:
        return _("not a valid record: its JSON is nested too deeply to read")
    best = jsonschema.exceptions.best_match(_record_validator()(data))
    if best is None:
        return _("not a valid record: {error}").format(error=error)
    path = list(best.absolute_path)
    where = "".join(f"[{step!r}]" if isinstance(step, int) else f".{step}" for step in path)
    if path and path[-1] == "at" and best.validator in ("pattern", "format"):
        return _(
            "not a valid record: at ${where}: {value!r} is not a timestamp with a UTC "
            "offset; write it like 2026-04-01T10:00:00+02:00 or 2026-04-01T08:00:00Z"
        ).format(where=where, value=best.instance)
    return _("not a valid record: at ${where}: {problem}").format(where=where, problem=best.message)


def _refuse_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, but JSON has neither, and the fast decoder refuses
    # them: word that as the JSON fault it is, not as a fault of the record.
    raise ValueError(f"{name} is not a JSON value (JSON has no NaN or Infinity)")


@cache
def _record_validator() -> Callable[[Any], Iterator[jsonschema.ValidationError]]:
    schema = load_schema("record")
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return validator.iter_errors


@hookimpl
def rulecore_register_readers(register: Callable[[Reader], None]) -> None:
    register(
        Reader(
            name="jsonl",
            description=_("rulecore interaction records, one JSON object per line (plain or gzip)"),
            suffixes=(".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz"),
            read=read_jsonl,
            splits=_splits,
            checks_dates=True,
        )
    )
