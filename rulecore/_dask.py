"""``--dask``: one audit shared out over a Dask cluster, with the output of one process.

The machinery is ``--jobs``'s (:mod:`rulecore._parallel`): the inputs are cut into the same
kind of shards (byte ranges of JSON lines, of CSV rows, of sorted event logs' cases; other
files whole), each worker audits a shard as one process would, and this process replays the
shards' results in input order, so that the report, cross-record rules and service levels
included, is the same byte for byte.  Only who
runs the shards differs: here a task per shard, on whatever workers the scheduler has.

- Each worker process compiles the standards once: the engine is kept in a module global,
  keyed by a digest of the standards' files and the plugins, and reused by every later task
  (and by later audits with the same standards, on a long-lived cluster).
- Shards are a few megabytes, so that a task's overhead (milliseconds) stays small beside the
  work it carries.  At most a few shards per worker are in flight beyond the one being
  replayed, which bounds what this process holds.
- A task that raises is retried (:data:`RETRIES`); a worker that dies has its task moved to
  another worker by the scheduler, up to its ``allowed-failures``.  A task that keeps failing
  stops the audit with :class:`~rulecore.ShardFailed`, naming its file and bytes.

Inputs may also be fsspec URLs (:mod:`rulecore._urls`).  Nothing here imports dask or
distributed until an audit asks for them.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import hashlib
import logging
import re
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._engine import Engine
from ._i18n import _, set_language
from ._parallel import (
    MAX_JOBS_PER_CORE,
    Shard,
    ShardFailed,
    ShardResult,
    ShardSetup,
    audit_shard,
    plan_shards,
    signature_of,
    usable_cores,
)
from ._readers import Reader
from ._urls import UrlPath

#: Times the scheduler runs a task again after it raised, before the audit fails.
RETRIES = 2
#: Tasks for a shard whose workers all died (``allowed-failures``) before the audit fails:
#: the scheduler also counts a death against tasks only queued on that worker.
KILLED_TASKS = 2
#: Shards per worker thread, so that a slow shard does not leave the others idle at the end.
SHARDS_PER_WORKER = 4
#: Bounds on a shard's size: big enough that a task's overhead is small beside its work,
#: small enough that one shard's results are not a burden to hold.
MIN_SHARD_BYTES = 2 * 1024 * 1024
MAX_SHARD_BYTES = 16 * 1024 * 1024
#: Shards in flight per worker thread, beyond the one being replayed.
WINDOW_PER_WORKER = 3
#: How long to wait for a scheduler to answer, or for a first worker to join it.
CONNECT_TIMEOUT = "20s"

_LOCAL = re.compile(r"local(?::(?P<workers>[^:]*))?")


class ClusterError(Exception):
    """The cluster cannot be reached or started, or the dask extra is not installed."""


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ClusterError(
            _("--dask needs dask and distributed: pip install 'rulecore[dask]'")
        ) from None
    return distributed


# ---------------------------------------------------------------------------------------------
# the cluster
# ---------------------------------------------------------------------------------------------


def check_address(value: str) -> str:
    """``value`` as ``--dask`` takes it: ``local``, ``local:N`` or a scheduler's address."""
    value = value.strip()
    local = _LOCAL.fullmatch(value)
    if local is None:
        if not value:
            raise ValueError(_("give a scheduler's address, such as tcp://host:8786, or local"))
        return value
    workers = local.group("workers")
    if workers is None:
        return value
    limit = MAX_JOBS_PER_CORE * usable_cores()
    if not workers.isdigit() or not 1 <= int(workers) <= limit:
        raise ValueError(
            _(
                "{value!r}: write local:N with N a number of worker processes from 1 to {limit}"
            ).format(value=value, limit=limit)
        )
    return value


@contextlib.contextmanager
def cluster_client(address: str | None) -> Iterator[Any]:
    """A ``distributed.Client`` for ``address`` (None: no cluster, None yielded).

    ``local`` or ``local:N`` starts a cluster of N worker processes (one per core when N is
    not given), one thread each, on this machine, for as long as the context lasts.
    """
    if address is None:
        yield None
        return
    distributed = _import_distributed()
    local = _LOCAL.fullmatch(address)
    if local is not None:
        import dask

        workers = int(local.group("workers") or usable_cores())
        # One task at a time on each worker: a worker that dies then takes no other task
        # down with it, and the task that killed it is the one blamed.
        with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
            try:
                cluster = distributed.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    # No dashboard; the scheduler's small HTTP server (health, metrics) on a
                    # free local port, not on 8787, which another cluster may hold.
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                    silence_logs=logging.CRITICAL,  # the audit says what failed, once
                )
            except Exception as error:
                raise ClusterError(
                    _("cannot start a local Dask cluster: {error}").format(error=error)
                ) from None
        with cluster, distributed.Client(cluster) as client:
            yield client
        return
    try:
        _refused_at_once(address)
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterError(
            _("cannot reach the Dask scheduler at {address}: {error}").format(
                address=address, error=error
            )
        ) from None
    with client:
        yield client


