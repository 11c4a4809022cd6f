"""Findings: compact while the audit runs, rendered the same however a reporter reads them."""

from __future__ import annotations

import pickle
from datetime import date
from pathlib import Path

import msgspec
import pytest

from rulecore import Engine, Finding, Waiver, plan_inputs, read_inputs
from rulecore._findings import finding_json
from rulecore._yaml import Location

ROOT = Path(__file__).resolve().parent.parent


class Collector:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def finding(self, finding: Finding) -> None:
        self.findings.append(finding)

    def rejection(self, rejection: object) -> None:
        pass

    def close(self, summary: object) -> None:
        pass


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    engine = Engine.from_paths([ROOT / "standards"])
    sink = Collector()
    inputs = read_inputs(plan_inputs([ROOT / "examples" / "records"], engine.registry))
    engine.audit(inputs, sink, all_outcomes=True)
    return sink.findings


def test_the_fast_json_encoding_is_the_published_shape(findings: list[Finding]) -> None:
    assert {finding.outcome for finding in findings} >= {"pass", "warn", "fail", "not_applicable"}
    for finding in findings:
        assert finding_json(finding) == msgspec.json.encode(finding.to_dict())


def test_a_waived_or_baselined_finding_encodes_its_waiver_and_status(
    findings: list[Finding],
) -> None:
    waiver = Waiver("known gap", "qa", date(2030, 1, 1), Location("w.yaml", 3, 5))
    failed = next(finding for finding in findings if finding.outcome == "fail")
    changed = failed.replace(outcome="waived", waiver=waiver, baseline="persisting")
    data = msgspec.json.decode(finding_json(changed, b'{"type":"finding",'))
    assert data == {"type": "finding", **changed.to_dict()}
    assert (data["outcome"], data["waiver"]["reason"], data["baseline"]) == (
        "waived",
        "known gap",
        "persisting",
    )
    assert failed.outcome == "fail"  # replace made a copy


def test_a_finding_survives_pickling_rendered(findings: list[Finding]) -> None:
    for finding in findings[:300]:
        copy = pickle.loads(pickle.dumps(finding))
        assert copy == finding
        assert copy.to_dict() == finding.to_dict()


def test_only_waiver_baseline_and_outcome_can_be_replaced(findings: list[Finding]) -> None:
    with pytest.raises(TypeError, match="cannot replace 'record'"):
        findings[0].replace(record="other")
