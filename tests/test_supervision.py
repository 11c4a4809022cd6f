"""The supervision checks, qa_coverage and supervisor_signoff, and the seven procedural
dimensions together.

The fixtures (``plugins/rulecore_supervision/fixtures``), run by test_fixtures.py, prove the
outcomes case by case.  Here: the cross-record coverage against a brute-force count on
shuffled input, the same report with ``--jobs 2`` as with one process, and the README's audit
showing all seven of Martin's procedural dimensions in its scorecard and its HTML radar.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulecore._parallel import SHARD_BYTES_ENV
from rulecore.cli import main
from rulecore.testing import event, findings, make_engine, record

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "examples" / "records"
STANDARDS = ROOT / "standards"
PROCEDURAL = (
    "timeliness", "flow", "adaptability", "anticipation", "communication", "feedback",
    "supervision",
)  # fmt: skip


def _standard(rules: str) -> str:
    return f"id: s\nversion: 1\ntitle: t\ndimension: supervision\nrules:\n{rules}"


def test_qa_coverage_is_each_agents_share_of_reviewed_cases() -> None:
    engine = make_engine(
        _standard("  - id: qa\n    check: qa_coverage\n    params: {min_cases: 3}\n")
    )
    rng = random.Random(7)
    cases = []
    for number in range(400):
        agent = rng.choice(["a", "b", "c", "d", "e", "f", None])
        events = [event("2026-04-13T09:00:00Z", "opened", "customer")]
        if rng.random() < {"a": 0.5, "b": 0.1, "c": 0.02}.get(str(agent), 0.0):
            events.append(event("2026-04-14T09:00:00Z", "qa_review", "supervisor"))
        attributes = {"agent": agent} if agent else {}
        cases.append(record(f"R{number:03}", *events, **attributes))
    cases.append(record("lonely", event("2026-04-13T09:00:00Z", "opened"), agent="g"))
    rng.shuffle(cases)

    expected = {}
    for case in cases:
        agent = case.attributes.get("agent")
        mine = [other for other in cases if other.attributes.get("agent") == agent]
        if agent is None or len(mine) < 3:
            expected[case.id] = None
            continue
        reviewed = sum(any(e.type == "qa_review" for e in other.events) for other in mine)
        expected[case.id] = reviewed / len(mine)

    found = findings(engine, *cases)
    assert [finding.record for finding in found] == [case.id for case in cases]  # input order
    assert {finding.record: finding.measured for finding in found} == expected
    outcome = {finding.record: finding.outcome for finding in found}
    for case_id, share in expected.items():
        if share is None:
            assert outcome[case_id] == "not_applicable"
        else:
            assert outcome[case_id] == (
                "pass" if share >= 0.1 else "warn" if share >= 0.05 else "fail"
            )


def test_supervisor_signoff_says_how_far_before_or_after() -> None:
    engine = make_engine(
        _standard('  - id: so\n    check: supervisor_signoff\n    message: "{note}"\n')
    )
    case = record(
        "R",
        event("2026-04-13T08:00:00Z", "signoff", "supervisor"),
        event("2026-04-13T09:00:00Z", "escalated"),
        event("2026-04-16T09:00:00Z", "request_declined", "agent"),
    )
    (finding,) = findings(engine, case)
    assert finding.message == "1 of 2 decisions not signed off"
    assert [piece.detail for piece in finding.evidence] == [
        "escalated signed off 1h before",
        "request_declined with no sign-off within 1d",
    ]


def _audit(folder: Path, jobs: str) -> dict[str, bytes]:
    folder.mkdir()
    result = CliRunner().invoke(
        main,
        [
            "audit", str(RECORDS), "-s", str(STANDARDS / "supervision-oversight.yaml"),
            "-s", str(STANDARDS / "feedback-satisfaction.yaml"),
            "-s", str(STANDARDS / "communication-informed.yaml"),
            "--by", "team", "-f", "json", "-o", str(folder / "json"),
            "--report", f"jsonl:{folder / 'jsonl'}", "--fail-on", "never", "--jobs", jobs,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_the_report_is_the_same_byte_for_byte_with_two_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SHARD_BYTES_ENV, "8192")  # many shards, even for these few records
    one, two = _audit(tmp_path / "one", "1"), _audit(tmp_path / "two", "2")
    assert one == two
    rules = {rule["rule"] for rule in json.loads(one["json"])["summary"]["rules"]}
    assert "qa-reaches-every-agent" in rules


def test_the_readme_audit_shows_all_seven_procedural_dimensions(tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    result = CliRunner().invoke(
        main,
        ["audit", str(RECORDS), "-s", str(STANDARDS), "--report", f"html:{html}",
         "--fail-on", "never"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    scorecard = result.stdout.split("Compliance by rule")[0]
    shown = set(re.findall(r"│ (\w+)\s+│", scorecard))
    assert shown >= {*PROCEDURAL, "courtesy"}
    data = re.search(
        r'<script id="rulecore-data" type="application/json">(.*?)</script>',
        html.read_text(encoding="utf-8"),
        re.DOTALL,
    )
    assert data is not None
    radar = {entry["dimension"]: entry for entry in json.loads(data.group(1))["dimensions"]}
    assert set(radar) == {*PROCEDURAL, "courtesy"}
    for dimension in PROCEDURAL:  # each judged something, in the records the README audits
        assert radar[dimension]["compliance"] is not None
