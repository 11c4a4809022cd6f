"""The ``rulecore`` command line: audit, validate, explain, plugins, test, map, sample, history.

Exit codes: 0 when nothing reaches the ``--fail-on`` level, 1 when something does (or a
fixture fails), 2 for a usage error, an invalid standard or unreadable input, 130 and 143
when stopped by SIGINT or SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import click

from . import __version__
from ._baseline import Baseline, load_baseline
from ._checks import AnyCheck, CrossRecordCheck
from ._dask import ClusterError, check_address, cluster_client
from ._engine import Engine
from ._findings import Finding
from ._fixtures import CaseResult, discover_fixtures, run_fixture
from ._history import HistoryStore, SqliteHistory
from ._inputs import InputError, plan_inputs, read_inputs
from ._model import PLAUSIBLE_RANGE, outside_plausible_range
from ._parallel import EngineRecipe, ShardFailed, audit_planned, resolve_jobs
from ._plugins import PluginManager, Registry, collect, get_plugin_manager
from ._readers import Reader, Rejection
from ._sampling import SEVERITY_ORDER, draw_sample
from ._scorecard import CLOSED_PIPE_EXIT, ReportConsole
from ._standards import StandardsInvalid, load_standards, unknown_check
from ._summary import Summary
from ._urls import locate
from ._waivers import Waivers, load_waivers
from ._writers import ReportSink, rejection_to_dict
from ._yaml import SourceError

FAIL_LEVELS = {"never": (), "fail": ("fail", "error"), "warn": ("warn", "fail", "error")}


class UsageFailure(click.ClickException):
    """An error that exits 2, like click's own usage errors."""

    exit_code = 2


def _registry() -> Registry:
    manager: PluginManager = get_plugin_manager()
    registry = collect(manager)
    for problem in registry.problems:
        click.echo(f"warning: plugin {problem.plugin!r}: {problem.message}", err=True)
    return registry


@contextmanager
def _exit_on_source_errors() -> Iterator[None]:
    """Exit 2, printing each located problem, when a user's file is wrong.

    Standards, waivers and baselines are checked before the audit starts; a reader loads its
    own configuration on its first read (the mapping reader: the mapping file, and each
    export's header against it), so its problems surface here mid-stream.
    """
    try:
        yield
    except StandardsInvalid as invalid:
        for error in invalid.errors:
            click.echo(f"error: {error}", err=True)
        raise SystemExit(2) from None
    except SourceError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(2) from None


def _standards_or_exit(paths: Sequence[Path], registry: Registry) -> Engine:
    with _exit_on_source_errors():
        return Engine(load_standards(paths, registry), registry)


