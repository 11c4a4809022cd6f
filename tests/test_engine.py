"""The engine: outcomes, thresholds, scopes, fingerprints, determinism and containment.

Most tests measure with small checks defined here, which read a number straight from a record
attribute, so each test controls the measured value exactly and only the engine is under test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from rulecore import (
    AnyCheck,
    Check,
    CompileContext,
    CrossRecordCheck,
    Engine,
    EvaluationContext,
    Evaluator,
    Evidence,
    Finding,
    Item,
    Measurement,
    Record,
    Registry,
    Rejection,
    Summary,
    collect,
    compile_scope,
    fingerprint,
    get_plugin_manager,
    hookimpl,
    load_standards,
    record_from_mapping,
)

ROOT = Path(__file__).resolve().parent.parent
TEST_PLUGIN = "engine-test-checks"

# ---------------------------------------------------------------------------------------------
# checks for the tests
# ---------------------------------------------------------------------------------------------

ATTRIBUTE_PARAMS: dict[str, Any] = {
    "type": "object",
    "required": ["attribute"],
    "additionalProperties": False,
    "properties": {"attribute": {"type": "string"}},
}


def compile_attribute_value(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    name = params["attribute"]

    def attribute_value(record: Record, eval_context: EvaluationContext) -> Measurement:
        raw = record.attribute(name)
        if raw is None:
            return Measurement.not_applicable(f"the record has no {name}")
        return Measurement(float(raw), note=f"{name} read")

    return attribute_value


def compile_explode(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    """Raises on records whose ``explode`` attribute is true; measures 0 otherwise."""

    def explode(record: Record, eval_context: EvaluationContext) -> Measurement:
        if record.attribute("explode"):
            raise ZeroDivisionError("the check divided by zero")
        return Measurement(0.0)

    return explode


def compile_constant(value: Any) -> Callable[[Mapping[str, Any], CompileContext], Evaluator]:
    """A check that returns ``value`` whatever the record: for checks that misbehave."""

    def compile_it(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
        def constant(record: Record, eval_context: EvaluationContext) -> Measurement:
            return value  # type: ignore[no-any-return]

        return constant

    return compile_it


class RepeatContacts:
    """Counts, per record, the earlier records of the same customer (a cross-record check)."""

    def __init__(self, fail_in: str | None) -> None:
        self.fail_in = fail_in
        self.seen: dict[str, list[str]] = {}

    def add(self, record: Record, context: EvaluationContext) -> None:
        if self.fail_in == "add" and record.attribute("explode"):
            raise KeyError("customer index corrupt")
        customer = str(record.attribute("customer"))
        self.seen.setdefault(customer, []).append(record.id)

    def results(self) -> Iterator[tuple[str, Measurement]]:
        if self.fail_in == "results":
            raise RuntimeError("window overflow")
        for customer in sorted(self.seen):
            for earlier, record_id in enumerate(self.seen[customer]):
                yield record_id, Measurement(float(earlier), note=f"customer {customer}")


class MalformedResults(RepeatContacts):
    def results(self) -> Iterator[tuple[str, Measurement]]:
        yield "x", "not a measurement"  # type: ignore[misc]


def compile_repeat_contacts(
    params: Mapping[str, Any], context: CompileContext
) -> Callable[[], RepeatContacts]:
    fail_in = params.get("fail_in")
    if fail_in == "malformed":
        return lambda: MalformedResults(None)
    return lambda: RepeatContacts(fail_in)


EVIDENCE_BUILT: list[str] = []


def compile_lazy_evidence(params: Mapping[str, Any], context: CompileContext) -> Any:
    name = params["attribute"]

    def evaluate(record: Record, eval_context: EvaluationContext) -> Measurement:
        def build() -> tuple[Evidence, ...]:
            EVIDENCE_BUILT.append(record.id)
            return (Evidence("note", "built", detail=record.id),)

        return Measurement(float(record.attribute(name) or 0), build)

    return evaluate


def _check(name: str, compile_it: Any, **options: Any) -> Check:
    return Check(
        name, "testing", f"{name}, for tests.", options.pop("schema", {}), compile_it, **options
    )


class EngineTestChecks:
    """The plugin that provides the tests' checks."""

    @hookimpl
    def rulecore_register_checks(self, register: Callable[[AnyCheck], None]) -> None:
        value = compile_attribute_value
        register(_check("value_lower", value, schema=ATTRIBUTE_PARAMS, better="lower"))
        register(_check("value_higher", value, schema=ATTRIBUTE_PARAMS, better="higher"))
        register(_check("seconds_lower", value, schema=ATTRIBUTE_PARAMS, unit="seconds"))
        register(_check("explode", compile_explode, default_thresholds={"max": 0}))
        register(
            _check("returns_dict", compile_constant({"value": 1}), default_thresholds={"max": 0})
        )
        register(
            _check(
                "unknown_outcome",
                compile_constant(Measurement(1.0, outcome="passed")),
                default_thresholds={"max": 0},
            )
        )
        register(
            _check(
                "not_a_number",
                compile_constant(Measurement(float("nan"))),
                default_thresholds={"max": 0},
            )
        )
        register(_check("lazy_evidence", compile_lazy_evidence, schema=ATTRIBUTE_PARAMS))
        register(
            _check(
                "broken_evidence",
                compile_constant(Measurement(1.0, evidence=lambda: 1 / 0)),  # type: ignore[arg-type]
                default_thresholds={"max": 0},
            )
        )
        register(
            CrossRecordCheck(
                "repeat_contacts",
                "testing",
                "Earlier contacts by the same customer.",
                {"type": "object", "properties": {"fail_in": {"type": "string"}}},
                compile_repeat_contacts,
                default_thresholds={"max": 0},
            )
        )


