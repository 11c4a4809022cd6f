"""The ``rulecore`` command line: audit, validate, explain, plugins, test, new, map, sample,
history.

Exit codes: 0 when nothing reaches the ``--fail-on`` level, 1 when something does (or a
fixture fails), 2 for a usage error, an invalid standard or unreadable input, 130 and 143
when stopped by SIGINT or SIGTERM (but ``serve`` exits 0 after a clean shutdown on SIGTERM).
"""

from __future__ import annotations

import json
import math
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
from rich.cells import cell_len

from . import __version__
from ._baseline import Baseline, load_baseline
from ._budget import DEFAULT_RULE_TIMEOUT, parse_rule_timeout
from ._checks import AnyCheck, CrossRecordCheck
from ._dask import ClusterError, check_address, cluster_client
from ._engine import Engine
from ._findings import Finding
from ._fixtures import CaseResult, discover_fixtures, run_fixture
from ._history import HistoryStore, SqliteHistory
from ._i18n import (
    LANGUAGES,
    _,
    choose_language,
    dimension_label,
    language,
    ngettext,
    set_language,
)
from ._inputs import InputError, plan_inputs, read_inputs
from ._model import PLAUSIBLE_RANGE, BadMoment, parse_moment
from ._occurrences import never_occurred_warning
from ._parallel import EngineRecipe, ShardFailed, audit_planned, resolve_jobs
from ._plugins import PluginManager, Registry, collect, get_plugin_manager
from ._readers import Reader, Rejection
from ._sampling import (
    AUDIT_COLUMNS,
    RECORD_COLUMNS,
    RULE_COLUMNS,
    SEVERITY_ORDER,
    draw_sample,
)
from ._scorecard import CLOSED_PIPE_EXIT, ReportConsole
from ._standards import StandardsInvalid, load_standards, unknown_check
from ._summary import PERIODS, Summary
from ._urls import locate
from ._waivers import Waivers, load_waivers
from ._writers import ReportSink, rejection_to_dict
from ._yaml import SourceError

FAIL_LEVELS = {"never": (), "fail": ("fail", "error"), "warn": ("warn", "fail", "error")}


