"""``--jobs``: one audit shared out over worker processes, with the output of one process.

The inputs are cut into shards: files that their reader can read in parts into ranges of whole
lines, or of whole rows where the reader says where rows end (CSV), each worker reading its own
range from the file; every other file whole.
Each worker compiles the standards once, then runs the per-record rules over its shards exactly
as a single process would, and sends back, per shard, what it would have sent to the report
(findings and rejections, in order), its counts, and the records that a cross-record rule
takes.  This process replays the shards in input order: the report gets the same calls in the
same order, the cross-record rules see the same records at the same points (so their results
come out where they would), and the counts add up exactly.  The output is the same, byte for
byte, as with one process.

What only the whole stream can tell is settled here, on replay: a record id seen twice across
shards, or a reader that fails on a shard, sends the rest of that file to be read again here,
from its start (skipping what was already audited), so that the rejection says what it would
have said.

Three pieces are shared with ``--dask`` (:mod:`rulecore._dask`), which only runs the shards
elsewhere: :func:`plan_shards`, :func:`audit_shard` and :func:`replay_shards`.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import multiprocessing
import os
import pickle
import queue
import signal
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import IO, Any, NamedTuple

from ._baseline import Baseline
from ._budget import RuleBudget
from ._engine import AuditRun, Engine, _NullSink
from ._findings import Finding
from ._i18n import _, language, set_language
from ._inputs import plan_inputs, read_file, read_inputs
from ._model import Record
from ._plugins import get_plugin_manager
from ._readers import CASE_IDS_OPTION, LINE_RANGE_OPTION, LineRange, Reader, Rejection
from ._seen import SeenIds
from ._summary import Summary, Tally
from ._urls import locate
from ._waivers import Waivers
from ._writers import ReportSink
from ._yaml import Location

#: For tests: cut JSON-lines files into shards of about this many bytes.
SHARD_BYTES_ENV = "RULECORE_SHARD_BYTES"
#: Shards per worker, so that a slow shard does not leave the others idle at the end.
SHARDS_PER_JOB = 4
#: Bounds on a shard's size: what one shard's results hold in memory depends on it.
MIN_SHARD_BYTES = 256 * 1024
MAX_SHARD_BYTES = 2 * 1024 * 1024
#: Shards the workers may be ahead of the replay, per worker: at most that many results are
#: held at once, in the workers or here.
WINDOW_PER_JOB = 2


def usable_cores() -> int:
    """The cores this process may run on (``--jobs auto``)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: More workers than this for each usable core only share the cores and multiply the memory.
MAX_JOBS_PER_CORE = 4


def resolve_jobs(jobs: int | str) -> int:
    """``jobs`` as a number of processes: a positive integer, or ``auto`` for the cores."""
    if jobs == "auto":
        return usable_cores()
    try:
        number = int(jobs)
    except (TypeError, ValueError):
        raise ValueError(
            _("jobs must be a positive integer or 'auto', not {value!r}").format(value=jobs)
        ) from None
    if number < 1 or str(number) != str(jobs).strip():
        raise ValueError(
            _("jobs must be a positive integer or 'auto', not {value!r}").format(value=jobs)
        )
    cores = usable_cores()
    if number > MAX_JOBS_PER_CORE * cores:
        # Each worker holds its own engine: hundreds of them would only share the same cores
        # and exhaust memory.
        raise ValueError(
            _(
                "jobs {number} is more than {per_core} processes for each of the {cores} "
                "cores this process may use; use 'auto'"
            ).format(number=number, per_core=MAX_JOBS_PER_CORE, cores=cores)
        )
    return number


class ShardFailed(Exception):
    """A worker died, or failed outside a check, on a shard; the audit cannot be finished."""

    def __init__(self, shard: str, detail: str) -> None:
        super().__init__(
            _("a worker failed while auditing {shard}: {detail}").format(shard=shard, detail=detail)
        )
        self.shard = shard
        self.detail = detail


# ---------------------------------------------------------------------------------------------
# shards
# ---------------------------------------------------------------------------------------------


class Shard(NamedTuple):
    """Part of the input one worker audits: a range of a file's lines, or a whole file."""

    number: int  #: its place in the input, from 0
    file: int  #: the file's place among the planned inputs
    path: Path
    reader: str
    lines: LineRange | None
    last_line: int = 0

    def describe(self) -> str:
        if self.lines is None:
            return _("{path} (the whole file)").format(path=self.path)
        part = self.lines
        return _("{path}, bytes {start}-{end} (lines {first}-{last})").format(
            path=self.path,
            start=part.start,
            end=part.end,
            first=part.first_line,
            last=self.last_line,
        )


