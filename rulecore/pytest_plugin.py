"""rulecore's pytest plugin: every fixture case a test item, and fixtures for plugin authors.

Opt in with ``-p rulecore.pytest_plugin`` (in ``addopts``), or ``pytest_plugins =
["rulecore.pytest_plugin"]`` in the root ``conftest.py``.  It is not registered under the
``pytest11`` entry point: rulecore is installed beside services that have their own tests, and
those runs should neither import rulecore nor claim their ``*.test.yaml`` files.

Then:

* each annotated fixture file (``*.test.yaml``, ``*.test.yml``) under the paths pytest
  collects is a test file, and each of its cases one test item named after the case.  The
  cases of a file are audited together, as ``rulecore test`` audits them, so cross-record
  checks see them all.  A failing case reports the expected outcome against the actual one,
  the measured value, the thresholds, the finding's message and its evidence;
* the fixture ``rulecore_engine`` builds an :class:`~rulecore.Engine` from standards (paths,
  YAML text or a mapping) and ``audit_records`` audits records with it
  (:class:`rulecore.testing.Audit`).

Two ini options say which plugins the items and fixtures see: ``rulecore_plugins`` (modules
to register besides the installed ones, for a plugin not installed yet) and
``rulecore_entrypoints`` (load the installed ``rulecore`` entry points; default true).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ._engine import Engine
from ._findings import Finding
from ._fixtures import OUT_OF_SCOPE, CaseResult, run_fixture
from ._i18n import _
from ._model import Record
from ._plugins import Registry
from ._schemas import load_schema
from ._standards import FIXTURE_SUFFIXES, StandardsInvalid, load_standards, schema_errors
from ._thresholds import format_value
from ._yaml import SourceError, load_yaml_file
from .testing import Audit, audit, make_engine
from .testing import _registry as build_registry

__all__ = [
    "FixtureCase",
    "FixtureFile",
    "audit_records",
    "pytest_addoption",
    "pytest_collect_file",
    "rulecore_engine",
]

_REGISTRY = pytest.StashKey[Registry]()


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "rulecore_plugins",
        type="args",
        default=[],
        help="rulecore: plugin modules to register besides the installed entry points.",
    )
    parser.addini(
        "rulecore_entrypoints",
        type="bool",
        default=True,
        help="rulecore: load the installed 'rulecore' entry points (default: true).",
    )


def _configured_plugins(config: pytest.Config) -> list[object]:
    return [importlib.import_module(name) for name in config.getini("rulecore_plugins")]


def _configured_entrypoints(config: pytest.Config) -> bool:
    return bool(config.getini("rulecore_entrypoints"))


def _session_registry(config: pytest.Config) -> Registry:
    # Built once per run, when the first fixture case runs: collecting never loads plugins.
    if _REGISTRY not in config.stash:
        config.stash[_REGISTRY] = build_registry(
            _configured_plugins(config), _configured_entrypoints(config)
        )
    return config.stash[_REGISTRY]


# ---------------------------------------------------------------------------------------------
# fixture files as test items
# ---------------------------------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> FixtureFile | None:
    if file_path.name.lower().endswith(FIXTURE_SUFFIXES):
        return FixtureFile.from_parent(parent, path=file_path)
    return None


class FixtureInvalid(Exception):
    """A fixture or its standard cannot be run; every problem is at ``file:line:col``."""

    def __init__(self, problems: Sequence[object]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))


class CaseFailed(Exception):
    """A case whose rules did not all give the expected outcome."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.name)
        self.result = result