class UsageFailure(click.ClickException):
    """An error that exits 2, like click's own usage errors."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        # Worded now: click shows the error after the command, and its "Error:" is English.
        self.shown = _("Error: {message}").format(message=message)

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.shown, file=file, err=file is None)


def _registry() -> Registry:
    manager: PluginManager = get_plugin_manager()
    registry = collect(manager)
    for problem in registry.problems:
        click.echo(
            _("warning: plugin {plugin!r}: {message}").format(
                plugin=problem.plugin, message=problem.message
            ),
            err=True,
        )
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
            click.echo(_("Error: {error}").format(error=error), err=True)
        raise SystemExit(2) from None
    except SourceError as error:
        click.echo(_("Error: {error}").format(error=error), err=True)
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
        spoken = language()  # --lang is for this command: an in-process caller keeps its own
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
        finally:
            set_language(spoken)


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
    got = "" if read is None else _(" after {records} read").format(records=_records(read))
    click.echo(
        _("stopped by {signal}{got}; no file was written").format(signal=which.name, got=got),
        err=True,
    )
    return SystemExit(128 + which.value)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rulecore")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    help="Speak this language (en, zh); else RULECORE_LANG, else the locale (LANG...).",
)
def main(lang: str | None) -> None:
    """Audit service interactions against YAML service standards."""
    try:
        set_language(choose_language(lang, os.environ))
    except ValueError as error:
        raise UsageFailure(str(error)) from None


# ---------------------------------------------------------------------------------------------
# audit
# ---------------------------------------------------------------------------------------------


def _parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_moment(value)
    except BadMoment as error:
        if error.reason == "not_iso":
            message = _("--as-of {value!r} is not an ISO 8601 timestamp")
        elif error.reason == "no_offset":
            message = _("--as-of {value!r} needs a UTC offset, such as +00:00 or Z")
        else:
            message = _("--as-of {value!r} is outside the dates rulecore audits, {range}")
        raise UsageFailure(message.format(value=value, range=PLAUSIBLE_RANGE)) from None


def _parse_rule_timeout(ctx: click.Context, param: click.Parameter, value: str) -> float | None:
    try:
        return parse_rule_timeout(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _check_by(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """``--by`` values: attribute names, and for ``audit`` the periods it knows (``@month``)."""
    periods = sorted(PERIODS) if ctx.command.name == "audit" else []
    for name in value:
        if not name.strip():
            raise click.BadParameter(_("give an attribute name, such as team"))
        if name.startswith("@") and name not in periods:
            if periods:
                why = _("{name!r} is not a period; use {periods}, or an attribute name without @")
            else:
                why = _(
                    "{name!r} is not an attribute name: sample draws by record attributes "
                    "(periods such as @month are for audit --by){periods}"
                )
            raise click.BadParameter(why.format(name=name, periods=", ".join(periods)))
    return value


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
    callback=_check_by,
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
    "--rule-timeout",
    metavar="SECONDS",
    default=f"{DEFAULT_RULE_TIMEOUT:g}",
    callback=_parse_rule_timeout,
    show_default=True,
    help="Stop a check that runs longer than this on one record: its outcome is an error. "
    "0 or 'none': no limit.",
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
    rule_timeout: float | None,
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
            raise UsageFailure(
                _("unknown format {name!r}; known formats: {known}").format(name=name, known=known)
            )
        if _path is None and registry.writers[name][1].binary and _stdout_is_terminal():
            raise UsageFailure(
                _(
                    "--format {name} writes a binary file, not text for a terminal; "
                    "give --output FILE, or redirect stdout to a file"
                ).format(name=name)
            )
    if new_only and baseline is None:
        raise UsageFailure(_("--new-only needs --baseline"))
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
            binary = registry.writers[name][1].binary
            stream = stack.enter_context(_report_stream(path, binary=binary))
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
                    click.echo(
                        _("recorded as audit {entry} in {path}").format(
                            entry=entry, path=history_path
                        ),
                        err=True,
                    )
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
                rule_timeout=rule_timeout,
                client=client,
            )
    if output is not None and output.is_file():  # a file, not a device such as /dev/null
        click.echo(
            _("wrote the {name} report to {path}").format(name=output_format, path=output), err=True
        )
    for name, path in outputs[1:]:
        click.echo(_("wrote the {name} report to {path}").format(name=name, path=path), err=True)
    if summary.never_occurred:
        click.echo(never_occurred_warning(summary.never_occurred), err=True)
    if summary.rejected:
        where = (
            _("; written to {path}").format(path=rejects)
            if rejects
            else _("; keep them with --rejects FILE")
        )
        click.echo(
            _("{rejected} of {read} records rejected{where}").format(
                rejected=summary.rejected, read=summary.read, where=where
            ),
            err=True,
        )
    raise SystemExit(1 if reached else 0)


@contextmanager
def _exit_on_worker_failure() -> Iterator[None]:
    """Exit 2 naming the shard when a ``--jobs`` worker dies (its reports are not written)."""
    try:
        yield
    except ShardFailed as failure:
        click.echo(_("Error: {error}").format(error=failure), err=True)
        raise SystemExit(2) from None
    except ClusterError as failure:  # --dask: no cluster to run on
        click.echo(_("Error: {error}").format(error=failure), err=True)
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
        name, _colon, path = value.partition(":")
        if not name or not path:
            raise UsageFailure(
                _("--report {value!r}: write it as FORMAT:FILE, like html:report.html").format(
                    value=value
                )
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
    click.echo(
        _("{read} read, {written} written, {rejected} rejected").format(
            read=read, written=written, rejected=rejected
        ),
        err=True,
    )


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


@contextmanager
def _report_stream(output: Path | None, binary: bool = False) -> Iterator[IO[Any]]:
    """stdout, or a file written whole or not at all (a crash leaves no half report).

    Something that exists and is not a regular file (``/dev/null``, a named pipe) is written
    to directly: renaming a temporary file over it would replace the device itself.  With
    ``binary``, the stream takes bytes (a writer that declared ``binary=True``).
    """
    text = {} if binary else {"encoding": "utf-8", "newline": ""}
    if output is None:
        if binary:
            sys.stdout.flush()
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
            return
        yield sys.stdout
        sys.stdout.flush()
        return
    _writable_or_exit(output)
    if output.exists() and not output.is_file():
        try:
            special = output.open("wb" if binary else "w", **text)  # type: ignore[call-overload]
        except OSError as error:
            raise _cannot_write(output, error.strerror) from None
        with special:
            yield special
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed into place on success
            "wb" if binary else "w",
            dir=output.parent,
            prefix=f".{output.name}.",
            delete=False,
            **text,  # type: ignore[call-overload]
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
            _("cannot write {path}: it is a folder; name a file inside it, like {example}").format(
                path=path, example=path / "report.json"
            )
        )
    if path.exists():
        return  # a file is replaced through its folder; a device or pipe is written to
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise _cannot_write(path, _("{folder} is a file, not a folder").format(folder=folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _cannot_write(path, _("the folder {folder} is not writable").format(folder=folder))


def _cannot_write(path: Path, why: str | None) -> UsageFailure:
    return UsageFailure(
        _("cannot write {path}: {why}; choose a file in a folder you can write to").format(
            path=path, why=why or _("the system refused")
        )
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
        TextColumn(_("auditing")),
        MofNCompleteColumn(),
        TextColumn(_("records")),
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
        _("ok: {standards} with {rules} in {files}").format(
            standards=ngettext("{n} standard", "{n} standards", len(engine.standards)).format(
                n=len(engine.standards)
            ),
            rules=ngettext("{n} rule", "{n} rules", rules).format(n=rules),
            files=ngettext("{n} file", "{n} files", files).format(n=files),
        )
    )


def _records(number: int) -> str:
    return ngettext("{n} record", "{n} records", number).format(n=number)


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
    kind = _("cross-record check") if isinstance(check, CrossRecordCheck) else _("check")
    lines = [
        _("{name} — {dimension} {kind} from plugin {plugin!r}").format(
            name=check.name, dimension=dimension_label(check.dimension), kind=kind, plugin=plugin
        ),
        "",
        check.doc,
        "",
        _("Measures: {unit}; {better} is better.").format(
            unit=_(check.unit), better=_(check.better)
        ),
    ]
    if check.default_thresholds:
        lines.append(
            _("Default thresholds: {thresholds}").format(
                thresholds=json.dumps(dict(check.default_thresholds))
            )
        )
    else:
        lines.append(_("Default thresholds: none; every rule must give its own."))
    lines += ["", _("Parameters:")]
    properties = check.params_schema.get("properties", {})
    required = set(check.params_schema.get("required", ()))
    for key, spec in properties.items():
        flag = _(" (required)") if key in required else ""
        lines.append(f"  {key}{flag}: {spec.get('description', '')}".rstrip())
    if not properties:
        lines.append(_("  none"))
    if check.example:
        lines += [
            "",
            _("Example rule:"),
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

    click.echo(_("Plugins:"))
    names = width(data["plugins"])
    for plugin in data["plugins"]:
        blocked = _("  (blocked)") if plugin["blocked"] else ""
        click.echo(
            f"  {plugin['name']:{names}}  {plugin['distribution']} {plugin['version']}"
            f"  ({plugin['entry_point']}){blocked}"
        )
    click.echo(_("Checks:"))
    names = width(data["checks"])
    labels = [dimension_label(check["dimension"]) for check in data["checks"]]
    dimensions = max(map(cell_len, labels), default=0)
    for check, label in zip(data["checks"], labels, strict=True):
        click.echo(
            f"  {check['name']:{names}}  {label}{' ' * (dimensions - cell_len(label))}  "
            + _("from {plugin}").format(plugin=check["plugin"])
        )
    for title, rows in ((_("Readers:"), data["readers"]), (_("Writers:"), data["writers"])):
        click.echo(title)
        names = width(rows)
        for row in rows:
            click.echo(f"  {row['name']:{names}}  {row['description']}")
    for problem in data["problems"]:
        click.echo(
            _("problem: {plugin}: {message}").format(
                plugin=problem["plugin"], message=problem["message"]
            )
        )


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
        outcome, _equals, amount = value.partition("=")
        if outcome not in SEVERITY_ORDER:
            raise UsageFailure(
                _("--weight {value!r}: {outcome!r} is not an outcome").format(
                    value=value, outcome=outcome
                )
            )
        try:
            weights[outcome] = float(amount)
        except ValueError:
            raise UsageFailure(
                _("--weight {value!r}: write it as OUTCOME=NUMBER, like fail=3").format(value=value)
            ) from None
        if weights[outcome] < 0:
            raise UsageFailure(
                _("--weight {value!r}: a weight cannot be negative").format(value=value)
            )
        if not math.isfinite(weights[outcome]):
            raise UsageFailure(
                _("--weight {value!r}: a weight must be a finite number, like 3 or 0.5").format(
                    value=value
                )
            )
    return weights


def _known_rules_or_exit(engine: Engine, rules: Sequence[str]) -> None:
    from difflib import get_close_matches

    known = [f"{standard.id}/{rule.id}" for standard in engine.standards for rule in standard.rules]
    for rule in rules:
        if rule not in known:
            close = get_close_matches(rule, known, n=1)
            hint = _("; did you mean {rule}?").format(rule=close[0]) if close else ""
            raise UsageFailure(
                _("--rule {rule}: no such rule in these standards{hint}").format(
                    rule=rule, hint=hint
                )
            )


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
    callback=_check_by,
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
@click.option(
    "--per-rule",
    is_flag=True,
    help="One row per record and rule that judged it, each with its own verdict.",
)
@click.option(
    "--blind",
    is_flag=True,
    help="Leave out the audit's outcomes, so reviewers judge without seeing them.",
)
@click.option(
    "--rule",
    "only_rules",
    multiple=True,
    metavar="STANDARD/RULE",
    help="Review only this rule (repeatable): draw records it judged, one row each.",
)
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
    per_rule: bool,
    blind: bool,
    only_rules: tuple[str, ...],
    mapping: Path | None,
    reader: str | None,
) -> None:
    """Draw a seeded, stratified sample of audited records as a review queue."""
    weight_map = _parse_weights(weights)
    _writable_or_exit(output)
    registry = _registry()
    engine = _standards_or_exit(standards, registry)
    _known_rules_or_exit(engine, only_rules)
    per_rule = per_rule or bool(only_rules)
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
            rules=only_rules,
        )
    if per_rule:
        rows = [row for entry in drawn for row in entry.as_rule_rows(group_by)]
    else:
        rows = [entry.as_row(group_by) for entry in drawn]
    columns = ["record", *group_by, *(RULE_COLUMNS if per_rule else RECORD_COLUMNS)]
    if blind:
        columns = [column for column in columns if column not in AUDIT_COLUMNS]
        rows = [{key: row[key] for key in columns} for row in rows]
    with _report_stream(output) as stream:
        if output_format == "jsonl":
            for row in rows:
                stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            import csv

            writer = csv.DictWriter(stream, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    if per_rule:
        click.echo(
            _("drew {records} records for review, {rows} rows to judge (seed {seed})").format(
                records=len(drawn), rows=len(rows), seed=seed
            ),
            err=True,
        )
    else:
        click.echo(
            _("drew {count} records for review (seed {seed})").format(count=len(rows), seed=seed),
            err=True,
        )


# ---------------------------------------------------------------------------------------------
# agree
# ---------------------------------------------------------------------------------------------


@main.command()
@click.argument("reviewed", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("report", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "html"]),
    default="table",
    show_default=True,
)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write it here.")
@click.option(
    "--history",
    "history_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Record this agreement in this SQLite file (created if absent), to trend it.",
)
@click.option("--label", default="", help="A name for this agreement in the history.")
def agree(
    reviewed: Path,
    report: Path,
    output_format: str,
    output: Path | None,
    history_path: Path | None,
    label: str,
) -> None:
    """Compare reviewers' verdicts in REVIEWED (a filled-in sample) with REPORT (JSON)."""
    from ._agreement import agreement_of
    from ._agreement_report import render_html, write_json, write_table

    _writable_or_exit(output)
    with _exit_on_source_errors():
        data = agreement_of(reviewed, report).as_dict()
        if history_path is not None:
            entry = SqliteHistory(history_path).record_agreement(data, label or str(reviewed))
            click.echo(
                _("recorded as agreement {entry} in {path}").format(entry=entry, path=history_path),
                err=True,
            )
    with _report_stream(output) as stream:
        if output_format == "json":
            write_json(stream, data)
        elif output_format == "html":
            stream.write(render_html(data, label or None))
        else:
            write_table(stream, data, color=output is None and sys.stdout.isatty())


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
@click.option(
    "--agreement",
    "agreements",
    is_flag=True,
    help="Show the recorded agreements with reviewers (rulecore agree) instead of audits.",
)
def history(store: Path, limit: int | None, output_format: str, agreements: bool) -> None:
    """Show compliance per dimension over past audits, oldest first."""
    if not store.exists():
        raise UsageFailure(
            _("{store}: no such history; record audits with audit --history").format(store=store)
        )
    if agreements:
        _agreement_history(store, limit, output_format)
        return
    with _exit_on_source_errors():
        entries = SqliteHistory(store).entries(limit)
    if output_format == "json":
        click.echo(json.dumps([entry.as_dict() for entry in entries], indent=2))
        return
    if not entries:
        _no_audits_yet(store)
        return
    from rich.table import Table

    dimensions = sorted({name for entry in entries for name in entry.dimensions})
    table = Table(title=_("Audit history ({store})").format(store=store), title_justify="left")
    for column in (_("audit"), _("recorded"), _("label"), _("records"), _("all")):
        table.add_column(column)
    for column in dimensions:
        table.add_column(dimension_label(column))
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


