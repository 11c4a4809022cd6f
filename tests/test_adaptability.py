"""The adaptability checks: request_handling, channel_preference, escalation_offered,
repeated_information.

The annotated fixtures (``plugins/rulecore_adaptability/fixtures``) prove each check's outcomes
case by case; these tests hold the values and evidence behind them, the errors a bad rule
gets, and that no odd record makes a check of either dimension raise.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path
from typing import Any

import pytest
from rulecore_adaptability import CHECKS as ADAPTABILITY_CHECKS
from rulecore_anticipation import CHECKS as ANTICIPATION_CHECKS

from rulecore import (
    Check,
    CompileContext,
    CrossRecordCheck,
    Engine,
    EvaluationContext,
    Finding,
    Measurement,
    Record,
    Registry,
    StandardsInvalid,
    collect,
    get_plugin_manager,
    record_from_mapping,
)
from rulecore._fixtures import _standard_document, discover_fixtures, run_fixture
from rulecore._yaml import load_yaml_file

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = [
    *discover_fixtures([ROOT / "plugins" / "rulecore_adaptability" / "fixtures"]),
    ROOT / "standards" / "adaptability-service.test.yaml",
]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return collect(get_plugin_manager())


def engine_for(tmp_path: Path, rules: str) -> Engine:
    text = "id: s\nversion: 1\ntitle: t\ndimension: adaptability\nrules:\n"
    (tmp_path / "s.yaml").write_text(text + textwrap.indent(textwrap.dedent(rules), "  "))
    return Engine.from_paths([tmp_path])


def only_finding(engine: Engine, case: Record) -> Finding:
    (finding,) = engine.evaluate(case)
    return finding


def record(*events: tuple[str, str, str, dict[str, Any]], **attributes: Any) -> Record:
    return record_from_mapping(
        {
            "id": "R-1",
            "attributes": attributes,
            "events": [
                {"at": at, "type": kind, "actor": actor, "fields": fields}
                for at, kind, actor, fields in events
            ],
        }
    )


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------


# Every fixture is run by tests/test_fixtures.py; these tests check what fixtures cannot.


def test_every_check_has_fixtures_that_pass_fail_and_do_not_apply(registry: Registry) -> None:
    seen: dict[str, set[str]] = {check.name: set() for check in ADAPTABILITY_CHECKS}
    for fixture in FIXTURES:
        document = _standard_document(fixture, load_yaml_file(fixture))
        checks = {rule["id"]: rule["check"] for rule in document.data["rules"]}
        for result in run_fixture(fixture, registry):
            for rule, outcome in result.actual.items():
                seen[checks[rule]].add(outcome)

    lacking = {name: {"pass", "fail", "not_applicable"} - got for name, got in seen.items()}
    assert not any(lacking.values()), lacking


# ---------------------------------------------------------------------------------------------
# values and evidence
# ---------------------------------------------------------------------------------------------


def test_channel_share_is_the_fraction_of_judged_replies(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path, "- id: c\n  check: channel_preference\n  params: {measure: share}\n"
    )
    case = record(
        ("2026-04-06T09:01:00+02:00", "message", "agent", {"channel": "phone"}),
        ("2026-04-06T09:30:00+02:00", "message", "agent", {"channel": "email"}),
        ("2026-04-06T09:40:00+02:00", "message", "agent", {}),
        ("2026-04-06T10:00:00+02:00", "message", "agent", {"channel": "phone"}),
        ("2026-04-06T11:00:00+02:00", "message", "agent", {"channel": "phone"}),
        preferred_channel="phone",
    )

    finding = only_finding(engine, case)

    assert finding.measured == 0.25
    assert "1 of 4 replies" in finding.message
    assert [(e.label, e.event_index) for e in finding.evidence] == [
        ("preferred", None),
        ("off_channel", 1),
    ]
    assert finding.evidence[1].detail == "message by email; the customer prefers phone"


def test_an_escalation_finding_says_why_each_refusal_was_a_policy_refusal(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        "- id: e\n  check: escalation_offered\n  params: {policy_pattern: 'terms', within: 30m}\n",
    )
    case = record(
        ("2026-04-09T10:00:00+02:00", "request_declined", "agent", {"reason": "policy"}),
        ("2026-04-09T10:05:00+02:00", "request_declined", "agent", {"reason": "Terms of sale"}),
        ("2026-04-09T10:50:00+02:00", "escalation_offered", "agent", {}),
        ("2026-04-09T11:00:00+02:00", "request_declined", "agent", {"reason": "x", "policy": True}),
    )

    finding = only_finding(engine, case)

    assert (finding.outcome, finding.measured) == ("fail", 2.0)
    assert [(e.label, e.event_index) for e in finding.evidence] == [
        ("escalation_late", 1),
        ("no_escalation", 3),
    ]
    assert "reason 'Terms of sale' matches 'terms'" in finding.evidence[0].detail
    assert "15m later than allowed" in finding.evidence[0].detail
    assert "policy is set" in finding.evidence[1].detail
    # The refusal at event 0 is not among them: once a pattern is given, the default reason
    # list ('policy') no longer applies.
    assert "2 of 2 policy refusals without an escalation offer" in finding.message


def test_a_repeat_names_where_the_information_was_first_given(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, "- id: r\n  check: repeated_information\n")
    case = record(
        ("2026-04-07T10:00:00+02:00", "assigned", "system", {"team": "technical"}),
        ("2026-04-07T10:03:00+02:00", "provided_info", "customer", {"key": "order_id"}),
        ("2026-04-07T10:25:00+02:00", "assigned", "system", {"team": "accounts"}),
        ("2026-04-07T10:31:00+02:00", "provided_info", "customer", {"key": "order_id"}),
    )

    finding = only_finding(engine, case)

    assert finding.measured == 1.0
    assert [(e.label, e.event_index, e.detail) for e in finding.evidence] == [
        ("handoff", 2, "technical → accounts"),
        ("repeated", 3, "order_id given again after a handoff (first given at event 1)"),
    ]


def test_a_policy_pattern_that_is_not_a_regular_expression_is_reported_at_its_rule(
    tmp_path: Path,
) -> None:
    with pytest.raises(StandardsInvalid) as raised:
        engine_for(
            tmp_path, "- id: e\n  check: escalation_offered\n  params: {policy_pattern: 'a(b'}\n"
        )

    (error,) = raised.value.errors
    assert error.location.line == 8  # the rule's params line
    assert "policy_pattern 'a(b' is not a regular expression" in error.message


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ("{measure: sometimes}", "'sometimes' is not allowed here"),
        ("{replies: {kind: message}}", "unknown key 'kind'"),
        ("{channel_field: ''}", "should be non-empty"),
    ],
)
def test_bad_channel_parameters_are_refused(tmp_path: Path, params: str, words: str) -> None:
    with pytest.raises(StandardsInvalid, match=words):
        engine_for(tmp_path, f"- id: c\n  check: channel_preference\n  params: {params}\n")


# ---------------------------------------------------------------------------------------------
# odd records never make a check raise
# ---------------------------------------------------------------------------------------------

ODD_VALUES: list[Any] = [None, "", " ", 0, 1, -3, 2.5, True, False, "no", "yes", [1, 2], {"a": 1}]
EVENT_TYPES = [
    "opened", "message", "callback", "promise", "request", "request_declined", "request_granted",
    "escalation_offered", "provided_info", "preference_changed", "assigned", "chase",
    "resolved", "reopened",
]  # fmt: skip
FIELDS = ["channel", "reason", "policy", "escalation", "key", "value", "team", "agent",
          "due", "within", "kind", "alternative"]  # fmt: skip


def odd_record(rng: random.Random, number: int) -> Record:
    events = []
    for _ in range(rng.randrange(0, 9)):
        fields = {name: rng.choice([*ODD_VALUES, "policy", "2026-04-01T10:00:00Z", "2h"])
                  for name in rng.sample(FIELDS, rng.randrange(0, 4))}  # fmt: skip
        events.append(
            {
                "at": f"2026-04-0{rng.randrange(1, 4)}T{rng.randrange(24):02d}:00:00+02:00",
                "type": rng.choice(EVENT_TYPES),
                "actor": rng.choice(["agent", "customer", "system"]),
                "fields": fields,
            }
        )
    attributes = {
        name: rng.choice([None, "", "phone", "C1", 7, True])
        for name in ("preferred_channel", "customer", "category")
    }
    return record_from_mapping({"id": f"odd-{number}", "attributes": attributes, "events": events})


def test_no_check_raises_on_odd_records() -> None:
    rng = random.Random(29)
    records = [odd_record(rng, number) for number in range(400)]
    context = EvaluationContext()
    in_flight = EvaluationContext(as_of=records[0].events[0].at if records[0].events else None)
    outcomes = 0
    for check in (*ADAPTABILITY_CHECKS, *ANTICIPATION_CHECKS):
        compiled = check.compile({}, CompileContext("s", "r"))
        if isinstance(check, CrossRecordCheck):
            accumulator = compiled()
            for case in records:
                accumulator.add(case, context)
            measurements = [m for _, m in accumulator.results()]
        else:
            assert isinstance(check, Check)
            measurements = [compiled(case, c) for case in records for c in (context, in_flight)]
        assert all(isinstance(m, Measurement) for m in measurements)
        outcomes += len(measurements)
    assert outcomes == 400 * 2 * 7 + 400
