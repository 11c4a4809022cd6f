"""Waivers and baselines, end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from rulecore.cli import main

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "examples" / "records" / "service-desk.jsonl"
STANDARDS = ROOT / "standards" / "flow-handoffs.yaml"


def audit(*extra: str) -> Result:
    return CliRunner().invoke(
        main,
        [
            "audit",
            str(RECORDS),
            "-s",
            str(STANDARDS),
            "--format",
            "json",
            "--as-of",
            "2026-06-01T00:00:00Z",
            *extra,
        ],
    )


def report(result: Result) -> dict[str, Any]:
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def failing(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in data["findings"] if f["outcome"] == "fail"]


def test_fingerprint_and_rule_waivers_turn_findings_into_waived(tmp_path: Path) -> None:
    before = report(audit())
    fails = failing(before)
    assert len(fails) >= 3
    by_fingerprint, by_record = fails[0], fails[1]
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n"
        f"  - fingerprint: {by_fingerprint['fingerprint']}\n"
        "    reason: Vendor outage, agreed with the owner\n"
        "    by: Dana\n"
        "    expires: 2026-12-31\n"
        "  - rule: flow-handoffs/team-handoffs\n"
        f"    records: [{by_record['record']}]\n"
        "    reason: Migrated case\n"
        "    by: Ops\n"
        "    expires: 2026-12-31\n"
        "  - rule: flow-handoffs/team-handoffs\n"
        "    records: '*'\n"
        "    reason: Old blanket waiver\n"
        "    by: Ops\n"
        "    expires: 2026-01-31\n"
    )
    after = report(audit("--waivers", str(waivers)))
    outcomes = {f["fingerprint"]: f for f in after["findings"]}
    assert outcomes[by_fingerprint["fingerprint"]]["outcome"] == "waived"
    assert outcomes[by_fingerprint["fingerprint"]]["waiver"]["by"] == "Dana"
    assert outcomes[by_record["fingerprint"]]["outcome"] == "waived"
    # The blanket waiver expired in January, so every other fail stays a fail...
    assert len(failing(after)) == len(fails) - 2
    # ...and the report says so, and counts the waived outside compliance.
    waived = after["summary"]["waivers"]
    assert (waived["in_force"], waived["used"], len(waived["expired"])) == (2, 2, 1)
    assert waived["expired"][0]["reason"] == "Old blanket waiver"
    assert after["summary"]["outcomes"]["waived"] == 2
    assert after["summary"]["outcomes"]["fail"] == before["summary"]["outcomes"]["fail"] - 2


def test_a_waiver_without_a_reason_is_rejected_at_its_line(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - fingerprint: 0123456789abcdef0123\n    by: Dana\n    expires: 2026-12-31\n"
    )
    result = audit("--waivers", str(waivers))
    assert result.exit_code == 2
    assert f"{waivers}:2:5" in result.stderr
    assert "reason" in result.stderr


def test_baseline_marks_new_persisting_and_resolved(tmp_path: Path) -> None:
    previous = report(audit())
    tracked = [f for f in previous["findings"] if f["outcome"] in ("warn", "fail")]
    resolved = tracked[0]
    # Pretend the last audit also had a finding that has gone away, and lacked one we have now.
    previous["findings"].remove(tracked[1])
    previous["findings"].append({**resolved, "fingerprint": "ffffffffffffffffffff"})
    baseline = tmp_path / "previous.json"
    baseline.write_text(json.dumps(previous))
    current = report(audit("--baseline", str(baseline)))
    status = {f["fingerprint"]: f.get("baseline") for f in current["findings"]}
    assert status[tracked[1]["fingerprint"]] == "new"
    assert status[tracked[2]["fingerprint"]] == "persisting"
    summary = current["summary"]["baseline"]
    assert summary["new"] == 1
    assert summary["persisting"] == len(tracked) - 1
    assert summary["resolved_fingerprints"] == ["ffffffffffffffffffff"]


def test_new_only_gates_on_new_findings(tmp_path: Path) -> None:
    baseline = tmp_path / "previous.json"
    first = audit()
    assert first.exit_code == 1
    baseline.write_text(first.stdout)
    assert audit("--baseline", str(baseline), "--new-only").exit_code == 0
    assert audit("--baseline", str(baseline)).exit_code == 1
    assert audit("--new-only").exit_code == 2


def test_a_baseline_that_is_not_a_report_is_a_usage_error(tmp_path: Path) -> None:
    baseline = tmp_path / "previous.json"
    baseline.write_text('{"records": []}')
    result = audit("--baseline", str(baseline))
    assert result.exit_code == 2
    assert "not a rulecore JSON report" in result.stderr


def test_findings_of_records_not_audited_again_are_not_counted_resolved(tmp_path: Path) -> None:
    baseline = tmp_path / "previous.json"
    baseline.write_text(audit().stdout)
    other = ROOT / "examples" / "records" / "imported-with-errors.jsonl"
    result = CliRunner().invoke(
        main,
        [
            "audit",
            str(other),
            "-s",
            str(STANDARDS),
            "--format",
            "json",
            "--baseline",
            str(baseline),
            "--fail-on",
            "never",
        ],
    )
    summary = json.loads(result.stdout)["summary"]["baseline"]
    previous = [
        f
        for f in json.loads(baseline.read_text())["findings"]
        if f["outcome"] in ("warn", "fail", "error", "waived")
    ]
    assert summary["resolved"] == 0
    assert summary["not_audited"] == len(previous)


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("  - fingerprint: 0123456789abcdef0123\n    reason: ''\n", "must not be empty"),
        (
            "  - fingerprint: 0123456789abcdef0123\n    rule: flow-handoffs/team-handoffs\n"
            "    records: '*'\n    reason: both\n",
            "a fingerprint or a rule, not both",
        ),
        ("  - rule: flow-handoffs/team-handoffs\n    reason: no records\n", "needs records"),
        (
            "  - rule: flow-handoffs/team-handofs\n    records: '*'\n    reason: a typo\n",
            "did you mean 'flow-handoffs/team-handoffs'?",
        ),
    ],
)
def test_waiver_mistakes_are_located_in_plain_words(tmp_path: Path, entry: str, words: str) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n" + entry + "    by: Dana\n    expires: 2026-12-31\n")
    result = audit("--waivers", str(waivers))
    assert result.exit_code == 2, result.output
    assert f"{waivers}:" in result.stderr
    assert words in result.stderr, result.stderr