def _no_audits_yet(store: Path) -> None:
    """In place of an empty table: the store has no audits, and where to look instead."""
    with _exit_on_source_errors():
        agreements = len(SqliteHistory(store).agreements())
    click.echo(
        _("{store}: no audits recorded yet; record them with audit --history").format(store=store),
        err=True,
    )
    if agreements:
        click.echo(
            ngettext(
                "it holds {count} agreement with reviewers: history --agreement lists it",
                "it holds {count} agreements with reviewers: history --agreement lists them",
                agreements,
            ).format(count=agreements),
            err=True,
        )


def _agreement_history(store: Path, limit: int | None, output_format: str) -> None:
    """The agreements recorded by ``rulecore agree --history``, oldest first."""
    from ._agreement_report import history_table

    with _exit_on_source_errors():
        entries = SqliteHistory(store).agreements(limit)
    if output_format == "json":
        click.echo(json.dumps([entry.as_dict() for entry in entries], indent=2))
        return
    ReportConsole(width=None if sys.stdout.isatty() else 120).print(history_table(entries, store))


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
        raise UsageFailure(
            _("no fixtures (*.test.yaml) found in {paths}").format(paths=", ".join(map(str, paths)))
        )
    results: list[CaseResult] = []
    invalid = False
    for fixture in fixtures:
        try:
            results.extend(run_fixture(fixture, registry))
        except StandardsInvalid as problems:
            invalid = True
            for error in problems.errors:
                click.echo(_("Error: {error}").format(error=error), err=True)
        except SourceError as error:
            invalid = True
            click.echo(_("Error: {error}").format(error=error), err=True)
    failed = [result for result in results if not result.passed]
    for result in failed:
        click.echo(
            _("FAIL {location} {name} (record {record})").format(
                location=result.location, name=result.name, record=result.record
            )
        )
        for line in result.mismatches():
            click.echo(f"     {line}")
    passed = len(results) - len(failed)
    click.echo(
        ngettext(
            "{passed} passed, {failed} failed in {files} fixture file",
            "{passed} passed, {failed} failed in {files} fixture files",
            len(fixtures),
        ).format(passed=passed, failed=len(failed), files=len(fixtures))
    )
    if invalid:
        raise SystemExit(2)
    raise SystemExit(1 if failed else 0)