def plan_shards(
    planned: Sequence[tuple[Path, Reader]],
    options: Mapping[str, Any],
    jobs: int,
    shard_bytes: int | None = None,
    *,
    per_job: int = SHARDS_PER_JOB,
    bounds: tuple[int, int] = (MIN_SHARD_BYTES, MAX_SHARD_BYTES),
) -> list[Shard]:
    """The shards of ``planned``, in input order: about ``per_job`` for each of ``jobs``
    workers, each of ``bounds`` bytes (least, most), unless ``shard_bytes`` sets their size."""
    splits = [_splits(reader, path, options) for path, reader in planned]
    if shard_bytes is None:
        total = sum(
            path.stat().st_size for (path, _), split in zip(planned, splits, strict=True) if split
        )
        wanted = total // (per_job * jobs) + 1
        shard_bytes = min(bounds[1], max(bounds[0], wanted))
    shards: list[Shard] = []
    for file, ((path, reader), split) in enumerate(zip(planned, splits, strict=True)):
        parts = _parts(reader, path, options, shard_bytes) if split else None
        if parts is None:
            shards.append(Shard(len(shards), file, path, reader.name, None))
            continue
        for part, last_line in parts:
            shards.append(Shard(len(shards), file, path, reader.name, part, last_line))
    return shards


def _parts(
    reader: Reader, path: Path, options: Mapping[str, Any], size_each: int
) -> list[tuple[LineRange, int]] | None:
    """Where ``path`` is cut, or None to read it whole: when its reader cannot say where."""
    try:
        cut = reader.ranges(path, options, size_each) if reader.ranges is not None else None
        return list(line_ranges(path, size_each) if cut is None else cut)
    except Exception:  # read whole, by a worker, and then here: it fails as with one process
        return None


def _splits(reader: Reader, path: Path, options: Mapping[str, Any]) -> bool:
    if reader.splits is None:
        return False
    try:
        return reader.splits(path, options)
    except Exception:  # read whole, by a worker, and then here: it fails as with one process
        return False


_CHUNK = 1024 * 1024


def line_ranges(path: Path, size_each: int) -> Iterator[tuple[LineRange, int]]:
    """``path`` cut into ranges of whole lines of about ``size_each`` bytes, each with the
    number of its last line."""
    size = path.stat().st_size
    start, line = 0, 1
    with path.open("rb") as stream:
        while start < size:
            end = _line_end_after(stream, start + size_each, size)
            stream.seek(start)
            newlines = _count_newlines(stream, end - start)
            stream.seek(end - 1)
            last_line = line + newlines - (stream.read(1) == b"\n")
            yield LineRange(start, end, line), last_line
            start, line = end, line + newlines


def _line_end_after(stream: IO[bytes], at: int, size: int) -> int:
    """Where the line that holds byte ``at - 1`` ends (just after its newline)."""
    if at >= size:
        return size
    stream.seek(at - 1)
    position = at - 1
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return size
        found = chunk.find(b"\n")
        if found >= 0:
            return position + found + 1
        position += len(chunk)


def _count_newlines(stream: IO[bytes], length: int) -> int:
    count = 0
    while length > 0:
        chunk = stream.read(min(_CHUNK, length))
        if not chunk:
            break
        count += chunk.count(b"\n")
        length -= len(chunk)
    return count


# ---------------------------------------------------------------------------------------------
# workers
# ---------------------------------------------------------------------------------------------


class EngineRecipe(NamedTuple):
    """How a worker builds the same engine: the standards' paths and the extra plugins (module
    names, registered after the installed ones as :func:`get_plugin_manager` does)."""

    standards: tuple[str, ...]
    plugins: tuple[str, ...] = ()

    def build(self) -> Engine:
        modules = [importlib.import_module(name) for name in self.plugins]
        return Engine.from_paths(self.standards, get_plugin_manager(plugins=modules))


class ShardSetup(NamedTuple):
    """Everything a worker needs to audit shards, sent once to each."""

    recipe: EngineRecipe
    reader_options: Mapping[str, Any]
    all_outcomes: bool
    as_of: datetime | None
    group_by: tuple[str, ...]
    waivers: Waivers | None
    with_evidence: bool
    language: str = "en"  #: findings are rendered in the worker, in the language of the audit
    rule_timeout: float | None = None


