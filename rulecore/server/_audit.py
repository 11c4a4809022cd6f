"""``POST /v1/audit``: a body of records in, the report out, as ``rulecore audit`` writes it.

The body is written to a private temporary folder as it arrives (bounded by ``--max-body``),
under the name the caller gives in ``?source=``, and read from there by the same reader and
the same code as ``rulecore audit FILE``: so the JSON report is the same, byte for byte, with
``source`` standing where the file's name would.  Gzip is read by its magic bytes, as from a
file, whether or not the client says ``Content-Encoding: gzip``.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any, NamedTuple

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from rulecore._engine import Engine
from rulecore._i18n import _
from rulecore._inputs import InputError, plan_inputs, read_inputs
from rulecore._readers import Item, Reader, Rejection, is_gzip
from rulecore._standards import StandardsInvalid
from rulecore._yaml import SourceError

from ._http import Problem, deadline_of, located, spool_body, timed_out
from ._requests import (
    parse_as_of,
    parse_flag,
    refuse_unknown_query,
    safe_file_name,
    service_of,
)
from ._service import Service

NDJSON = "application/x-ndjson"
#: How many items are read between two looks at the clock.
_CLOCK_EVERY = 64
#: Bytes of a streamed report gathered before they are sent on.
_STREAM_CHUNK = 16 * 1024
#: Chunks a streamed report may be ahead of the client.
_STREAM_WINDOW = 16
#: How often (seconds) a blocked side of the stream looks whether the other has gone.
_POLL = 0.1


class AuditRequest(NamedTuple):
    """One ``/v1/audit`` call, as asked: the body's file, how to read and what to report."""

    engine: Engine
    planned: Sequence[tuple[Path, Reader]]
    reader_options: Mapping[str, Any]
    source: str
    all_outcomes: bool
    as_of: datetime | None
    group_by: tuple[str, ...]
    deadline: float
    timeout: float


async def audit_endpoint(request: Request) -> Response:
    service = service_of(request)
    query = request.query_params
    refuse_unknown_query(query.keys(), ("source", "all_outcomes", "as_of", "by"))
    as_of = parse_as_of(query.get("as_of"))
    all_outcomes = parse_flag(query, "all_outcomes")
    source = _source_name(query.get("source"))
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity", "gzip"):
        raise Problem(
            415,
            "unsupported_encoding",
            _("send the records plain or gzip, not Content-Encoding {encoding!r}").format(
                encoding=encoding
            ),
        )
    engine = service.engine
    folder = Path(tempfile.mkdtemp(prefix="rulecore-audit-"))
    handed_over = False
    try:
        path = folder / safe_file_name(source, "body.jsonl")
        with path.open("wb") as handle:
            await spool_body(request, service.config.max_body, handle)
        if encoding == "gzip" and not is_gzip(path):
            raise Problem(
                400,
                "invalid_gzip",
                _("the body says Content-Encoding: gzip but does not start as gzip does"),
            )
        asked = AuditRequest(
            engine,
            _plan(path, source, service),
            service.config.reader_options,
            source,
            all_outcomes,
            as_of,
            tuple(query.getlist("by")),
            deadline_of(request),
            service.config.request_timeout,
        )
        if NDJSON in request.headers.get("accept", ""):
            handed_over = True  # the streaming thread removes the folder when it ends
            return StreamingResponse(_stream_report(asked, folder), media_type=NDJSON)
        report = await service.in_thread(_json_report, asked, abandon_on_cancel=False)
        return StreamingResponse(_file_chunks(report), media_type="application/json")
    finally:
        if not handed_over:
            shutil.rmtree(folder, ignore_errors=True)


def _source_name(given: str | None) -> str:
    if given is None or given == "":
        return "body"
    if len(given) > 1000 or any(ord(char) < 32 for char in given):
        raise Problem(
            400,
            "bad_query",
            _("source must be a file name of at most 1000 characters, without control characters"),
        )
    return given


def _plan(path: Path, source: str, service: Service) -> list[tuple[Path, Reader]]:
    try:
        return plan_inputs([path], service.registry, service.config.reader)
    except InputError as error:
        raise Problem(422, "no_records", str(error).replace(str(path), source)) from None


def _items(asked: AuditRequest) -> Iterator[Item]:
    """The records and rejections of the body, named by ``source``, until time is up."""
    temporary = str(asked.planned[0][0])
    deadline = asked.deadline
    for count, item in enumerate(read_inputs(asked.planned, asked.reader_options)):
        if count % _CLOCK_EVERY == 0 and time.monotonic() > deadline:
            raise timed_out(asked.timeout)
        if isinstance(item, Rejection) and (temporary in item.source or temporary in item.reason):
            yield item._replace(
                source=item.source.replace(temporary, asked.source),
                reason=item.reason.replace(temporary, asked.source),
            )
        else:
            yield item