@pytest.fixture(scope="module")
def registry() -> Registry:
    manager = get_plugin_manager(entrypoints=False)
    manager.register(EngineTestChecks(), name=TEST_PLUGIN)
    found = collect(manager)
    assert found.problems == ()
    return found


def engine_for(folder: Path, registry: Registry, *standards: str) -> Engine:
    """Write each standard (YAML text) into ``folder`` and compile them."""
    folder.mkdir(exist_ok=True)
    for index, text in enumerate(standards):
        (folder / f"standard-{index}.yaml").write_text(text, encoding="utf-8")
    return Engine(load_standards([folder], registry), registry)


def standard(rules: str, scope: str = "") -> str:
    """A standard ``s`` around ``rules`` (a YAML list, indented by two spaces)."""
    head = "id: s\nversion: 1\ntitle: Test\ndimension: testing\n"
    return head + (f"scope: {scope}\n" if scope else "") + "rules:\n" + rules


def record(record_id: str, **attributes: Any) -> Record:
    return record_from_mapping({"id": record_id, "attributes": attributes})


class Collector:
    """A report sink that keeps everything."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.rejections: list[Rejection] = []
        self.summary: Summary | None = None

    def finding(self, finding: Finding) -> None:
        self.findings.append(finding)

    def rejection(self, rejection: Rejection) -> None:
        self.rejections.append(rejection)

    def close(self, summary: Summary) -> None:
        self.summary = summary


def audit(engine: Engine, items: Iterable[Item]) -> Collector:
    sink = Collector()
    engine.audit(items, sink, all_outcomes=True)
    return sink


def outcomes(findings: Iterable[Finding]) -> dict[tuple[str, str], str]:
    return {(finding.record, finding.rule): finding.outcome for finding in findings}


# ---------------------------------------------------------------------------------------------
# a plugin's fault stays the plugin's
# ---------------------------------------------------------------------------------------------


def test_check_that_raises_gives_an_error_naming_plugin_rule_and_record(
    tmp_path: Path, registry: Registry
) -> None:
    engine = engine_for(
        tmp_path,
        registry,
        standard(
            "  - id: fragile\n    check: explode\n"
            "  - id: sturdy\n    check: value_lower\n    params: {attribute: n}\n"
            "    thresholds: {max: 5}\n"
        ),
    )
    records = [record("a", n=1), record("b", n=1, explode=True), record("c", n=9)]
    sink = audit(engine, records)

    assert outcomes(sink.findings) == {
        ("a", "fragile"): "pass",
        ("a", "sturdy"): "pass",
        ("b", "fragile"): "error",
        ("b", "sturdy"): "pass",
        ("c", "fragile"): "pass",
        ("c", "sturdy"): "fail",
    }
    error = next(f for f in sink.findings if f.outcome == "error")
    assert error.plugin == TEST_PLUGIN
    for named in (repr(TEST_PLUGIN), "'fragile'", "'b'", "ZeroDivisionError", "divided by zero"):
        assert named in error.message
    assert error.evidence[0].kind == "note"
    assert "ZeroDivisionError" in error.evidence[0].detail
    assert sink.summary is not None
    assert sink.summary.outcomes.errors == 1


def test_check_returning_something_else_than_a_measurement_is_an_error(
    tmp_path: Path, registry: Registry
) -> None:
    engine = engine_for(tmp_path, registry, standard("  - id: odd\n    check: returns_dict\n"))
    [finding] = engine.evaluate(record("a"))
    assert finding.outcome == "error"
    assert "returned dict, not a Measurement" in finding.message


def test_check_returning_an_unknown_outcome_is_an_error(tmp_path: Path, registry: Registry) -> None:
    engine = engine_for(tmp_path, registry, standard("  - id: odd\n    check: unknown_outcome\n"))
    sink = audit(engine, [record("a")])
    assert outcomes(sink.findings) == {("a", "odd"): "error"}
    assert "'passed'" in sink.findings[0].message


def test_check_measuring_nan_is_an_error(tmp_path: Path, registry: Registry) -> None:
    engine = engine_for(tmp_path, registry, standard("  - id: odd\n    check: not_a_number\n"))
    [finding] = engine.evaluate(record("a"))
    assert finding.outcome == "error"
    json.loads(json.dumps(finding.to_dict(), allow_nan=False))


# ---------------------------------------------------------------------------------------------
# counts reconcile
# ---------------------------------------------------------------------------------------------


def test_counts_reconcile_on_input_with_bad_lines(tmp_path: Path, registry: Registry) -> None:
    engine = engine_for(
        tmp_path / "standards",
        registry,
        standard(
            "  - id: n\n    check: value_lower\n    params: {attribute: n}\n"
            "    thresholds: {max: 5}\n"
        ),
    )
    lines = [
        json.dumps({"id": "a", "attributes": {"n": 1}}),
        "{not json",
        "",  # blank lines are not records: neither read nor rejected
        json.dumps({"id": "b", "attributes": {"n": 7}}),
        json.dumps({"attributes": {"n": 1}}),
        json.dumps({"id": "c", "attributes": {"n": [1]}}),
        json.dumps({"id": "d"}),
    ]
    source = tmp_path / "records.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reader = registry.readers["jsonl"][1]

    sink = audit(engine, reader.read(source, {}))

    summary = sink.summary
    assert summary is not None
    assert (summary.read, summary.evaluated, summary.rejected) == (6, 3, 3)
    assert summary.reconciles
    assert [rejection.line for rejection in sink.rejections] == [2, 5, 6]
    counts = summary.outcomes
    assert (counts.passed, counts.failed, counts.not_applicable) == (1, 1, 1)


# ---------------------------------------------------------------------------------------------
# thresholds
# ---------------------------------------------------------------------------------------------

ZONE_EDGES = [
    # lower is better: pass up to desired, warn up to adequate, fail beyond
    ("value_lower", "{desired: 10, adequate: 20}", 0, "pass"),
    ("value_lower", "{desired: 10, adequate: 20}", 10, "pass"),
    ("value_lower", "{desired: 10, adequate: 20}", 10.5, "warn"),
    ("value_lower", "{desired: 10, adequate: 20}", 20, "warn"),
    ("value_lower", "{desired: 10, adequate: 20}", 20.5, "fail"),
    ("value_lower", "{max: 5}", 5, "pass"),
    ("value_lower", "{max: 5}", 5.5, "fail"),
    ("value_lower", "{target: 100, warn_at: 75%}", 75, "pass"),
    ("value_lower", "{target: 100, warn_at: 75%}", 76, "warn"),
    ("value_lower", "{target: 100, warn_at: 75%}", 100, "warn"),
    ("value_lower", "{target: 100, warn_at: 75%}", 101, "fail"),
    ("value_lower", "{target: 100, warn_at: 0.5}", 50, "pass"),
    ("value_lower", "{target: 100, warn_at: 0.5}", 51, "warn"),
    ("value_lower", "{target: 100}", 100, "pass"),
    ("value_lower", "{target: 100}", 101, "fail"),
    # higher is better: pass from desired up, warn down to adequate, fail below
    ("value_higher", "{desired: 20, adequate: 10}", 30, "pass"),
    ("value_higher", "{desired: 20, adequate: 10}", 20, "pass"),
    ("value_higher", "{desired: 20, adequate: 10}", 19.5, "warn"),
    ("value_higher", "{desired: 20, adequate: 10}", 10, "warn"),
    ("value_higher", "{desired: 20, adequate: 10}", 9.5, "fail"),
    ("value_higher", "{min: 5}", 5, "pass"),
    ("value_higher", "{min: 5}", 4.5, "fail"),
    ("value_higher", "{desired: 90%, adequate: 80%}", 0.9, "pass"),
    ("value_higher", "{desired: 90%, adequate: 80%}", 0.85, "warn"),
    ("value_higher", "{target: 100, warn_at: 80%}", 100, "pass"),
    ("value_higher", "{target: 100, warn_at: 80%}", 99, "warn"),
    ("value_higher", "{target: 100, warn_at: 80%}", 80, "warn"),
    ("value_higher", "{target: 100, warn_at: 80%}", 79, "fail"),
    # durations, in seconds
    ("seconds_lower", "{desired: 1m, adequate: 5m}", 60, "pass"),
    ("seconds_lower", "{desired: 1m, adequate: 5m}", 61, "warn"),
    ("seconds_lower", "{desired: 1m, adequate: 5m}", 300, "warn"),
    ("seconds_lower", "{desired: 1m, adequate: 5m}", 301, "fail"),
    ("seconds_lower", "{target: 1h, warn_at: 50%}", 1800, "pass"),
    ("seconds_lower", "{target: 1h, warn_at: 50%}", 1801, "warn"),
    ("seconds_lower", "{target: 1h, warn_at: 50%}", 3601, "fail"),
]


@pytest.fixture(scope="module")
def zone_engines(
    tmp_path_factory: pytest.TempPathFactory, registry: Registry
) -> dict[tuple[str, str], Engine]:
    """One engine per (check, zone) in ZONE_EDGES, compiled once for the module."""
    engines = {}
    for index, (check, zone) in enumerate(sorted({(c, z) for c, z, _, _ in ZONE_EDGES})):
        rules = (
            f"  - id: r\n    check: {check}\n    params: {{attribute: n}}\n    thresholds: {zone}\n"
        )
        folder = tmp_path_factory.mktemp(f"zone{index}")
        engines[check, zone] = engine_for(folder, registry, standard(rules))
    return engines


@pytest.mark.parametrize(("check", "zone", "value", "expected"), ZONE_EDGES)
def test_zone_of_tolerance_edges(
    zone_engines: dict[tuple[str, str], Engine],
    check: str,
    zone: str,
    value: float,
    expected: str,
) -> None:
    [finding] = zone_engines[check, zone].evaluate(record("a", n=value))
    assert finding.outcome == expected
    assert finding.measured == value


def test_expected_zone_is_reported_with_the_finding(tmp_path: Path, registry: Registry) -> None:
    engine = engine_for(
        tmp_path,
        registry,
        standard(
            "  - id: r\n    check: seconds_lower\n    params: {attribute: n}\n"
            "    thresholds: {target: 1h, warn_at: 75%}\n"
        ),
    )
    [finding] = engine.evaluate(record("a", n=3000))
    assert finding.expected is not None
    assert finding.expected.as_dict() == {
        "desired": 2700.0,
        "adequate": 3600.0,
        "better": "lower",
        "unit": "seconds",
    }
    assert finding.message == "measured 50m; desired ≤ 45m, adequate ≤ 1h (n read)"


MATRIX = """\
  - id: by-priority
    check: value_lower
    params: {attribute: n}
    thresholds:
      by: priority
      values:
        high: {desired: 10, adequate: 20}
        low: {target: 100, warn_at: 50%}
        1: {max: 3}