# ---------------------------------------------------------------------------------------------
# new
# ---------------------------------------------------------------------------------------------


@main.group(context_settings={"help_option_names": ["-h", "--help"]})
def new() -> None:
    """Write a new plugin package, or a standard with its fixture, ready to test."""


@new.command("plugin")
@click.argument("name")
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path),
    help="The folder to write the package into (default: ./NAME); it must be new or empty.",
)
@click.option(
    "--check",
    "check",
    metavar="CHECK",
    default="unanswered_messages",
    show_default=True,
    help="The name of the package's first check.",
)
def new_plugin(name: str, folder: Path | None, check: str) -> None:
    """Write a pip-installable plugin package NAME (a distribution name, e.g. acme-checks)."""
    from ._scaffold import ScaffoldError, plugin_names, write_plugin

    try:
        names = plugin_names(name, check)
        target = folder if folder is not None else Path(name)
        written = write_plugin(names, target, collect(get_plugin_manager()))
    except ScaffoldError as error:
        raise UsageFailure(str(error)) from None
    click.echo(
        _("wrote {count} files in {folder}: the plugin {plugin}, with the check {check}").format(
            count=len(written), folder=target, plugin=names.entry_point, check=names.check
        )
    )
    click.echo(_("next:"))
    for command in (
        f"pip install -e {_shown(target)}",
        f"pytest {_shown(target)}",
        "rulecore plugins",
    ):
        click.echo(f"  {command}")