#: A shard's output, in order: a finding, a rejection, or the end of a record (its id; or the
#: record itself, when a cross-record rule takes it).
Entry = Finding | Rejection | str | Record


@dataclass
class ShardResult:
    """What a shard sends back: its entries in order, its counts, and the waivers it used."""

    entries: list[Any] = field(default_factory=list)
    tally: Tally | None = None
    waivers_used: set[Location] = field(default_factory=set)
    #: The reader raised: this process reads the file again, to fail as one process would.
    reread: bool = False
    #: The values the rules name that this shard's records held.
    occurred: frozenset[tuple[str, Any]] = frozenset()
    #: Records and rejections read.
    items: int = 0
    #: The id of each case the reader started, when it groups rows into cases.
    case_ids: list[str] = field(default_factory=list)


class _Collector:
    def __init__(self, entries: list[Any], with_evidence: bool) -> None:
        self.finding = entries.append
        self.needs_evidence = with_evidence

    def rejection(self, rejection: Rejection) -> None:
        raise AssertionError("rejections do not go through the run in a worker")

    def close(self, summary: Summary) -> None:
        raise AssertionError("a worker's run is not finished")


def audit_shard(engine: Engine, setup: ShardSetup, shard: Shard) -> ShardResult:
    options = dict(setup.reader_options)
    case_ids: list[str] = []
    if shard.lines is not None:
        options[LINE_RANGE_OPTION] = shard.lines
        options[CASE_IDS_OPTION] = case_ids
    waivers = setup.waivers
    if waivers is not None:
        waivers.used = set()
    result = ShardResult()
    entries = result.entries
    run = AuditRun(
        engine,
        _Collector(entries, setup.with_evidence),
        all_outcomes=setup.all_outcomes,
        as_of=setup.as_of,
        group_by=setup.group_by,
        waivers=waivers,
        cross_record=False,
    )
    items = engine.registry.readers[shard.reader][1].read(shard.path, options)
    takes_cross_record = engine.takes_cross_record
    read = 0
    with RuleBudget(setup.rule_timeout):
        while True:
            try:
                item = next(items)
            except StopIteration:
                break
            except Exception:  # replayed by the parent, which reports it as one process would
                return ShardResult(reread=True)
            read += 1
            if isinstance(item, Rejection):
                entries.append(item)
                continue
            run.add(item)
            entries.append(item if takes_cross_record(item) else item.id)
    result.items = read
    result.case_ids = case_ids
    result.tally = run.tally
    result.waivers_used = set(waivers.used) if waivers is not None else set()
    result.occurred = run.occurrences.occurred()
    return result


def signature_of(engine: Engine) -> list[tuple[str, str]]:
    return [(standard.id, rule.id) for standard in engine.standards for rule in standard.rules]


def _work(connection: Connection, setup: ShardSetup) -> None:
    """A worker's life: compile the standards, then audit the shards it is sent.

    Results go out through a thread, so that the worker audits its next shard while this
    process is still busy with an earlier one and has not read the last result yet.
    """
    # Ctrl-C reaches the whole process group: this process decides, and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_language(setup.language)
    outbox: queue.Queue[bytes | None] = queue.Queue()
    sender = threading.Thread(target=_send_all, args=(connection, outbox), daemon=True)
    sender.start()
    try:
        _serve(connection, setup, outbox)
    finally:
        outbox.put(None)
        sender.join()


def _serve(connection: Connection, setup: ShardSetup, outbox: queue.Queue[bytes | None]) -> None:
    def post(message: tuple[str, int | None, Any]) -> None:
        with no_gc():
            outbox.put(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))

    try:
        engine = setup.recipe.build()
    except BaseException:
        post(("failed", None, traceback.format_exc()))
        return
    post(("ready", None, signature_of(engine)))
    while True:
        shard = connection.recv()
        if shard is None:
            return
        try:
            # A shard's results are kept until it ends: the collector would scan them again
            # and again.  What checks leave for it is collected after the shard instead.
            with no_gc():
                result = audit_shard(engine, setup, shard)
        except BaseException:
            post(("failed", shard.number, traceback.format_exc()))
            return
        post(("done", shard.number, result))