def _refused_at_once(address: str) -> None:
    """Raise :class:`ConnectionRefusedError` when nothing listens at a TCP ``address``.

    distributed retries a refused connection until its timeout, as if the scheduler were
    still starting; a port nobody listens on is told at once instead.  Any other outcome
    (an answer, a slow network, another protocol) is left to distributed.
    """
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme != "tcp":
            return
        host, port = parse_host_port(location)
    except (TypeError, ValueError):
        return
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except ConnectionRefusedError:
        raise
    except OSError:
        return


def _worker_threads(client: Any) -> int:
    threads = sum(client.nthreads().values())
    if threads:
        return int(threads)
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except TimeoutError:
        raise ClusterError(
            _("the Dask scheduler at {address} has no workers").format(
                address=client.scheduler.address
            )
        ) from None
    return int(sum(client.nthreads().values()))


# ---------------------------------------------------------------------------------------------
# planning and running the shards
# ---------------------------------------------------------------------------------------------


def plan(
    client: Any,
    planned: Sequence[tuple[Path, Reader]],
    options: Mapping[str, Any],
    shard_bytes: int | None,
) -> list[Shard]:
    """The shards of ``planned`` for the workers of ``client``, in input order."""
    return plan_shards(
        planned,
        options,
        _worker_threads(client),
        shard_bytes,
        per_job=SHARDS_PER_WORKER,
        bounds=(MIN_SHARD_BYTES, MAX_SHARD_BYTES),
    )


def shard_results(
    client: Any,
    setup: ShardSetup,
    shards: Sequence[Shard],
    signature: list[tuple[str, str]],
    tick: Callable[[], None],
) -> Iterator[tuple[Shard, ShardResult]]:
    """The shards' results in input order, each computed by a task on the cluster.

    ``tick`` is called once for each record or rejection of a shard as its task ends.
    Raises :class:`ShardFailed` for a task that keeps failing.
    """
    tasks = _Tasks(client, _anchored(setup), signature)
    window = WINDOW_PER_WORKER * _worker_threads(client)
    done: dict[int, ShardResult] = {}
    # What the results hold is freed by reference counting once replayed; as with --jobs,
    # the collector would only scan it again and again.
    freeze = gc.isenabled() and gc.get_freeze_count() == 0
    submitted = 0
    try:
        for wanted in range(len(shards)):
            while submitted < min(wanted + 1 + window, len(shards)):
                tasks.submit(shards[submitted])
                submitted += 1
            while wanted not in done:
                shard, result = tasks.next_done()
                if freeze:
                    gc.freeze()
                for _item in range(result.items):
                    tick()
                done[shard.number] = result
            yield shards[wanted], done.pop(wanted)
    finally:
        if freeze:
            gc.unfreeze()
        tasks.cancel()


class _Tasks:
    """The shards' tasks on the cluster, as they are submitted and end."""

    def __init__(self, client: Any, setup: ShardSetup, signature: list[tuple[str, str]]) -> None:
        self.client = client
        self.signature = signature
        self.key = recipe_key(setup)
        # Sent with each task, not scattered: a few kilobytes beside megabytes of input, and
        # not lost with the workers that held it.
        self.setup = setup
        self.run = uuid.uuid4().hex[:12]
        self.finished = _import_distributed().as_completed()
        self.shard_of: dict[str, Shard] = {}
        self.outstanding: dict[int, Any] = {}  #: shard -> its future
        self.attempts: dict[int, int] = {}  #: shard -> times submitted

    def submit(self, shard: Shard) -> None:
        self.attempts[shard.number] = attempt = self.attempts.get(shard.number, 0) + 1
        future = self.client.submit(
            run_shard,
            self.setup,
            self.key,
            self.signature,
            shard,
            key=f"rulecore-shard-{self.run}-{shard.number}-{attempt}",
            retries=RETRIES,
            pure=False,
        )
        self.shard_of[future.key] = shard
        self.outstanding[shard.number] = future
        self.finished.add(future)

    def next_done(self) -> tuple[Shard, ShardResult]:
        """The next shard whose task ends, in whatever order, with its result."""
        while True:
            future = next(self.finished)
            shard = self.shard_of.pop(future.key)
            try:
                result = _result_of(future, shard)
            except _LostResult as lost:
                # Lost with the worker that held it, or killed beside the task that killed
                # its worker (a worker holds more than the task it runs): run again.
                if self.attempts[shard.number] >= lost.attempts:
                    raise ShardFailed(shard.describe(), str(lost)) from None
                self.submit(shard)
                continue
            del self.outstanding[shard.number]
            future.release()
            return shard, result

    def cancel(self) -> None:
        with contextlib.suppress(Exception):  # a cluster gone away has nothing to cancel
            self.client.cancel(list(self.outstanding.values()))