"""


def test_priority_matrix_with_otherwise(tmp_path: Path, registry: Registry) -> None:
    rules = MATRIX + "      otherwise: {max: 1}\n"
    engine = engine_for(tmp_path, registry, standard(rules))
    records = [
        record("high-15", priority="high", n=15),
        record("high-25", priority="high", n=25),
        record("low-40", priority="low", n=40),
        record("low-60", priority="low", n=60),
        record("numeric-3", priority=1, n=3),
        record("normal-1", priority="normal", n=1),
        record("normal-2", priority="normal", n=2),
        record("none-2", n=2),
    ]
    found = {f.record: f.outcome for f in audit(engine, records).findings}
    assert found == {
        "high-15": "warn",
        "high-25": "fail",
        "low-40": "pass",
        "low-60": "warn",
        "numeric-3": "pass",
        "normal-1": "pass",
        "normal-2": "fail",
        "none-2": "fail",
    }


def test_priority_matrix_without_otherwise_is_not_applicable_elsewhere(
    tmp_path: Path, registry: Registry
) -> None:
    engine = engine_for(tmp_path, registry, standard(MATRIX))
    [matched] = engine.evaluate(record("high", priority="high", n=25))
    [unmatched] = engine.evaluate(record("normal", priority="normal", n=25))
    [missing] = engine.evaluate(record("none", n=25))
    assert matched.outcome == "fail"
    assert unmatched.outcome == "not_applicable"
    assert unmatched.expected is None
    assert "priority" in unmatched.message
    assert "otherwise" in unmatched.message
    assert missing.outcome == "not_applicable"


# ---------------------------------------------------------------------------------------------
# scopes
# ---------------------------------------------------------------------------------------------

SCOPES: list[tuple[Any, dict[str, Any], bool]] = [
    ({"field": "channel", "op": "eq", "value": "chat"}, {"channel": "chat"}, True),
    ({"field": "channel", "op": "eq", "value": "chat"}, {"channel": "email"}, False),
    ({"field": "channel", "op": "eq", "value": "chat"}, {}, False),
    ({"field": "channel", "op": "ne", "value": "chat"}, {"channel": "email"}, True),
    ({"field": "channel", "op": "ne", "value": "chat"}, {"channel": "chat"}, False),
    ({"field": "priority", "op": "in", "value": ["high", "urgent"]}, {"priority": "urgent"}, True),
    ({"field": "priority", "op": "in", "value": ["high", "urgent"]}, {"priority": "low"}, False),
    ({"field": "priority", "op": "in", "value": ["high", "urgent"]}, {}, False),
    ({"field": "priority", "op": "not_in", "value": ["high"]}, {"priority": "low"}, True),
    ({"field": "priority", "op": "not_in", "value": ["high"]}, {"priority": "high"}, False),
    ({"field": "tier", "op": "exists"}, {"tier": "gold"}, True),
    ({"field": "tier", "op": "exists"}, {}, False),
    ({"field": "tier", "op": "exists"}, {"tier": None}, False),
    ({"field": "tier", "op": "missing"}, {}, True),
    ({"field": "tier", "op": "missing"}, {"tier": "gold"}, False),
    ({"field": "amount", "op": "gt", "value": 10}, {"amount": 11}, True),
    ({"field": "amount", "op": "gt", "value": 10}, {"amount": 10}, False),
    ({"field": "amount", "op": "gte", "value": 10}, {"amount": 10}, True),
    ({"field": "amount", "op": "gte", "value": 10}, {"amount": 9.5}, False),
    ({"field": "amount", "op": "lt", "value": 10}, {"amount": 9}, True),
    ({"field": "amount", "op": "lt", "value": 10}, {"amount": 10}, False),
    ({"field": "amount", "op": "lte", "value": 10}, {"amount": 10}, True),
    ({"field": "amount", "op": "lte", "value": 10}, {"amount": 11}, False),
    # an ordering between unlike types, or with a missing value, is simply not met
    ({"field": "amount", "op": "gt", "value": 10}, {"amount": "eleven"}, False),
    ({"field": "amount", "op": "gt", "value": 0}, {"amount": True}, False),
    ({"field": "amount", "op": "lt", "value": 10}, {}, False),
    ({"field": "opened", "op": "gte", "value": "2026-01-01"}, {"opened": "2026-03-01"}, True),
    ({"field": "subject", "op": "matches", "value": "^re: "}, {"subject": "re: refund"}, True),
    ({"field": "subject", "op": "matches", "value": "^re: "}, {"subject": "refund"}, False),
    ({"field": "subject", "op": "matches", "value": "1"}, {"subject": 1}, False),
    ({"field": "id", "op": "matches", "value": "^rec"}, {}, True),
    (
        {"all": [{"field": "a", "op": "eq", "value": 1}, {"field": "b", "op": "eq", "value": 2}]},
        {"a": 1, "b": 2},
        True,
    ),
    (
        {"all": [{"field": "a", "op": "eq", "value": 1}, {"field": "b", "op": "eq", "value": 2}]},
        {"a": 1, "b": 3},
        False,
    ),
    (
        {"any": [{"field": "a", "op": "eq", "value": 1}, {"field": "b", "op": "eq", "value": 2}]},
        {"a": 0, "b": 2},
        True,
    ),
    (
        {"any": [{"field": "a", "op": "eq", "value": 1}, {"field": "b", "op": "eq", "value": 2}]},
        {"a": 0, "b": 0},
        False,
    ),
    ({"not": {"field": "a", "op": "eq", "value": 1}}, {"a": 1}, False),
    ({"not": {"field": "a", "op": "eq", "value": 1}}, {"a": 2}, True),
    ([{"field": "a", "op": "eq", "value": 1}, {"field": "b", "op": "exists"}], {"a": 1}, False),
    (
        [{"field": "a", "op": "eq", "value": 1}, {"field": "b", "op": "exists"}],
        {"a": 1, "b": 0},
        True,
    ),
    (
        {
            "not": {
                "any": [
                    {"field": "a", "op": "in", "value": [1, 2]},
                    {"all": [{"field": "b", "op": "exists"}]},
                ]
            }
        },
        {"a": 3},
        True,
    ),
    (
        {
            "not": {
                "any": [
                    {"field": "a", "op": "in", "value": [1, 2]},
                    {"all": [{"field": "b", "op": "exists"}]},
                ]
            }
        },
        {"a": 3, "b": 1},
        False,
    ),
    (None, {}, True),
    ([], {}, True),
]


@pytest.mark.parametrize(("scope", "attributes", "applies"), SCOPES)
def test_scope_condition(scope: Any, attributes: dict[str, Any], applies: bool) -> None:
    assert compile_scope(scope)(record("rec-1", **attributes)) is applies


def test_every_operator_is_accepted_in_a_standard(tmp_path: Path, registry: Registry) -> None:
    conditions = [scope for scope, _, _ in SCOPES if scope]
    rules = "".join(
        f"  - id: r{index}\n    check: value_lower\n    params: {{attribute: n}}\n"
        f"    thresholds: {{max: 1}}\n    scope: {json.dumps(scope)}\n"
        for index, scope in enumerate(conditions)
    )
    engine = engine_for(tmp_path, registry, standard(rules))
    for index, (scope, attributes, applies) in enumerate(s for s in SCOPES if s[0]):
        rule_id = f"r{index}"
        found = [
            f for f in engine.evaluate(record("rec-1", n=0, **attributes)) if f.rule == rule_id
        ]
        assert bool(found) is applies, (scope, attributes)


def test_rule_scope_narrows_the_standard_scope_and_out_of_scope_gives_no_outcome(
    tmp_path: Path, registry: Registry
) -> None:
    rules = (
        "  - id: everywhere\n    check: value_lower\n    params: {attribute: n}\n"
        "    thresholds: {max: 1}\n"
        "  - id: urgent-only\n    check: value_lower\n    params: {attribute: n}\n"
        "    thresholds: {max: 1}\n    scope: {field: priority, op: eq, value: urgent}\n"
    )
    scope = "{field: channel, op: eq, value: chat}"
    engine = engine_for(tmp_path, registry, standard(rules, scope=scope))
    records = [
        record("chat-urgent", channel="chat", priority="urgent", n=0),
        record("chat-low", channel="chat", priority="low", n=0),
        record("email-urgent", channel="email", priority="urgent", n=0),
    ]
    sink = audit(engine, records)
    assert sorted(outcomes(sink.findings)) == [
        ("chat-low", "everywhere"),
        ("chat-urgent", "everywhere"),
        ("chat-urgent", "urgent-only"),
    ]
    assert sink.summary is not None
    counted = {
        rule.rule: rule.counts.passed + rule.counts.not_applicable for rule in sink.summary.rules
    }
    assert counted == {"everywhere": 2, "urgent-only": 1}


# ---------------------------------------------------------------------------------------------
# fingerprints and determinism
# ---------------------------------------------------------------------------------------------


def test_fingerprint_is_pinned() -> None:
    # Waivers and baselines written by earlier versions rely on this exact value.
    assert fingerprint("timeliness-first-reply", "chat-first-reply", "T-000001") == (
        "a613d9a451e49120fb7e"
    )


def _fingerprints(findings: Iterable[Finding]) -> dict[tuple[str, str], str]:
    return {(f.record, f.rule): f.fingerprint for f in findings}


def test_fingerprints_are_stable_across_runs_versions_and_input_order(
    tmp_path: Path, registry: Registry
) -> None:
    rules = (
        "  - id: n\n    check: value_lower\n    params: {attribute: n}\n    thresholds: {max: 5}\n"
    )
    records = [record(f"r{index}", n=index) for index in range(10)]
    first = engine_for(tmp_path / "v1", registry, standard(rules))
    second = engine_for(
        tmp_path / "v2", registry, standard(rules).replace("version: 1", "version: 2")
    )

    forward = _fingerprints(audit(first, records).findings)
    backward = _fingerprints(audit(second, list(reversed(records))).findings)
    changed = _fingerprints(audit(first, [record(r.id, n=99) for r in records]).findings)

    assert forward == backward == changed
    assert len(set(forward.values())) == len(records)
    assert forward["r3", "n"] == fingerprint("s", "n", "r3")


def _installed_engine() -> Engine:
    return Engine.from_paths([ROOT / "standards"])


def _example_records() -> list[Record]:
    reader_registry = collect(get_plugin_manager(entrypoints=False))
    reader = reader_registry.readers["jsonl"][1]
    items = reader.read(ROOT / "examples" / "records" / "service-desk.jsonl", {})
    return [item for item in items if isinstance(item, Record)]


def test_two_cli_runs_give_byte_identical_json(tmp_path: Path) -> None:
    rulecore = Path(sys.executable).parent / "rulecore"
    command = [
        str(rulecore),
        "audit",
        str(ROOT / "examples" / "records"),
        "-s",
        str(ROOT / "standards"),
        "--format",
        "json",
        "--fail-on",
        "never",
        "--all-outcomes",
    ]
    runs = [
        subprocess.run(command, capture_output=True, check=True, cwd=tmp_path) for _ in range(2)
    ]
    assert runs[0].stdout == runs[1].stdout
    report = json.loads(runs[0].stdout)
    assert report["summary"]["records"]["read"] > 0
    assert len(report["findings"]) > 0


def test_one_engine_evaluating_from_many_threads_matches_sequential() -> None:
    engine = _installed_engine()
    records = _example_records()
    assert len(records) >= 100

    sequential = [engine.evaluate(r) for r in records]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(engine.evaluate, records, chunksize=1))

    assert threaded == sequential
    assert sum(len(found) for found in sequential) > len(records)


# ---------------------------------------------------------------------------------------------
# messages
# ---------------------------------------------------------------------------------------------


def test_message_template_fills_placeholders_and_cannot_reach_attributes(
    tmp_path: Path, registry: Registry
) -> None:
    template = (
        "{record}/{rule}: {measured} ({outcome}); want {desired}, at worst {adequate}; "
        "{expected}; {note}; {unknown} {record.__class__} {rule.__init__.__globals__} {0}"
    )
    rules = (
        "  - id: reply\n    check: seconds_lower\n    params: {attribute: n}\n"
        f"    thresholds: {{desired: 1m, adequate: 5m}}\n    message: {json.dumps(template)}\n"
    )
    engine = engine_for(tmp_path, registry, standard(rules))
    [finding] = engine.evaluate(record("T-1", n=90))
    assert finding.message == (
        "T-1/reply: 1m30s (warn); want 1m, at worst 5m; desired ≤ 1m, adequate ≤ 5m; "
        "n read; {unknown} {record.__class__} {rule.__init__.__globals__} {0}"
    )


# ---------------------------------------------------------------------------------------------
# cross-record checks
# ---------------------------------------------------------------------------------------------

REPEATS = (
    "  - id: repeats\n    check: repeat_contacts\n    params: {fail_in: %s}\n"
    "    scope: {field: customer, op: exists}\n"
)


def _contacts() -> list[Record]:
    return [
        record("c1-first", customer="c1"),
        record("c2-only", customer="c2"),
        record("anonymous"),
        record("c1-second", customer="c1", explode=True),
        record("c1-third", customer="c1"),
    ]


def test_cross_record_check_results_arrive_in_the_audit(tmp_path: Path, registry: Registry) -> None:
    engine = engine_for(tmp_path, registry, standard(REPEATS % "none"))
    sink = audit(engine, _contacts())
    assert outcomes(sink.findings) == {
        ("c1-first", "repeats"): "pass",
        ("c1-second", "repeats"): "fail",
        ("c1-third", "repeats"): "fail",
        ("c2-only", "repeats"): "pass",
    }
    third = next(f for f in sink.findings if f.record == "c1-third")
    assert third.measured == 2
    assert third.plugin == TEST_PLUGIN
    assert third.check == "repeat_contacts"
    assert engine.evaluate(_contacts()[0]) == [], "cross-record rules need the whole stream"


def test_exception_in_cross_record_add_is_an_error_outcome(
    tmp_path: Path, registry: Registry
) -> None:
    engine = engine_for(tmp_path, registry, standard(REPEATS % "add"))
    sink = audit(engine, _contacts())
    assert outcomes(sink.findings) == {
        ("c1-first", "repeats"): "pass",
        ("c1-second", "repeats"): "error",
        ("c1-third", "repeats"): "fail",
        ("c2-only", "repeats"): "pass",
    }
    error = next(f for f in sink.findings if f.outcome == "error")
    for named in (repr(TEST_PLUGIN), "'repeats'", "'c1-second'", "KeyError"):
        assert named in error.message


def test_exception_in_cross_record_results_is_an_error_outcome(
    tmp_path: Path, registry: Registry
) -> None:
    engine = engine_for(tmp_path, registry, standard(REPEATS % "results"))
    sink = audit(engine, _contacts())
    [error] = sink.findings
    assert error.outcome == "error"
    assert "RuntimeError: window overflow" in error.message
    assert repr(TEST_PLUGIN) in error.message
    assert sink.summary is not None
    assert sink.summary.outcomes.errors == 1


def test_malformed_cross_record_result_is_an_error_outcome(
    tmp_path: Path, registry: Registry
) -> None:
    engine = engine_for(tmp_path, registry, standard(REPEATS % "malformed"))
    sink = audit(engine, _contacts())
    assert [f.outcome for f in sink.findings] == ["error"]


def test_deferred_evidence_is_built_only_for_reported_findings(
    tmp_path: Path, registry: Registry
) -> None:
    rules = "  - id: lazy\n    check: lazy_evidence\n    params: {attribute: v}\n"
    rules += "    thresholds: {max: 1}\n"
    engine = engine_for(tmp_path, registry, standard(rules))
    EVIDENCE_BUILT.clear()
    sink = Collector()
    engine.audit([record("passes", v=0), record("fails", v=5)], sink)  # passes only counted
    assert EVIDENCE_BUILT == []  # nothing is rendered until a reporter reads it
    [finding] = sink.findings
    assert finding.evidence == (Evidence("note", "built", detail="fails"),)
    assert finding.evidence == (Evidence("note", "built", detail="fails"),)
    assert EVIDENCE_BUILT == ["fails"]  # once, for the finding that was read


def test_evidence_that_fails_to_build_is_noted_not_fatal(
    tmp_path: Path, registry: Registry
) -> None:
    engine = engine_for(tmp_path, registry, standard("  - id: odd\n    check: broken_evidence\n"))
    [finding] = engine.evaluate(record("a"))
    assert finding.outcome == "fail"
    assert "ZeroDivisionError" in finding.evidence[0].detail


def test_a_sink_that_shows_no_evidence_never_has_it_built(
    tmp_path: Path, registry: Registry
) -> None:
    rules = "  - id: lazy\n    check: lazy_evidence\n    params: {attribute: v}\n"
    rules += "    thresholds: {max: 1}\n"
    engine = engine_for(tmp_path, registry, standard(rules))

    class Scorecard(Collector):
        needs_evidence = False

    EVIDENCE_BUILT.clear()
    sink = Scorecard()
    engine.audit([record("fails", v=5)], sink)
    assert EVIDENCE_BUILT == []
    [finding] = sink.findings
    assert (finding.outcome, finding.evidence) == ("fail", ())