def _send_all(connection: Connection, outbox: queue.Queue[bytes | None]) -> None:
    while (message := outbox.get()) is not None:
        connection.send_bytes(message)


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Building, pickling and unpickling a shard's results makes many objects that live on;
    the collections they set off cost more than the work itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


#: Shards a worker is given at once: one to audit, one waiting, so it never idles.
SHARDS_AHEAD = 2


class _Worker:
    def __init__(self, context: Any, setup: ShardSetup, number: int) -> None:
        self.connection, theirs = context.Pipe()
        self.process = context.Process(
            target=_work, args=(theirs, setup), name=f"rulecore-worker-{number}", daemon=True
        )
        self.process.start()
        theirs.close()  # so that the worker's death is an end of file here
        self.shards: deque[Shard] = deque()  #: sent, and not yet come back, oldest first
        self.ready = False

    def where(self) -> str:
        return self.shards[0].describe() if self.shards else "its start (compiling standards)"

    def died(self) -> str:
        self.process.join(timeout=5)
        code = self.process.exitcode
        how = (
            _("killed by signal {number}").format(number=-code)
            if code is not None and code < 0
            else _("exit {code}").format(code=code)
        )
        return _("worker {pid} died ({how})").format(pid=self.process.pid, how=how)

    def stop(self, now: bool = False) -> None:
        if self.process.is_alive() and not now:
            with contextlib.suppress(OSError):
                self.connection.send(None)
            self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()
        self.connection.close()


class _Pool:
    """Worker processes, fed shards and read back in shard order, a bounded window ahead."""

    def __init__(self, jobs: int, setup: ShardSetup, signature: list[tuple[str, str]]) -> None:
        # Not fork: the parent may run threads (a progress display) that hold locks.
        context = multiprocessing.get_context("spawn")
        self.signature = signature
        self.workers = [_Worker(context, setup, number) for number in range(jobs)]
        # What a shard's results hold is freed by reference counting once replayed; left to the
        # collector, its many containers would be scanned again and again, for nothing.  Not
        # done when the caller froze objects of its own, whose freeze must stay theirs to undo.
        self.freeze = gc.isenabled() and gc.get_freeze_count() == 0

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if self.freeze:
            gc.unfreeze()
        for worker in self.workers:
            worker.stop(now=kind is not None)  # a failed audit does not wait for its workers

    def results(self, shards: Sequence[Shard], window: int) -> Iterator[tuple[Shard, ShardResult]]:
        done: dict[int, ShardResult] = {}
        sent = 0
        for wanted in range(len(shards)):
            while wanted not in done:
                sent = self._dispatch(shards, sent, wanted + window)
                self._receive(done, block=True)
            self._receive(done, block=False)
            sent = self._dispatch(shards, sent, wanted + 1 + window)
            yield shards[wanted], done.pop(wanted)

    def _dispatch(self, shards: Sequence[Shard], sent: int, limit: int) -> int:
        limit = min(limit, len(shards))
        # An idle worker first, then a second shard each, once all have started: a shard
        # queued behind another on the first worker up would hold up the replay.
        depths = SHARDS_AHEAD if all(worker.ready for worker in self.workers) else 1
        for depth in range(depths):
            for worker in self.workers:
                if sent >= limit:
                    return sent
                if worker.ready and len(worker.shards) == depth:
                    worker.shards.append(shards[sent])
                    worker.connection.send(shards[sent])
                    sent += 1
        return sent

    def _receive(self, done: dict[int, ShardResult], block: bool) -> None:
        busy = [worker for worker in self.workers if not worker.ready or worker.shards]
        if not busy:
            return
        ready = wait([worker.connection for worker in busy], timeout=None if block else 0)
        for worker in busy:
            if worker.connection not in ready:
                continue
            try:
                message = worker.connection.recv_bytes()
            except (EOFError, OSError):
                raise ShardFailed(worker.where(), worker.died()) from None
            with no_gc():
                kind, number, payload = pickle.loads(message)  # noqa: S301 - from our worker
                if self.freeze:
                    gc.freeze()
            if kind == "failed":
                raise ShardFailed(
                    worker.where(),
                    _("worker {pid} raised:\n{error}").format(
                        pid=worker.process.pid, error=payload
                    ),
                )
            if kind == "ready":
                if payload != self.signature:
                    raise ShardFailed(
                        worker.where(), "the worker compiled other standards than this process"
                    )
                worker.ready = True
                continue
            done[number] = payload
            worker.shards.popleft()