class _LostResult(Exception):
    """A task's result could not be fetched from the worker that held it."""

    def __init__(self, message: str, attempts: int = RETRIES + 1) -> None:
        super().__init__(message)
        self.attempts = attempts  #: tasks for the shard before the audit fails


def _result_of(future: Any, shard: Shard) -> ShardResult:
    if future.status == "finished":
        try:
            result: ShardResult = future.result()
        except Exception as error:
            if future.status == "error":
                return _result_of(future, shard)
            raise _LostResult(
                _("its result was lost {times} times: {error}").format(
                    times=RETRIES + 1, error=error
                )
            ) from None
        return result
    if future.status != "error":  # cancelled, or lost with the workers that held it
        raise _LostResult(
            _(
                "its task was {status} {times} times (the scheduler or its workers went away)"
            ).format(status=future.status, times=RETRIES + 1)
        )
    raised = future.exception()
    if type(raised).__name__ == "KilledWorker":
        raise _LostResult(
            _(
                "the worker processes that ran it died, again and again, in {tasks} tasks "
                "(Dask's KilledWorker); the workers' logs say why"
            ).format(tasks=KILLED_TASKS),
            KILLED_TASKS,
        )
    trace = "".join(traceback.format_exception(type(raised), raised, future.traceback()))
    raise ShardFailed(
        shard.describe(),
        _("its task failed {times} times; the last time it raised:\n{trace}").format(
            times=RETRIES + 1, trace=trace
        ),
    )


def _anchored(setup: ShardSetup) -> ShardSetup:
    """``setup`` with its local paths made absolute, so that a worker started elsewhere
    finds the same files (the inputs keep their names: they are what rejections show)."""
    recipe = setup.recipe._replace(
        standards=tuple(str(Path(name).resolve()) for name in setup.recipe.standards)
    )
    options = {
        name: value.resolve() if type(value) is not UrlPath and isinstance(value, Path) else value
        for name, value in setup.reader_options.items()
    }
    return setup._replace(recipe=recipe, reader_options=options)


def recipe_key(setup: ShardSetup) -> str:
    """A digest of what the engine is built from: the standards' files and the plugins."""
    digest = hashlib.sha256(repr(setup.recipe).encode())
    for name in setup.recipe.standards:
        path = Path(name)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file).encode())
            with contextlib.suppress(OSError):  # the build will say what is wrong with it
                digest.update(file.read_bytes())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# in a worker
# ---------------------------------------------------------------------------------------------

_compiled: dict[str, Engine] = {}
_compiling = threading.Lock()
#: How many times this process compiled standards for a task (``builds``).
compile_counts = {"builds": 0}


def _engine_for(setup: ShardSetup, key: str, signature: list[tuple[str, str]]) -> Engine:
    """The engine of ``setup``, compiled once in this process."""
    with _compiling:
        engine = _compiled.get(key)
        if engine is None:
            engine = setup.recipe.build()
            compile_counts["builds"] += 1
            if signature_of(engine) != signature:
                raise RuntimeError(
                    _("the worker compiled other standards than the client: {mine}").format(
                        mine=signature_of(engine)
                    )
                )
            _compiled.clear()  # one audit's standards at a time
            _compiled[key] = engine
        return engine


def run_shard(
    setup: ShardSetup, key: str, signature: list[tuple[str, str]], shard: Shard
) -> ShardResult:
    """A task: audit one shard, as a ``--jobs`` worker does."""
    # A standard's texts are chosen as it compiles, and findings are rendered here: both in the
    # language of the audit, so an engine is kept for each language.
    set_language(setup.language)
    engine = _engine_for(setup, f"{key}:{setup.language}", signature)
    if setup.waivers is not None:  # the waivers a shard uses are its own
        setup = setup._replace(waivers=copy.copy(setup.waivers))
    with _collector_paused():
        return audit_shard(engine, setup, shard)


class _CollectorPause:
    """The cyclic collector off while shards are audited (see ``no_gc``), for a worker that
    may run several tasks at once in threads: on again when the last one ends."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.was_enabled = True

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self.lock:
            if self.depth == 0:
                self.was_enabled = gc.isenabled()
                gc.disable()
            self.depth += 1
        try:
            yield
        finally:
            with self.lock:
                self.depth -= 1
                if self.depth == 0 and self.was_enabled:
                    gc.enable()


_collector_paused = _CollectorPause()