class FixtureFile(pytest.File):
    """One ``*.test.yaml``: its cases are its items, and they run as one audit."""

    _results: list[CaseResult] | FixtureInvalid | None = None

    def collect(self) -> Iterator[FixtureCase]:
        try:
            document = load_yaml_file(self.path)
        except SourceError as error:
            raise FixtureInvalid([error]) from None
        problems = list(schema_errors(document, load_schema("fixture")))
        if problems:
            raise FixtureInvalid(problems)
        seen: set[str] = set()
        for index, case in enumerate(document.data["cases"]):
            name = _item_name(case, index, seen)
            seen.add(name)
            line = document.locate(["cases", index]).line
            yield FixtureCase.from_parent(self, name=name, index=index, line=line)

    def results(self) -> list[CaseResult]:
        """Every case's result; the file is audited once, when its first case runs."""
        if self._results is None:
            try:
                self._results = run_fixture(self.path, _session_registry(self.config))
            except StandardsInvalid as invalid:
                self._results = FixtureInvalid(invalid.errors)
            except SourceError as error:
                self._results = FixtureInvalid([error])
        if isinstance(self._results, FixtureInvalid):
            raise self._results
        return self._results

    def repr_failure(  # type: ignore[override]
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> str | Any:
        if isinstance(excinfo.value, FixtureInvalid):
            return _("invalid fixture:\n{problems}").format(problems=excinfo.value)
        return super().repr_failure(excinfo)


def _item_name(case: Mapping[str, Any], index: int, seen: set[str]) -> str:
    # pytest separates node ids with "::", so a name may not contain it; a repeated name is
    # told apart by its record.
    name = str(case.get("name") or f"case {index + 1}").replace("::", ": :")
    if name in seen:
        name = f"{name} (record {case.get('record', {}).get('id', index + 1)})"
    return name


class FixtureCase(pytest.Item):
    """One annotated record of a fixture file, named after its case."""

    def __init__(self, *, index: int, line: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index = index
        self.line = line

    def runtest(self) -> None:
        assert isinstance(self.parent, FixtureFile)
        result = self.parent.results()[self.index]
        if result.mismatches():
            raise CaseFailed(result)

    def repr_failure(  # type: ignore[override]
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> str | Any:
        if isinstance(excinfo.value, CaseFailed):
            return describe_failed_case(excinfo.value.result, _shown_path(self))
        if isinstance(excinfo.value, FixtureInvalid):
            return _("invalid fixture:\n{problems}").format(problems=excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.line - 1, self.name


def _shown_path(item: pytest.Item) -> str:
    try:
        return str(item.path.relative_to(item.config.rootpath))
    except ValueError:
        return str(item.path)


def describe_failed_case(result: CaseResult, path: str | None = None) -> str:
    """What a failed case shows: each rule's expected and actual outcome, and the evidence.

    :param path: the fixture file as it should be shown (default: as the result names it).
    """
    lines = [
        _("{where}: {name} (record {record})").format(
            where=f"{path or result.location.path}:{result.location.line}",
            name=result.name,
            record=result.record,
        )
    ]
    for rule, expected in sorted(result.expected.items()):
        actual = result.actual.get(rule, OUT_OF_SCOPE)
        if actual == expected:
            continue
        lines.append(
            _("  {rule}: expected {expected}, got {actual}").format(
                rule=rule, expected=expected, actual=actual
            )
        )
        finding = result.findings.get(rule)
        if finding is None:
            lines.append(
                "      "
                + _("no finding: the rule's scope or its standard's scope left the record out")
            )
            continue
        lines.extend("      " + line for line in _finding_lines(finding))
    return "\n".join(lines)


def _finding_lines(finding: Finding) -> Iterator[str]:
    unit = finding.expected.unit if finding.expected is not None else "count"
    measured = "—" if finding.measured is None else format_value(finding.measured, unit)
    yield _("measured:   {value}").format(value=measured)
    zone = finding.expected.describe() if finding.expected is not None else _("none")
    yield _("thresholds: {zone}").format(zone=zone)
    if finding.message:
        yield _("message:    {message}").format(message=finding.message)
    if not finding.evidence:
        yield _("evidence:   none")
        return
    yield _("evidence:")
    for piece in finding.evidence:
        when = piece.at.isoformat() if piece.at is not None else ""
        if piece.until is not None:
            when += " → " + piece.until.isoformat()
        index = f"event {piece.event_index}" if piece.event_index is not None else ""
        words = [piece.kind, piece.label, when, index, piece.detail or ""]
        yield "  - " + "  ".join(word for word in words if word)


# ---------------------------------------------------------------------------------------------
# fixtures for tests written in Python
# ---------------------------------------------------------------------------------------------

EngineFactory = Callable[..., Engine]
AuditFunction = Callable[..., Audit]


@pytest.fixture
def rulecore_engine(request: pytest.FixtureRequest) -> EngineFactory:
    """A factory: ``rulecore_engine(*standards, plugins=(), entrypoints=None, schedules=None)``.

    ``standards`` are :class:`~pathlib.Path` objects (files or folders, relative ones from the
    test module's folder), or one standard as YAML text or a mapping.  ``plugins`` are
    registered besides the ``rulecore_plugins`` ini option's; ``entrypoints`` defaults to the
    ``rulecore_entrypoints`` ini option.
    """
    config = request.config
    here = request.path.parent
    built: list[Engine] = []
    request.node.stash[_ENGINES] = built

    def make(
        *standards: Path | str | Mapping[str, Any],
        plugins: Sequence[object] = (),
        entrypoints: bool | None = None,
        schedules: Mapping[str, Any] | None = None,
    ) -> Engine:
        every_plugin = [*_configured_plugins(config), *plugins]
        load_entrypoints = _configured_entrypoints(config) if entrypoints is None else entrypoints
        if standards and all(isinstance(each, Path) for each in standards):
            if schedules:
                raise TypeError(
                    "schedules= applies to a standard given as text or a mapping; for paths, "
                    "put 'kind: schedule' files in the same folder"
                )
            registry = build_registry(every_plugin, load_entrypoints)
            paths = [here / each for each in standards if isinstance(each, Path)]
            engine = Engine(load_standards(paths, registry), registry)
        elif len(standards) == 1:
            engine = make_engine(
                standards[0],
                plugins=every_plugin,
                entrypoints=load_entrypoints,
                schedules=schedules,
            )
        else:
            raise TypeError(
                "give rulecore_engine paths (pathlib.Path), or one standard as YAML text or a "
                f"mapping; got {len(standards)} arguments"
            )
        built.append(engine)
        return engine

    return make


_ENGINES = pytest.StashKey[list[Engine]]()


@pytest.fixture
def audit_records(request: pytest.FixtureRequest) -> AuditFunction:
    """``audit_records(records, engine=None, *, as_of=None)`` → :class:`rulecore.testing.Audit`.

    ``records`` are :class:`~rulecore.Record` objects or mappings, or the path of a records
    file (relative to the test module's folder).  ``engine`` defaults to the one engine this
    test built with ``rulecore_engine``.
    """
    here = request.path.parent

    def run(
        records: Sequence[Record | Mapping[str, Any]] | str | Path,
        engine: Engine | None = None,
        *,
        as_of: datetime | None = None,
    ) -> Audit:
        if engine is None:
            built = request.node.stash.get(_ENGINES, [])
            if len(built) != 1:
                raise TypeError(
                    f"this test built {len(built)} engines with rulecore_engine; pass the one "
                    "to audit with as audit_records(records, engine)"
                )
            engine = built[0]
        if isinstance(records, (str, Path)):
            records = here / records
        return audit(engine, records, as_of=as_of)

    return run