class _Commands(click.Group):
    """rulecore's commands, with a closed pipe handled.

    ``rulecore audit ... | head`` closes stdout early.  That is not a finding, so rather than
    click's exit 1 (which a CI gate would read as "failures found") the command exits 141, as
    a shell reports a process ended by SIGPIPE.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with _terminate_as_exception():
                return super().invoke(ctx)
        except BrokenPipeError:
            # Python flushes stdout on the way out; point it at the null device so it can.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(CLOSED_PIPE_EXIT) from None
        except KeyboardInterrupt:
            raise _stopped_by(ctx, signal.SIGINT) from None
        except _Terminated:
            raise _stopped_by(ctx, signal.SIGTERM) from None


class _Terminated(BaseException):
    """SIGTERM, raised where the program is, so that its cleanup runs as for Ctrl-C."""


def _raise_terminated(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the cleanup
    raise _Terminated


@contextmanager
def _terminate_as_exception() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may handle signals (an embedding host's worker thread)
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


#: Where ``ctx.meta`` (shared by a command and its group) counts the records read so far.
_READ_SO_FAR = "rulecore.read_so_far"


def _stopped_by(ctx: click.Context, which: signal.Signals) -> SystemExit:
    """The exit for a signal: 128 + its number, as a shell reports it, after one line.

    Every file being written was a temporary one and has been removed on the way here.
    """
    read = ctx.meta.get(_READ_SO_FAR)
    got = "" if read is None else f" after {_count(read, 'record')} read"
    click.echo(f"stopped by {which.name}{got}; no file was written", err=True)
    return SystemExit(128 + which.value)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rulecore")
def main() -> None:
    """Audit service interactions against YAML service standards."""


# ---------------------------------------------------------------------------------------------
# audit
# ---------------------------------------------------------------------------------------------


def _parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageFailure(f"--as-of {value!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise UsageFailure(f"--as-of {value!r} needs a UTC offset, such as +00:00 or Z")
    if outside_plausible_range(moment):
        # The in-flight clock works its way to the moment: centuries away would take minutes.
        raise UsageFailure(
            f"--as-of {value!r} is outside the dates rulecore audits, {PLAUSIBLE_RANGE}"
        )
    return moment


def _parse_jobs(ctx: click.Context, param: click.Parameter, value: str) -> int:
    try:
        return resolve_jobs(value.strip().lower())
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


# Options shared by the commands that read records.
_records_argument = click.argument(
    "records", nargs=-1, required=True, type=click.Path(path_type=Path)
)
_standards_option = click.option(
    "--standards",
    "-s",
    "standards",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="A standard file or a folder of them (repeatable).",
)
_mapping_option = click.option(
    "--mapping",
    "-m",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read exports (CSV, JSON lines) through this field mapping (YAML).",
)
_reader_option = click.option(
    "--reader", help="Read every input with this reader instead of choosing by file name."
)


@main.command()
@_records_argument
@_standards_option
@click.option(
    "--format",
    "-f",
    "output_format",
    default="table",
    show_default=True,
    help="Report format: table, json, jsonl, csv, or one a plugin adds.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="Write the report here (default: stdout).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["fail", "warn", "never"]),
    default="fail",
    show_default=True,
    help="Exit 1 when an outcome at this level or worse is found (errors count as fail).",
)
@click.option(
    "--rejects",
    type=click.Path(path_type=Path),
    help="Write unreadable input here, whole, as JSON lines with source, line and reason.",
)
@click.option(
    "--all-outcomes",
    is_flag=True,
    help="Report passes and not_applicable outcomes as findings too.",
)
@click.option("--as-of", "as_of", help="Judge open cases as of this moment (ISO 8601 with offset).")
@_reader_option
@_mapping_option
@click.option(
    "--by",
    "group_by",
    multiple=True,
    help="Break compliance down by this record attribute (repeatable): team, agent, channel..., "
    "or by the period the case opened in: @day, @week, @month.",
)
@click.option(
    "--waivers",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Accepted exceptions (YAML): matching warn and fail findings become waived.",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A previous JSON report: mark findings new or persisting, and count the resolved.",
)
@click.option(
    "--new-only",
    is_flag=True,
    help="With --baseline, only new findings count towards --fail-on.",
)
@click.option(
    "--history",
    "history_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Record this audit's scores in this SQLite file (created if absent).",
)
@click.option("--label", default="", help="A name for this audit in the history.")
@click.option(
    "--report",
    "extra_reports",
    multiple=True,
    metavar="FORMAT:FILE",
    help="Also write a report in FORMAT to FILE (repeatable), e.g. html:report.html.",
)
@click.option(
    "--jobs",
    "-j",
    metavar="N|auto",
    default="1",
    callback=_parse_jobs,
    show_default=True,
    help="Audit with this many processes, or 'auto' for one per core; the report is the same.",
)
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS|local[:N]",
    callback=lambda ctx, param, value: _parse_dask(value),
    help="Audit on a Dask cluster: a scheduler's address (tcp://host:8786), or local[:N] to "
    "start N worker processes for this audit; the report is the same (rulecore[dask]).",
)
def audit(
    records: tuple[Path, ...],
    standards: tuple[Path, ...],
    output_format: str,
    output: Path | None,
    fail_on: str,
    rejects: Path | None,
    all_outcomes: bool,
    as_of: str | None,
    reader: str | None,
    mapping: Path | None,
    group_by: tuple[str, ...],
    waivers: Path | None,
    baseline: Path | None,
    new_only: bool,
    history_path: Path | None,
    label: str,
    extra_reports: tuple[str, ...],
    jobs: int,
    dask_address: str | None,
) -> None:
    """Audit RECORDS (files or folders) against the standards and report how well each was met."""
    if dask_address is not None and jobs > 1:
        raise UsageFailure("--dask and --jobs share the audit out in two ways: give one of them")
    records = _locate_or_exit(records)
    moment = _parse_as_of(as_of)
    registry = _registry()
    outputs = [(output_format, output), *_parse_reports(extra_reports)]
    for name, _path in outputs:
        if name not in registry.writers:
            known = ", ".join(registry.writers)
            raise UsageFailure(f"unknown format {name!r}; known formats: {known}")
    if new_only and baseline is None:
        raise UsageFailure("--new-only needs --baseline")
    for path in (*(path for _name, path in outputs), rejects):
        _writable_or_exit(path)
    engine = _standards_or_exit(standards, registry)
    history_store: HistoryStore | None = None
    if history_path is not None:
        history_store = SqliteHistory(history_path)
        with _exit_on_source_errors():
            history_store.check()
    waiver_set = _waivers_or_exit(waivers, moment, engine)
    baseline_set = _baseline_or_exit(baseline)
    planned, reader_options = _plan(records, registry, reader, mapping)
    levels = FAIL_LEVELS[fail_on]
    reached = False
    options = {"all_outcomes": all_outcomes, "history": history_path, "title": label or None}

    with _exit_on_worker_failure(), ExitStack() as stack:
        stack.enter_context(_exit_on_source_errors())  # first in, so partial reports go first
        sinks: list[ReportSink] = []
        for name, path in outputs:
            stream = stack.enter_context(_report_stream(path))
            color = path is None and name == "table" and sys.stdout.isatty()
            sinks.append(registry.writers[name][1].open(stream, {**options, "color": color}))
        rejects_file = stack.enter_context(_rejects_stream(rejects))

        class _Gate:
            needs_evidence = any(getattr(sink, "needs_evidence", True) for sink in sinks)

            def finding(self, finding: Finding) -> None:
                nonlocal reached
                counts = not new_only or finding.baseline == "new"
                reached = reached or (counts and finding.outcome in levels)
                for sink in sinks:
                    sink.finding(finding)

            def rejection(self, rejection: Rejection) -> None:
                if rejects_file is not None:
                    _write_reject(rejects_file, rejection)
                for sink in sinks:
                    sink.rejection(rejection)

            def close(self, summary: Summary) -> None:
                if history_store is not None:
                    # Recorded before the reports are written, so a trend includes this audit.
                    entry = history_store.record(summary, label or ", ".join(map(str, records)))
                    click.echo(f"recorded as audit {entry} in {history_path}", err=True)
                for sink in sinks:
                    sink.close(summary)

        gate: ReportSink = _Gate()
        with _progress() as tick, cluster_client(dask_address) as client:
            summary = audit_planned(
                engine,
                planned,
                gate,
                recipe=EngineRecipe(tuple(map(str, standards))),
                jobs=jobs,
                reader_options=reader_options,
                all_outcomes=all_outcomes,
                as_of=moment,
                on_item=tick,
                group_by=group_by,
                waivers=waiver_set,
                baseline=baseline_set,
                client=client,
            )
    for name, path in outputs[1:]:
        click.echo(f"wrote the {name} report to {path}", err=True)
    if summary.rejected:
        where = f"; written to {rejects}" if rejects else "; keep them with --rejects FILE"
        click.echo(f"{summary.rejected} of {summary.read} records rejected{where}", err=True)
    raise SystemExit(1 if reached else 0)


@contextmanager
def _exit_on_worker_failure() -> Iterator[None]:
    """Exit 2 naming the shard when a ``--jobs`` worker dies (its reports are not written)."""
    try:
        yield
    except ShardFailed as failure:
        click.echo(f"error: {failure}", err=True)
        raise SystemExit(2) from None
    except ClusterError as failure:  # --dask: no cluster to run on
        click.echo(f"error: {failure}", err=True)
        raise SystemExit(2) from None


def _parse_dask(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_address(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _locate_or_exit(records: tuple[Path, ...]) -> tuple[Path, ...]:
    """The inputs, with fsspec URLs (s3://, memory://...) as paths fsspec reads."""
    try:
        return tuple(locate(path) for path in records)
    except InputError as error:
        raise UsageFailure(str(error)) from None


def _write_reject(stream: IO[str], rejection: Rejection) -> None:
    """One line of the rejects file: the rejection, with the input kept whole."""
    stream.write(json.dumps(rejection_to_dict(rejection, whole=True)) + "\n")


def _parse_reports(values: tuple[str, ...]) -> list[tuple[str, Path]]:
    reports = []
    for value in values:
        name, _, path = value.partition(":")
        if not name or not path:
            raise UsageFailure(
                f"--report {value!r}: write it as FORMAT:FILE, like html:report.html"
            )
        reports.append((name, Path(path)))
    return reports


def _waivers_or_exit(path: Path | None, as_of: datetime | None, engine: Engine) -> Waivers | None:
    """Load waivers in force on the audit's day (``--as-of``, else today in UTC), each naming
    a rule that is being audited."""
    if path is None:
        return None
    today = (as_of or datetime.now(timezone.utc)).date()
    known = {f"{standard.id}/{rule.id}" for standard in engine.standards for rule in standard.rules}
    with _exit_on_source_errors():
        waivers = load_waivers(path, today)
        unknown = waivers.unknown_rules(known)
        if unknown:
            raise StandardsInvalid(unknown)
        return waivers


def _baseline_or_exit(path: Path | None) -> Baseline | None:
    if path is None:
        return None
    with _exit_on_source_errors():
        return load_baseline(path)


def _plan(
    paths: Sequence[Path], registry: Registry, reader: str | None, mapping: Path | None
) -> tuple[list[tuple[Path, Reader]], dict[str, Any]]:
    """Pair each input with its reader, or exit 2 saying which input is wrong.

    ``--mapping`` means the mapping reader, unless ``--reader`` names another.
    """
    options: dict[str, Any] = {}
    if mapping is not None:
        reader, options = reader or "mapping", {"mapping": mapping}
    try:
        return plan_inputs(paths, registry, reader), options
    except InputError as error:
        raise UsageFailure(str(error)) from None


@main.command("map")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@_mapping_option
@_reader_option
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="Write the records here as JSON lines (default: stdout).",
)
@click.option(
    "--rejects",
    type=click.Path(path_type=Path),
    help="Write unreadable input here, whole, as JSON lines with source, line and reason.",
)
def map_records(
    inputs: tuple[Path, ...],
    mapping: Path | None,
    reader: str | None,
    output: Path | None,
    rejects: Path | None,
) -> None:
    """Read INPUTS (exports or records) and write canonical records, to inspect a mapping."""
    import msgspec

    from ._model import record_to_builtins

    _writable_or_exit(output)
    _writable_or_exit(rejects)
    registry = _registry()
    planned, reader_options = _plan(inputs, registry, reader, mapping)
    read = written = rejected = 0
    with (
        _exit_on_source_errors(),
        _report_stream(output) as stream,
        _rejects_stream(rejects) as rejects_file,
        _progress() as tick,
    ):
        for item in read_inputs(planned, reader_options):
            read += 1
            tick()
            if isinstance(item, Rejection):
                rejected += 1
                if rejects_file is not None:
                    _write_reject(rejects_file, item)
                continue
            stream.write(msgspec.json.encode(record_to_builtins(item)).decode() + "\n")
            written += 1
    click.echo(f"{read} read, {written} written, {rejected} rejected", err=True)


