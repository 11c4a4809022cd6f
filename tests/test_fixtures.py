"""Every annotated fixture in the repository passes, and the fixture runner can fail.

A shipped standard or check arrives with its proof: a ``*.test.yaml`` whose records are each
annotated with the outcome every named rule must produce.  One test runs them all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rulecore import (
    AnyCheck,
    Check,
    CompileContext,
    EvaluationContext,
    Evaluator,
    Measurement,
    Record,
    Registry,
    StandardsInvalid,
    collect,
    get_plugin_manager,
    hookimpl,
)
from rulecore._fixtures import CaseResult, discover_fixtures, run_fixture
from rulecore._standards import discover_standard_files
from rulecore._yaml import load_yaml_file

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_HOMES = [
    ROOT / "standards",
    *sorted(ROOT.glob("plugins/*/fixtures")),
    ROOT / "examples",
]


def _mismatch_report(results: list[CaseResult]) -> str:
    return "\n".join(
        f"{result.location.path}:{result.location.line}: {result.name} "
        f"(record {result.record}): {mismatch}"
        for result in results
        for mismatch in result.mismatches()
    )


# ---------------------------------------------------------------------------------------------
# every fixture in the repository is a test: rulecore.pytest_plugin collects each case
# ---------------------------------------------------------------------------------------------


def test_every_fixture_in_the_repository_is_collected(pytestconfig: pytest.Config) -> None:
    # The cases themselves run as items of rulecore.pytest_plugin (one per case, named after
    # it); this test fails if a fixture folder falls outside what `pytest` collects.
    assert pytestconfig.pluginmanager.has_plugin("rulecore.pytest_plugin")
    testpaths = [ROOT / path for path in pytestconfig.getini("testpaths")]
    fixtures = discover_fixtures(home for home in FIXTURE_HOMES if home.exists())
    outside = [
        str(path.relative_to(ROOT))
        for path in fixtures
        if not any(path.is_relative_to(folder) for folder in testpaths)
    ]

    assert len(fixtures) >= 40
    assert not outside, f"fixtures that `pytest` does not collect: {outside}"


def _kind(path: Path) -> object:
    data = load_yaml_file(path).data
    return data.get("kind", "standard") if isinstance(data, dict) else None


def test_every_shipped_standard_has_a_fixture() -> None:
    standards = [
        path for path in discover_standard_files([ROOT / "standards"]) if _kind(path) == "standard"
    ]
    without_fixture = [
        str(path.relative_to(ROOT))
        for path in standards
        if not path.with_name(path.stem + ".test.yaml").exists()
    ]

    assert standards
    assert not without_fixture, f"standards without a *.test.yaml beside them: {without_fixture}"


# ---------------------------------------------------------------------------------------------
# the runner can fail
# ---------------------------------------------------------------------------------------------


def _compile_event_count(params: object, context: CompileContext) -> Evaluator:
    def event_count(record: Record, context: EvaluationContext) -> Measurement:
        return Measurement(float(len(record.events)))

    return event_count


class _EventCountPlugin:
    """A check that counts a record's events: the runner's behaviour, not a check's, is tested."""

    @staticmethod
    @hookimpl
    def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
        register(
            Check(
                name="event_count",
                dimension="flow",
                doc="How many events the record has.",
                params_schema={"type": "object"},
                compile=_compile_event_count,
            )
        )


@pytest.fixture
def event_count_only() -> Registry:
    return collect(get_plugin_manager(entrypoints=False, plugins=[_EventCountPlugin()]))


STANDARD = """\
id: short-cases
version: 1
title: Short cases
dimension: flow
rules:
  - id: few-events
    check: event_count
    scope: {field: channel, op: eq, value: chat}
    thresholds: {desired: 2, adequate: 3}
"""

CASES = """\
cases:
  - name: two events pass
    record:
      id: R1
      attributes: {channel: chat}
      events:
        - {at: "2026-03-02T09:00:00Z", type: opened}
        - {at: "2026-03-02T09:01:00Z", type: message}
    expect: {few-events: EXPECTED}
  - name: e-mail is out of scope
    record:
      id: R2
      attributes: {channel: email}
    expect: {short-cases/few-events: out_of_scope}
"""


def _write_fixture(folder: Path, expected: str) -> Path:
    (folder / "short-cases.yaml").write_text(STANDARD, encoding="utf-8")
    fixture = folder / "short-cases.test.yaml"
    fixture.write_text(CASES.replace("EXPECTED", expected), encoding="utf-8")
    return fixture


def test_a_right_expectation_passes(tmp_path: Path, event_count_only: Registry) -> None:
    fixture = _write_fixture(tmp_path, "pass")

    results = run_fixture(fixture, event_count_only)

    assert [(result.record, result.actual) for result in results] == [
        ("R1", {"few-events": "pass"}),
        ("R2", {}),
    ]
    assert [result.mismatches() for result in results] == [[], []]


def test_out_of_scope_is_a_passing_expectation_for_a_rule_that_did_not_run(
    tmp_path: Path, event_count_only: Registry
) -> None:
    # `rulecore test` counts a case by `passed`, so it must agree with `mismatches()`.
    fixture = _write_fixture(tmp_path, "pass")

    results = run_fixture(fixture, event_count_only)

    assert [(result.record, result.passed) for result in results] == [("R1", True), ("R2", True)]


def test_a_wrong_expectation_is_reported_with_its_line(
    tmp_path: Path, event_count_only: Registry
) -> None:
    fixture = _write_fixture(tmp_path, "fail")

    results = run_fixture(fixture, event_count_only)

    failed = [result for result in results if result.mismatches()]
    assert [result.record for result in failed] == ["R1"]
    assert not failed[0].passed
    assert _mismatch_report(failed) == (
        f"{fixture}:2: two events pass (record R1): "
        "few-events: expected fail, got pass (measured 2; desired ≤ 2, adequate ≤ 3)"
    )


def test_expecting_a_rule_the_standard_lacks_is_an_error_at_its_key(
    tmp_path: Path, event_count_only: Registry
) -> None:
    fixture = _write_fixture(tmp_path, "pass")
    text = fixture.read_text(encoding="utf-8").replace(
        "expect: {short-cases/few-events", "expect: {no-such-rule"
    )
    fixture.write_text(text, encoding="utf-8")
    line = text.splitlines().index("    expect: {no-such-rule: out_of_scope}") + 1
    column = len("    expect: {") + 1

    with pytest.raises(StandardsInvalid) as raised:
        run_fixture(fixture, event_count_only)

    assert [str(error) for error in raised.value.errors] == [
        f"{fixture}:{line}:{column}: the standard 'short-cases' has no rule 'no-such-rule'"
    ]