def _shown(folder: Path) -> str:
    """A folder as a command line names it: ``./acme-checks`` rather than ``acme-checks``."""
    text = str(folder)
    return text if folder.is_absolute() or text.startswith(".") else f".{os.sep}{text}"


@new.command("standard")
@click.argument("name")
@click.option(
    "--check",
    "check",
    metavar="CHECK",
    required=True,
    help="The installed check whose example rule to start from.",
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    help="The folder to write NAME.yaml and NAME.test.yaml into (default: the current one).",
)
def new_standard(name: str, check: str, folder: Path) -> None:
    """Write the standard NAME.yaml from CHECK's example rule, and its fixture NAME.test.yaml."""
    from ._scaffold import ScaffoldError
    from ._scaffold import new_standard as write_standard

    try:
        written = write_standard(name, check, folder, _registry())
    except ScaffoldError as error:
        raise UsageFailure(str(error)) from None
    for path in written.files:
        click.echo(_("wrote {path}").format(path=path))
    click.echo(_("next:"))
    click.echo(f"  rulecore validate {folder}")
    click.echo(f"  rulecore test {written.files[1]}")


# serve
# ---------------------------------------------------------------------------------------------


def _parse_max_body(ctx: click.Context, param: click.Parameter, value: str) -> int:
    from .server._config import parse_size

    try:
        return parse_size(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@main.command()
@_standards_option
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="The port."
)
@_mapping_option
@_reader_option
@click.option(
    "--max-body",
    default="10MB",
    show_default=True,
    callback=_parse_max_body,
    help="The largest request body (as sent, so compressed if gzip): 10MB, 512KB, bytes.",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Seconds a request may take, reading its body included (then 504).",
)
def serve(
    standards: tuple[Path, ...],
    host: str,
    port: int,
    mapping: Path | None,
    reader: str | None,
    max_body: int,
    request_timeout: float,
) -> None:
    """Serve the standards over HTTP (needs the server extra); see docs/service.md."""
    from ._i18n import _

    try:
        from .server import TOKEN_ENV, CannotListen, ServiceConfig, run_service
    except ImportError as missing:
        raise UsageFailure(
            _(
                "rulecore serve needs the server extra: pip install 'rulecore[server]' "
                "(missing: {name})"
            ).format(name=missing.name)
        ) from None
    registry = _registry()
    reader_options: dict[str, Any] = {}
    if mapping is not None:
        reader, reader_options = reader or "mapping", {"mapping": mapping.resolve()}
    reader = reader or "jsonl"
    if reader not in registry.readers:
        known = ", ".join(registry.readers) or "none"
        raise UsageFailure(
            _("unknown reader {name!r}; known readers: {known}").format(name=reader, known=known)
        )
    engine = _standards_or_exit(standards, registry)
    config = ServiceConfig(
        standards=tuple(standards),
        reader=reader,
        reader_options=reader_options,
        token=os.environ.get(TOKEN_ENV) or None,
        max_body=max_body,
        request_timeout=request_timeout,
    )
    try:
        stopped = run_service(config, registry, engine, host, port)
    except CannotListen as error:
        raise UsageFailure(str(error)) from None
    if stopped.signal is not None:
        # A service asked to stop that stops cleanly has done its job: SIGTERM (systemd, docker,
        # kubernetes) exits 0; Ctrl-C keeps the shell's 130.
        click.echo(
            ngettext(
                "rulecore serve: stopped by {signal} after {count} request",
                "rulecore serve: stopped by {signal} after {count} requests",
                stopped.requests,
            ).format(signal=stopped.signal.name, count=stopped.requests),
            err=True,
        )
        if stopped.signal == signal.SIGINT:
            raise SystemExit(128 + signal.SIGINT.value)


if __name__ == "__main__":  # pragma: no cover
    main()