@contextmanager
def _report_stream(output: Path | None) -> Iterator[IO[str]]:
    """stdout, or a file written whole or not at all (a crash leaves no half report).

    Something that exists and is not a regular file (``/dev/null``, a named pipe) is written
    to directly: renaming a temporary file over it would replace the device itself.
    """
    if output is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    _writable_or_exit(output)
    if output.exists() and not output.is_file():
        try:
            special = output.open("w", encoding="utf-8", newline="")
        except OSError as error:
            raise _cannot_write(output, error.strerror) from None
        with special:
            yield special
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed into place on success
            "w",
            encoding="utf-8",
            dir=output.parent,
            prefix=f".{output.name}.",
            delete=False,
            newline="",
        )
    except OSError as error:
        raise _cannot_write(output, error.strerror) from None
    try:
        with handle:
            yield handle
        # A temporary file is private (0600); the report gets the permissions a new file would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(handle.name, 0o666 & ~umask)
        try:
            os.replace(handle.name, output)
        except OSError as error:
            raise _cannot_write(output, error.strerror) from None
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _writable_or_exit(path: Path | None) -> None:
    """Exit 2 now, before any work, when ``path`` cannot be written as a file.

    Nothing is created: the folders a report needs are made only when it is written.
    """
    if path is None:
        return
    if path.is_dir():
        raise UsageFailure(
            f"cannot write {path}: it is a folder; name a file inside it, "
            f"like {path / 'report.json'}"
        )
    if path.exists():
        return  # a file is replaced through its folder; a device or pipe is written to
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise _cannot_write(path, f"{folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _cannot_write(path, f"the folder {folder} is not writable")


def _cannot_write(path: Path, why: str | None) -> UsageFailure:
    return UsageFailure(
        f"cannot write {path}: {why or 'the system refused'}; "
        "choose a file in a folder you can write to"
    )


@contextmanager
def _rejects_stream(path: Path | None) -> Iterator[IO[str] | None]:
    if path is None:
        yield None
        return
    with _report_stream(path) as stream:
        yield stream


@contextmanager
def _progress() -> Iterator[Callable[[], None]]:
    """Count the records read, for a signal's message; live on stderr when it is a terminal."""
    meta = click.get_current_context().meta
    meta[_READ_SO_FAR] = 0

    def count() -> None:
        meta[_READ_SO_FAR] += 1

    if not sys.stderr.isatty():
        yield count
        return
    from rich.console import Console
    from rich.progress import (
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("auditing"),
        MofNCompleteColumn(),
        TextColumn("records"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("audit", total=None)
        counter = {"n": 0}

        def tick() -> None:
            count()
            counter["n"] += 1
            if counter["n"] % 500 == 0:
                progress.update(task, completed=counter["n"])

        yield tick


# ---------------------------------------------------------------------------------------------
# validate, explain, plugins
# ---------------------------------------------------------------------------------------------


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check standards (files or folders): YAML, schema, checks, parameters and thresholds."""
    registry = _registry()
    engine = _standards_or_exit(paths, registry)
    rules = sum(len(standard.rules) for standard in engine.standards)
    files = len({standard.path for standard in engine.standards})  # not schedules or mappings
    click.echo(
        f"ok: {_count(len(engine.standards), 'standard')} with {_count(rules, 'rule')} "
        f"in {_count(files, 'file')}"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


@main.command()
@click.argument("name")
def explain(name: str) -> None:
    """Show what check NAME measures, its parameters and an example."""
    registry = _registry()
    entry = registry.checks.get(name)
    if entry is None:
        raise UsageFailure(unknown_check(name, registry))
    plugin, check = entry
    click.echo(describe_check(plugin, check))


def describe_check(plugin: str, check: AnyCheck) -> str:
    """A check's documentation as ``rulecore explain`` prints it."""
    kind = "cross-record check" if isinstance(check, CrossRecordCheck) else "check"
    lines = [
        f"{check.name} — {check.dimension} {kind} from plugin {plugin!r}",
        "",
        check.doc,
        "",
        f"Measures: {check.unit}; {check.better} is better.",
    ]
    if check.default_thresholds:
        lines.append(f"Default thresholds: {json.dumps(dict(check.default_thresholds))}")
    else:
        lines.append("Default thresholds: none; every rule must give its own.")
    lines += ["", "Parameters:"]
    properties = check.params_schema.get("properties", {})
    required = set(check.params_schema.get("required", ()))
    for key, spec in properties.items():
        flag = " (required)" if key in required else ""
        lines.append(f"  {key}{flag}: {spec.get('description', '')}".rstrip())
    if not properties:
        lines.append("  none")
    if check.example:
        lines += [
            "",
            "Example rule:",
            *("  " + line for line in check.example.rstrip().splitlines()),
        ]
    return "\n".join(lines)


@main.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
def plugins(output_format: str) -> None:
    """List installed plugins and the checks, readers and writers they provide."""
    manager = get_plugin_manager()
    registry = collect(manager)
    data = plugins_as_data(manager, registry)
    if output_format == "json":
        click.echo(json.dumps(data, indent=2))
        return

    def width(rows: list[dict[str, Any]], key: str = "name") -> int:
        return max((len(str(row[key])) for row in rows), default=0)

    click.echo("Plugins:")
    names = width(data["plugins"])
    for plugin in data["plugins"]:
        blocked = "  (blocked)" if plugin["blocked"] else ""
        click.echo(
            f"  {plugin['name']:{names}}  {plugin['distribution']} {plugin['version']}"
            f"  ({plugin['entry_point']}){blocked}"
        )
    click.echo("Checks:")
    names, dimensions = width(data["checks"]), width(data["checks"], "dimension")
    for check in data["checks"]:
        click.echo(
            f"  {check['name']:{names}}  {check['dimension']:{dimensions}}  from {check['plugin']}"
        )
    for title, rows in (("Readers:", data["readers"]), ("Writers:", data["writers"])):
        click.echo(title)
        names = width(rows)
        for row in rows:
            click.echo(f"  {row['name']:{names}}  {row['description']}")
    for problem in data["problems"]:
        click.echo(f"problem: {problem['plugin']}: {problem['message']}")


def plugins_as_data(manager: PluginManager, registry: Registry) -> dict[str, Any]:
    blocked = {
        name for name in (found.name for found in manager.found) if manager.hooks.is_blocked(name)
    }
    return {
        "plugins": [
            {
                "name": found.name,
                "entry_point": found.value,
                "distribution": found.distribution,
                "version": found.version,
                "blocked": found.name in blocked,
            }
            for found in manager.found
        ],
        "checks": [
            {
                "name": name,
                "plugin": plugin,
                "dimension": check.dimension,
                "unit": check.unit,
                "better": check.better,
                "cross_record": isinstance(check, CrossRecordCheck),
            }
            for name, (plugin, check) in registry.checks.items()
        ],
        "readers": [
            {
                "name": name,
                "plugin": plugin,
                "description": reader.description,
                "suffixes": list(reader.suffixes),
            }
            for name, (plugin, reader) in registry.readers.items()
        ],
        "writers": [
            {"name": name, "plugin": plugin, "description": writer.description}
            for name, (plugin, writer) in registry.writers.items()
        ],
        "problems": [{"plugin": p.plugin, "message": p.message} for p in registry.problems],
    }


# ---------------------------------------------------------------------------------------------
# sample
# ---------------------------------------------------------------------------------------------


def _parse_weights(values: tuple[str, ...]) -> dict[str, float]:
    weights: dict[str, float] = {}
    for value in values:
        outcome, _, amount = value.partition("=")
        if outcome not in SEVERITY_ORDER:
            raise UsageFailure(f"--weight {value!r}: {outcome!r} is not an outcome")
        try:
            weights[outcome] = float(amount)
        except ValueError:
            raise UsageFailure(
                f"--weight {value!r}: write it as OUTCOME=NUMBER, like fail=3"
            ) from None
        if weights[outcome] < 0:
            raise UsageFailure(f"--weight {value!r}: a weight cannot be negative")
    return weights


@main.command()
@_records_argument
@_standards_option
@click.option(
    "--size",
    "-n",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Records to draw per stratum (or in all, with --proportional).",
)
@click.option("--seed", type=int, required=True, help="The same seed draws the same sample.")
@click.option(
    "--by",
    "group_by",
    multiple=True,
    help="Stratify by this record attribute (repeatable): team, agent, channel...",
)
@click.option(
    "--proportional",
    is_flag=True,
    help="Draw --size records in all, shared across strata by their size.",
)
@click.option(
    "--weight",
    "weights",
    multiple=True,
    help="Weight records by their worst outcome, like fail=3 or pass=0 (repeatable).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["csv", "jsonl"]),
    default="csv",
    show_default=True,
)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the queue here.")
@_mapping_option
@_reader_option
def sample(
    records: tuple[Path, ...],
    standards: tuple[Path, ...],
    size: int,
    seed: int,
    group_by: tuple[str, ...],
    proportional: bool,
    weights: tuple[str, ...],
    output_format: str,
    output: Path | None,
    mapping: Path | None,
    reader: str | None,
) -> None:
    """Draw a seeded, stratified sample of audited records as a review queue."""
    weight_map = _parse_weights(weights)
    _writable_or_exit(output)
    registry = _registry()
    engine = _standards_or_exit(standards, registry)
    planned, reader_options = _plan(records, registry, reader, mapping)
    with _exit_on_source_errors():
        drawn = draw_sample(
            engine,
            read_inputs(planned, reader_options),
            size=size,
            seed=seed,
            by=group_by,
            weights=weight_map,
            proportional=proportional,
        )
    rows = [entry.as_row(group_by) for entry in drawn]
    with _report_stream(output) as stream:
        if output_format == "jsonl":
            for row in rows:
                stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            import csv

            columns = [
                "record",
                *group_by,
                "worst_outcome",
                "findings",
                "reviewer",
                "verdict",
                "notes",
            ]
            writer = csv.DictWriter(stream, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    click.echo(f"drew {len(rows)} records for review (seed {seed})", err=True)


# ---------------------------------------------------------------------------------------------
# history
# ---------------------------------------------------------------------------------------------


@main.command()
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The SQLite file that audit --history wrote.",
)
@click.option("--limit", type=click.IntRange(min=1), help="Show only the most recent N audits.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
def history(store: Path, limit: int | None, output_format: str) -> None:
    """Show compliance per dimension over past audits, oldest first."""
    if not store.exists():
        raise UsageFailure(f"{store}: no such history; record audits with audit --history")
    with _exit_on_source_errors():
        entries = SqliteHistory(store).entries(limit)
    if output_format == "json":
        click.echo(json.dumps([entry.as_dict() for entry in entries], indent=2))
        return
    from rich.table import Table

    dimensions = sorted({name for entry in entries for name in entry.dimensions})
    table = Table(title=f"Audit history ({store})", title_justify="left")
    for column in ("audit", "recorded", "label", "records", "all", *dimensions):
        table.add_column(column)
    for entry in entries:
        shares = [entry.compliance, *(entry.dimensions.get(name) for name in dimensions)]
        table.add_row(
            str(entry.id),
            entry.recorded_at,
            entry.label,
            str(entry.read),
            *("—" if share is None else f"{share:.1%}" for share in shares),
        )
    ReportConsole(width=None if sys.stdout.isatty() else 120).print(table)


# ---------------------------------------------------------------------------------------------
# test
# ---------------------------------------------------------------------------------------------


@main.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def test_fixtures(paths: tuple[Path, ...]) -> None:
    """Run the annotated fixtures (*.test.yaml) under PATHS against their standards."""
    registry = _registry()
    fixtures = discover_fixtures(paths)
    if not fixtures:
        raise UsageFailure("no fixtures (*.test.yaml) found in " + ", ".join(map(str, paths)))
    results: list[CaseResult] = []
    invalid = False
    for fixture in fixtures:
        try:
            results.extend(run_fixture(fixture, registry))
        except StandardsInvalid as problems:
            invalid = True
            for error in problems.errors:
                click.echo(f"error: {error}", err=True)
        except SourceError as error:
            invalid = True
            click.echo(f"error: {error}", err=True)
    failed = [result for result in results if not result.passed]
    for result in failed:
        click.echo(f"FAIL {result.location} {result.name} (record {result.record})")
        for line in result.mismatches():
            click.echo(f"     {line}")
    passed = len(results) - len(failed)
    click.echo(f"{passed} passed, {len(failed)} failed in {len(fixtures)} fixture files")
    if invalid:
        raise SystemExit(2)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
