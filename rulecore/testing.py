"""A test harness for plugin authors: a check arrives with its proof in a few lines.

Compile a standard that uses your check, build records tersely, and read the outcome of every
rule on every record::

    from rulecore.testing import make_engine, outcomes, record

    STANDARD = '''
        id: callbacks
        version: 1
        title: Callbacks are kept
        dimension: anticipation
        rules:
          - id: callback-kept
            check: callback_kept
            thresholds: {max: 0}
    '''

    def test_a_missed_callback_fails() -> None:
        engine = make_engine(STANDARD, plugins=[CallbackPlugin()], entrypoints=False)
        missed = record(
            "T1",
            ("2026-03-02T09:00:00Z", "callback_promised", "agent", {"by": "2026-03-02T17:00:00Z"}),
            ("2026-03-03T10:00:00Z", "call", "agent"),
            channel="phone",
        )
        assert outcomes(engine, missed) == {("T1", "callback-kept"): "fail"}

Annotated fixture files (``*.test.yaml``, see ``docs/testing.md``) are run with
:func:`assert_fixture_passes`; :func:`find_fixtures` lists them for ``pytest.mark.parametrize``.
Under pytest, ``-p rulecore.pytest_plugin`` collects each fixture case as a test item instead.

Nothing here imports pytest: every helper works under any test runner, and a failed
expectation is an ``AssertionError`` whose message lists what differed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias

import msgspec

from ._engine import Engine
from ._findings import Finding
from ._fixtures import OUT_OF_SCOPE, CaseResult, discover_fixtures, run_fixture
from ._inputs import InputError, plan_inputs, read_inputs
from ._model import Event, Record, record_from_mapping
from ._plugins import PluginManager, Registry, collect, get_plugin_manager
from ._readers import Rejection
from ._standards import StandardsInvalid, compile_standard, load_standards
from ._summary import Summary
from ._yaml import Document, Location, SourceError, load_yaml_text
from .clock import Schedule, parse_schedule

__all__ = [
    "AttributeValue",
    "Audit",
    "EventSpec",
    "assert_fixture_passes",
    "audit",
    "event",
    "find_fixtures",
    "findings",
    "make_engine",
    "outcomes",
    "record",
]

#: A record attribute's value, as the record model allows it.
AttributeValue: TypeAlias = str | int | float | bool | None

#: One event for :func:`record`: an :class:`~rulecore.Event` (see :func:`event`), a mapping in
#: the record format (``{"at": ..., "type": ..., "actor": ..., "fields": {...}}``), or a tuple
#: ``(at, type)``, ``(at, type, actor)`` or ``(at, type, actor, fields)``.
EventSpec: TypeAlias = Event | Mapping[str, Any] | tuple[Any, ...]

_TEXT_SOURCE = "<standard>"
_MAPPING_SOURCE = "<mapping>"
_SCHEDULES_SOURCE = "<schedules>"
_EVENT_TUPLE_KEYS = ("at", "type", "actor", "fields")


# ---------------------------------------------------------------------------------------------
# engines
# ---------------------------------------------------------------------------------------------


def make_engine(
    standard: str | Mapping[str, Any] | Path,
    *,
    plugins: Sequence[object] = (),
    entrypoints: bool = True,
    schedules: Mapping[str, Schedule | Mapping[str, Any]] | None = None,
) -> Engine:
    """Compile one standard, with ``plugins`` registered, into an :class:`~rulecore.Engine`.

    :param standard: YAML text (indentation common to every line is removed, so a
        triple-quoted string in a test reads naturally), a mapping in the standard format, or
        a :class:`~pathlib.Path` to a standard file or a folder of them (loaded as
        ``rulecore audit -s PATH`` would, schedule files in it included).
    :param plugins: plugin objects to register besides the installed ones: modules, classes
        or instances with ``@rulecore.hookimpl`` functions.
    :param entrypoints: also load the installed ``rulecore`` entry points (the first-party
        dimension plugins among them).  ``False`` isolates the test to ``plugins``.
    :param schedules: business schedules the standard may name, for a standard given as text
        or a mapping: :class:`rulecore.clock.Schedule` objects, or mappings written as in a
        ``kind: schedule`` file (``timezone``, ``hours``, ``holidays``), by name.
    :raises StandardsInvalid: with every problem in the standard or the schedules, each at
        ``source:line:col`` (``<standard>`` for text, ``<mapping>`` for a mapping).
    :raises AssertionError: when one of ``plugins`` fails to register its hooks, naming it.
    :raises TypeError: when ``schedules`` is given with a path (put schedule files beside it).
    """
    registry = _registry(plugins, entrypoints)
    if isinstance(standard, Path):
        if schedules:
            raise TypeError(
                "schedules= applies to a standard given as text or a mapping; for a path, "
                "put 'kind: schedule' files in the same folder"
            )
        return Engine(load_standards([standard], registry), registry)
    compiled, problems = compile_standard(
        _standard_document(standard), registry, _compile_schedules(schedules or {})
    )
    if compiled is None:
        raise StandardsInvalid(problems)
    return Engine((compiled,), registry)


def _registry(plugins: Sequence[object], entrypoints: bool) -> Registry:
    manager = get_plugin_manager(entrypoints=entrypoints)
    own_names = _register_plugins(manager, plugins)
    registry = collect(manager)
    own_problems = [problem for problem in registry.problems if problem.plugin in own_names]
    if own_problems:
        raise AssertionError(
            "a plugin under test failed to register:\n"
            + "\n".join(f"  {problem.plugin}: {problem.message}" for problem in own_problems)
        )
    return registry


def _register_plugins(manager: PluginManager, plugins: Sequence[object]) -> set[str]:
    # Plugins are registered under readable names so that a problem names the class or
    # module the author wrote, not an object id.
    names: set[str] = set()
    for plugin in plugins:
        if manager.hooks.is_registered(plugin):
            continue  # an installed plugin passed again: it is already in
        base = _plugin_name(plugin)
        name, copy = base, 1
        while manager.hooks.has_plugin(name):
            copy += 1
            name = f"{base}#{copy}"
        manager.register(plugin, name=name)
        names.add(name)
    return names


def _plugin_name(plugin: object) -> str:
    if isinstance(plugin, type):
        return plugin.__qualname__
    module_name = getattr(plugin, "__name__", None)
    if isinstance(module_name, str):
        return module_name
    return type(plugin).__qualname__


def _standard_document(standard: str | Mapping[str, Any]) -> Document:
    if not isinstance(standard, str):
        return Document(_MAPPING_SOURCE, dict(standard), None)
    document = load_yaml_text(textwrap.dedent(standard), _TEXT_SOURCE)
    if isinstance(document.data, str) and document.data.strip().lower().endswith((".yaml", ".yml")):
        raise StandardsInvalid(
            [
                SourceError(
                    Location(_TEXT_SOURCE, 1, 1),
                    f"{document.data!r} reads as a file name, not a standard; "
                    "pass pathlib.Path(...) to load a file",
                )
            ]
        )
    return document


def _compile_schedules(schedules: Mapping[str, Schedule | Mapping[str, Any]]) -> dict[str, Any]:
    compiled: dict[str, Any] = {}
    errors: list[SourceError] = []
    for name, spec in sorted(schedules.items()):
        if isinstance(spec, Schedule):
            compiled[name] = spec
            continue
        try:
            compiled[name] = parse_schedule(name, spec)
        except ValueError as error:
            errors.append(SourceError(Location(_SCHEDULES_SOURCE, 1, 1), str(error)))
    if errors:
        raise StandardsInvalid(errors)
    return compiled


# ---------------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------------


def event(at: str | datetime, type: str, actor: str = "system", **fields: Any) -> Event:
    """One timeline event, validated: ``event("2026-03-02T09:00:00Z", "assigned", team="billing")``.

    ``at`` is an RFC 3339 timestamp with an offset, or an aware ``datetime``.

    :raises ValueError: naming what is wrong (for example a timestamp without an offset).
    """
    try:
        return msgspec.convert(
            {"at": at, "type": type, "actor": actor, "fields": fields}, Event, strict=False
        )
    except msgspec.ValidationError as error:
        raise ValueError(f"not a valid event: {error}") from None


def record(id: str, /, *events: EventSpec, **attributes: AttributeValue) -> Record:
    """A record built tersely, validated and put in time order as a reader would.

    ``record("T1", ("2026-03-02T09:00:00Z", "opened", "customer"), channel="chat")``

    :param id: the record id.
    :param events: the timeline, in any order; see :data:`EventSpec` for the forms.  Events
        listed out of time order are sorted and the record is marked ``reordered``, exactly
        as when a reader loads an export.
    :param attributes: the record's attributes (channel, priority, customer...).
    :raises ValueError: naming the record and what is wrong with it.
    """
    data = {
        "id": id,
        "attributes": attributes,
        "events": [_event_mapping(spec, position) for position, spec in enumerate(events)],
    }
    try:
        return record_from_mapping(data)
    except msgspec.ValidationError as error:
        raise ValueError(f"record {id!r} is not a valid record: {error}") from None


def _event_mapping(spec: EventSpec, position: int) -> Mapping[str, Any]:
    if isinstance(spec, Event):
        return msgspec.structs.asdict(spec)
    if isinstance(spec, Mapping):
        return dict(spec)
    if isinstance(spec, tuple) and 2 <= len(spec) <= 4:
        return dict(zip(_EVENT_TUPLE_KEYS[: len(spec)], spec, strict=True))
    raise ValueError(
        f"event {position} is {spec!r}; give an Event, a mapping, or a tuple "
        "(at, type[, actor[, fields]])"
    )


# ---------------------------------------------------------------------------------------------
# outcomes
# ---------------------------------------------------------------------------------------------


def findings(engine: Engine, *records: Record, as_of: datetime | None = None) -> list[Finding]:
    """Audit ``records`` as one run and return every finding, passes included, in order.

    A full audit runs, so cross-record checks see all the records.  Use this to assert on a
    finding's ``measured`` value, ``message`` or ``evidence``; :func:`outcomes` for outcomes.

    :param as_of: judge open cases as of this moment (checks that support it).
    :raises ValueError: when two records share an id.
    """
    _refuse_duplicate_ids(records)
    sink = _FindingList()
    engine.audit(records, sink, all_outcomes=True, as_of=as_of)
    return sink.findings


def outcomes(
    engine: Engine, *records: Record, as_of: datetime | None = None
) -> dict[tuple[str, str], str]:
    """The outcome of every rule on every record: ``{(record id, rule id): outcome}``.

    The dict is complete, so a test can compare it whole: each of ``records`` has an entry
    for every rule in ``engine``, ``out_of_scope`` where the rule produced no finding for it
    (its scope or its standard's scope left the record out).  Findings not about one record,
    such as a cross-record check's error (record ``(population)``), are included as they come.
    Rules are keyed by their id; where two standards in the engine share a rule id, both are
    keyed ``standard-id/rule-id`` instead.

    :raises ValueError: when two records share an id.
    """
    return _complete_outcomes(
        engine, findings(engine, *records, as_of=as_of), [each.id for each in records]
    )


def _complete_outcomes(
    engine: Engine, found: Iterable[Finding], record_ids: Iterable[str]
) -> dict[tuple[str, str], str]:
    keys = _rule_keys(engine)
    outcome_of = {
        (finding.record, keys[finding.standard, finding.rule]): finding.outcome for finding in found
    }
    for record_id in record_ids:
        for key in keys.values():
            outcome_of.setdefault((record_id, key), OUT_OF_SCOPE)
    return dict(sorted(outcome_of.items()))


@dataclass(frozen=True)
class Audit:
    """What one audit run in a test produced; see :func:`audit`."""

    #: Every finding, passes and not_applicable included, in the order they were produced.
    findings: tuple[Finding, ...]
    #: Input that could not become a record, in input order.
    rejections: tuple[Rejection, ...]
    #: The population's counts, as the scorecard shows them.
    summary: Summary
    #: ``{(record id, rule id): outcome}``, complete as :func:`outcomes` makes it.
    outcomes: Mapping[tuple[str, str], str]

    def outcome(self, record_id: str, rule: str) -> str:
        """One rule's outcome on one record; ``KeyError`` naming both when there is none."""
        try:
            return self.outcomes[record_id, rule]
        except KeyError:
            raise KeyError(f"no outcome of rule {rule!r} for record {record_id!r}") from None


def audit(
    engine: Engine,
    records: Iterable[Record | Mapping[str, Any]] | str | Path,
    *,
    as_of: datetime | None = None,
) -> Audit:
    """Audit ``records`` as ``rulecore audit`` would and return everything it produced.

    :param records: :class:`~rulecore.Record` objects or mappings in the record format; or
        the path of a records file (or a folder of them), read by the engine's installed
        readers, so that a reader's rejections are part of the result.
    :param as_of: judge open cases as of this moment (checks that support it).
    :raises ValueError: when a mapping is not a valid record, or two records share an id.
    :raises FileNotFoundError: when the path cannot be read as records.
    """
    items = _items(engine, records)
    built = [item for item in items if isinstance(item, Record)]
    if not isinstance(records, (str, Path)):
        _refuse_duplicate_ids(built)
    sink = _RunCollector()
    summary = engine.audit(items, sink, all_outcomes=True, as_of=as_of)
    return Audit(
        findings=tuple(sink.findings),
        rejections=tuple(sink.rejections),
        summary=summary,
        outcomes=_complete_outcomes(engine, sink.findings, [each.id for each in built]),
    )


def _items(
    engine: Engine, records: Iterable[Record | Mapping[str, Any]] | str | Path
) -> list[Record | Rejection]:
    if isinstance(records, (str, Path)):
        try:
            planned = plan_inputs([Path(records)], engine.registry)
        except InputError as error:
            raise FileNotFoundError(str(error)) from None
        return list(read_inputs(planned))
    items: list[Record | Rejection] = []
    for position, each in enumerate(records):
        if isinstance(each, Record):
            items.append(each)
            continue
        try:
            items.append(record_from_mapping(dict(each)))
        except msgspec.ValidationError as error:
            raise ValueError(f"record {position} is not a valid record: {error}") from None
    return items


def _rule_keys(engine: Engine) -> dict[tuple[str, str], str]:
    owners: dict[str, int] = {}
    for standard in engine.standards:
        for rule in standard.rules:
            owners[rule.id] = owners.get(rule.id, 0) + 1
    return {
        (standard.id, rule.id): rule.id if owners[rule.id] == 1 else f"{standard.id}/{rule.id}"
        for standard in engine.standards
        for rule in standard.rules
    }


def _refuse_duplicate_ids(records: Sequence[Record]) -> None:
    seen: set[str] = set()
    for each in records:
        if each.id in seen:
            raise ValueError(f"record id {each.id!r} is given twice; ids identify records")
        seen.add(each.id)


class _FindingList:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def finding(self, finding: Finding) -> None:
        self.findings.append(finding)

    def rejection(self, rejection: Rejection) -> None:
        pass

    def close(self, summary: Summary) -> None:
        pass


class _RunCollector(_FindingList):
    def __init__(self) -> None:
        super().__init__()
        self.rejections: list[Rejection] = []

    def rejection(self, rejection: Rejection) -> None:
        self.rejections.append(rejection)


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------


def find_fixtures(*paths: str | Path) -> list[Path]:
    """Every ``*.test.yaml`` under ``paths`` (files, or folders searched recursively), sorted.

    Made for ``pytest.mark.parametrize("path", find_fixtures(HERE / "fixtures"), ids=str)``.

    :raises FileNotFoundError: for a path that does not exist, so a typo cannot turn a test
        into one that runs nothing.
    """
    missing = [str(path) for path in paths if not Path(path).exists()]
    if missing:
        raise FileNotFoundError("no such file or folder: " + ", ".join(missing))
    return discover_fixtures(Path(path) for path in paths)


def assert_fixture_passes(
    path: str | Path, *, plugins: Sequence[object] = (), entrypoints: bool = True
) -> None:
    """Run one fixture file; raise ``AssertionError`` listing every case that did not pass.

    Each listed case names its ``file:line``, its ``name`` and record, then each rule whose
    outcome differed: ``rule: expected pass, got fail (the finding's message)``.

    :param plugins: plugin objects to register, as for :func:`make_engine`.
    :param entrypoints: also load the installed ``rulecore`` entry points.
    :raises StandardsInvalid: when the fixture or its standard is invalid (including an
        ``expect`` naming a rule the standard lacks), each problem at ``file:line:col``.
    """
    registry = _registry(plugins, entrypoints)
    try:
        results = run_fixture(Path(path), registry)
    except SourceError as error:
        raise StandardsInvalid([error]) from None
    failed = [result for result in results if result.mismatches()]
    if failed:
        raise AssertionError(_failure_report(path, results, failed))


def _failure_report(path: str | Path, results: list[CaseResult], failed: list[CaseResult]) -> str:
    lines = [f"{len(failed)} of {len(results)} cases in {path} did not pass:"]
    for result in failed:
        where = f"{result.location.path}:{result.location.line}"
        lines.append(f"  {where}: {result.name} (record {result.record})")
        lines.extend(f"      {mismatch}" for mismatch in result.mismatches())
    return "\n".join(lines)