def _audit(asked: AuditRequest, sink_name: str, stream: IO[str], engine: Engine) -> None:
    registry = engine.registry
    options = {"all_outcomes": asked.all_outcomes, "history": None, "title": None, "color": False}
    sink = registry.writers[sink_name][1].open(stream, options)
    try:
        engine.audit(
            _items(asked),
            sink,
            all_outcomes=asked.all_outcomes,
            as_of=asked.as_of,
            group_by=asked.group_by,
        )
    except StandardsInvalid as invalid:
        raise _unreadable(invalid.errors, asked) from None
    except SourceError as error:
        raise _unreadable([error], asked) from None


def _unreadable(errors: Iterable[SourceError], asked: AuditRequest) -> Problem:
    rename = {str(asked.planned[0][0]): asked.source}
    listed = [located(error, rename) for error in errors]
    return Problem(
        422,
        "unreadable_input",
        _("the records could not be read: {first}").format(first=listed[0]["text"]),
        listed,
    )


def _json_report(asked: AuditRequest) -> IO[bytes]:
    """The JSON report, written to an unnamed temporary file and rewound."""
    report = tempfile.TemporaryFile("w+b")  # noqa: SIM115 - handed to the response
    try:
        text = open(report.fileno(), "w", encoding="utf-8", newline="", closefd=False)  # noqa: SIM115
        with text:
            _audit(asked, "json", text, asked.engine)
        report.seek(0)
    except BaseException:
        report.close()
        raise
    return report


async def _file_chunks(report: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := report.read(64 * 1024):
            yield chunk
    finally:
        report.close()


# ---------------------------------------------------------------------------------------------
# Accept: application/x-ndjson
# ---------------------------------------------------------------------------------------------


class _Stopped(Exception):
    """The client went away (or its time is up): stop auditing for it."""


class _Pipe:
    """A text stream whose writes go, in chunks, through a bounded queue to the response."""

    def __init__(self, chunks: queue.Queue[bytes | None], stop: threading.Event) -> None:
        self.chunks = chunks
        self.stop = stop
        self.buffer: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        self.buffer.append(text)
        self.size += len(text)
        if self.size >= _STREAM_CHUNK:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self.buffer:
            self.put("".join(self.buffer).encode("utf-8"))
            self.buffer, self.size = [], 0

    def put(self, chunk: bytes | None) -> None:
        while not self.stop.is_set():
            try:
                self.chunks.put(chunk, timeout=_POLL)
                return
            except queue.Full:
                continue
        raise _Stopped


def _produce(asked: AuditRequest, folder: Path, pipe: _Pipe) -> None:
    """The streaming thread: the JSON lines report into ``pipe``; an error becomes a last line."""
    import json

    try:
        _audit(asked, "jsonl", pipe, asked.engine)  # type: ignore[arg-type]
        pipe.flush()
    except _Stopped:
        return
    except Problem as problem:
        pipe.buffer.append(json.dumps({"type": "error", **problem.body()}) + "\n")
        pipe.flush()
    except Exception as error:  # never a silent end: the client sees why the stream stopped
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
        failed = _("the service failed; its log says why")
        line = {"type": "error", "error": "internal", "message": failed}
        pipe.buffer.append(json.dumps(line) + "\n")
        pipe.flush()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if not pipe.stop.is_set():
            with contextlib.suppress(_Stopped):
                pipe.put(None)


async def _stream_report(asked: AuditRequest, folder: Path) -> AsyncIterator[bytes]:
    chunks: queue.Queue[bytes | None] = queue.Queue(_STREAM_WINDOW)
    stop = threading.Event()
    producer = threading.Thread(
        target=_produce, args=(asked, folder, _Pipe(chunks, stop)), daemon=True
    )
    producer.start()
    try:
        while True:
            chunk = await anyio.to_thread.run_sync(
                _next_chunk, chunks, stop, abandon_on_cancel=True
            )
            if chunk is None:
                return
            yield chunk
    finally:
        stop.set()  # the producer stops at its next write, and removes the folder


def _next_chunk(chunks: queue.Queue[bytes | None], stop: threading.Event) -> bytes | None:
    while not stop.is_set():
        try:
            return chunks.get(timeout=_POLL)
        except queue.Empty:
            continue
    return None