# ---------------------------------------------------------------------------------------------
# the audit
# ---------------------------------------------------------------------------------------------


def audit_planned(
    engine: Engine,
    planned: Sequence[tuple[Path, Reader]],
    sink: ReportSink | None = None,
    *,
    recipe: EngineRecipe,
    jobs: int = 1,
    reader_options: Mapping[str, Any] | None = None,
    all_outcomes: bool = False,
    as_of: datetime | None = None,
    on_item: Callable[[], None] | None = None,
    group_by: Sequence[str] = (),
    waivers: Waivers | None = None,
    baseline: Baseline | None = None,
    shard_bytes: int | None = None,
    rule_timeout: float | None = None,
    client: Any = None,
) -> Summary:
    """Audit the planned inputs with ``jobs`` processes, or on the Dask cluster of
    ``client`` (a ``distributed.Client``); the same as ``engine.audit`` over
    ``read_inputs(planned, reader_options)``, whose arguments it takes.

    ``recipe`` builds ``engine`` again in each worker.  With ``jobs=1`` and no client, or
    inputs that make a single shard for ``jobs``, no worker is started.
    Raises :class:`ShardFailed` when a worker dies or fails outside a check.
    """
    options = dict(reader_options or {})
    if shard_bytes is None and os.environ.get(SHARD_BYTES_ENV):
        shard_bytes = int(os.environ[SHARD_BYTES_ENV])
    if client is not None:
        from . import _dask

        shards = _dask.plan(client, planned, options, shard_bytes)
    else:
        shards = plan_shards(planned, options, jobs, shard_bytes) if jobs > 1 else []
    if not shards or (client is None and len(shards) < 2):
        # nothing to share out: a worker would only add its start-up
        return engine.audit(
            read_inputs(planned, options),
            sink,
            all_outcomes=all_outcomes,
            as_of=as_of,
            on_item=on_item,
            group_by=group_by,
            waivers=waivers,
            baseline=baseline,
            rule_timeout=rule_timeout,
        )
    sink = sink or _NullSink()
    setup = ShardSetup(
        recipe,
        options,
        all_outcomes,
        as_of,
        tuple(group_by),
        waivers,
        bool(getattr(sink, "needs_evidence", True)),
        language(),
        rule_timeout,
    )
    run = AuditRun(
        engine,
        sink,
        all_outcomes=all_outcomes,
        as_of=as_of,
        group_by=group_by,
        waivers=waivers,
        baseline=baseline,
    )
    tick = on_item or _nothing
    # the cross-record rules, and files read again, run here, under the same budget
    with RuleBudget(rule_timeout):
        if client is not None:
            # Progress counts the records of each shard as its task ends, in whatever order.
            results = _dask.shard_results(client, setup, shards, signature_of(engine), tick)
            replay_shards(run, planned, options, results, _Replay(run, _nothing, tick))
            return run.finish()
        with _Pool(min(jobs, len(shards)), setup, signature_of(engine)) as pool:
            results = pool.results(shards, WINDOW_PER_JOB * jobs)
            replay_shards(run, planned, options, results, _Replay(run, tick, tick))
    return run.finish()


def replay_shards(
    run: AuditRun,
    planned: Sequence[tuple[Path, Reader]],
    options: Mapping[str, Any],
    results: Iterable[tuple[Shard, ShardResult]],
    replay: _Replay,
) -> None:
    """Send the shards' results, which come in input order, on to ``run``."""
    for shard, result in results:
        if shard.file in replay.read_here:
            continue
        if result.reread or not replay.fresh_ids(shard, result):
            path, reader = planned[shard.file]
            replay.read_rest_here(shard.file, path, reader, options)
            continue
        replay.shard(shard, result)


def _nothing() -> None:
    pass


class _Replay:
    """Shards' results, sent on to the run in input order."""

    def __init__(
        self, run: AuditRun, on_item: Callable[[], None], on_reread: Callable[[], None]
    ) -> None:
        self.run = run
        self.on_item = on_item  #: for each item replayed
        self.on_reread = on_reread  #: for each item read again here
        self.first_seen = SeenIds()  #: record id -> file, as reading keeps it
        self.items: dict[int, int] = {}  #: items of each planned file replayed so far
        self.read_here: set[int] = set()  #: planned files finished in this process
        self.cases: dict[int, set[str]] = {}  #: ids of the cases started in each file

    def fresh_ids(self, shard: Shard, result: ShardResult) -> bool:
        """Note the shard's record ids as read, unless one was read before (then False)."""
        ids = [
            entry.id if isinstance(entry, Record) else entry
            for entry in result.entries
            if type(entry) is str or isinstance(entry, Record)
        ]
        first_seen = self.first_seen
        if len(set(ids)) != len(ids) or any(record_id in first_seen for record_id in ids):
            return False
        if result.case_ids:  # a case whose rows turn up again, after a cut
            cases = self.cases.setdefault(shard.file, set())
            if any(case_id in cases for case_id in result.case_ids):
                return False
            cases.update(result.case_ids)
        source = str(shard.path)
        for record_id in ids:
            first_seen[record_id] = source
        return True

    def shard(self, shard: Shard, result: ShardResult) -> None:
        run, on_item = self.run, self.on_item
        findings: list[Any] = []
        items = 0
        for entry in result.entries:
            if type(entry) is str:
                run.add_evaluated(entry, findings)
            elif isinstance(entry, Record):
                run.add_evaluated(entry.id, findings, entry)
            elif isinstance(entry, Rejection):
                run.add(entry)
            else:
                findings.append(entry)
                continue
            findings = []
            items += 1
            on_item()
        if result.tally is not None:
            run.tally.merge(result.tally)
        if run.waivers is not None:
            run.waivers.used |= result.waivers_used
        run.occurrences.merge(result.occurred)
        self.items[shard.file] = self.items.get(shard.file, 0) + items

    def read_rest_here(
        self, file: int, path: Path, reader: Reader, options: Mapping[str, Any]
    ) -> None:
        """Audit what is left of ``path`` in this process, as one process would have."""
        self.read_here.add(file)
        skip = self.items.get(file, 0)
        for item in read_file(path, reader, options, self.first_seen, skip):
            self.run.add(item)
            self.on_reread()


def audit_files(
    standards: Sequence[str | Path],
    inputs: Sequence[str | Path],
    sink: ReportSink | None = None,
    *,
    jobs: int | str = 1,
    reader: str | None = None,
    mapping: str | Path | None = None,
    plugins: Sequence[str] = (),
    all_outcomes: bool = False,
    as_of: datetime | None = None,
    on_item: Callable[[], None] | None = None,
    group_by: Sequence[str] = (),
    waivers: Waivers | None = None,
    baseline: Baseline | None = None,
    rule_timeout: float | None = None,
    client: Any = None,
) -> Summary:
    """Audit the files and folders ``inputs`` against the ``standards``, as ``rulecore audit``
    does, with ``jobs`` processes (``"auto"``: one per usable core), or on the Dask cluster
    of ``client``, a ``distributed.Client`` (``rulecore[dask]``).

    :param reader: read every input with this reader (``--reader``).
    :param mapping: read exports through this field mapping (``--mapping``).
    :param plugins: modules to register as plugins besides the installed ones, by import name,
        so that every worker can import them too.
    :param rule_timeout: seconds a check may run on one record, in any process, before it is
        stopped and its outcome is an ``error`` (``None``: no limit), as ``--rule-timeout``.

    Inputs may be fsspec URLs (``s3://``, ``memory://``...) when fsspec is installed.
    The other parameters are those of :meth:`Engine.audit`.  Raises :class:`ShardFailed` when
    a worker dies, or a task keeps failing, and what ``Engine.from_paths`` and ``plan_inputs``
    raise.
    """
    processes = resolve_jobs(jobs)
    if client is not None and processes > 1:
        raise ValueError("give either jobs or a Dask client, not both")
    recipe = EngineRecipe(tuple(str(path) for path in standards), tuple(plugins))
    engine = recipe.build()
    options: dict[str, Any] = {}
    if mapping is not None:
        reader, options = reader or "mapping", {"mapping": Path(mapping)}
    planned = plan_inputs([locate(path) for path in inputs], engine.registry, reader)
    return audit_planned(
        engine,
        planned,
        sink,
        recipe=recipe,
        jobs=processes,
        reader_options=options,
        all_outcomes=all_outcomes,
        as_of=as_of,
        on_item=on_item,
        group_by=group_by,
        waivers=waivers,
        baseline=baseline,
        rule_timeout=rule_timeout,
        client=client,
    )
