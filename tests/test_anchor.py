"""The reference workload gives the right answer: rulecore's fail counts per rule, held to an
independent plain-Python reading of R1-R5 over the raw JSON, and to DuckDB when it is there.

The benchmark (``bench/run_anchor.py``) compares speeds only after the same check at full
size; these tests keep the standard, the mapping and the generator honest on every run.
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner

from rulecore.cli import main

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
MAPPING = BENCH / "anchor" / "anchor.mapping.yaml"
STANDARD = BENCH / "anchor" / "anchor.yaml"
HOUR = 3600.0
RULES = (
    "r1-first-response",
    "r2-resolution",
    "r3-urgent-assignment",
    "r4-transfers",
    "r5-largest-gap",
)


def _bench_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_workload(folder: Path, count: int, seed: int = 5) -> Path:
    path = folder / "anchor.jsonl"
    _bench_module("generate_anchor").write(path, count, seed)
    return path


def _audit_fails(path: Path, folder: Path) -> dict[str, set[str]]:
    """The records each rule failed, from rulecore's JSON report."""
    report = folder / "report.json"
    result = CliRunner().invoke(
        main,
        [
            "audit",
            str(path),
            "--mapping",
            str(MAPPING),
            "-s",
            str(STANDARD),
            "--format",
            "json",
            "-o",
            str(report),
            "--fail-on",
            "never",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["summary"]["records"]["rejected"] == 0
    fails: dict[str, set[str]] = {rule: set() for rule in RULES}
    for finding in data["findings"]:
        if finding["outcome"] == "fail":
            fails[finding["rule"]].add(finding["record"])
    counted = {rule["rule"]: rule["counts"]["fail"] for rule in data["summary"]["rules"]}
    assert counted == {rule: len(records) for rule, records in fails.items()}
    return fails


# ---------------------------------------------------------------------------------------------
# R1-R5 by hand, over the raw JSON
# ---------------------------------------------------------------------------------------------


def _moment(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z").timestamp()


def failed_rules(interaction: dict[str, Any]) -> set[str]:
    """Which of R1-R5 this interaction fails, read straight off the export."""
    events = sorted((_moment(event["ts"]), event["type"]) for event in interaction["events"])
    created = next(at for at, kind in events if kind == "created")
    after = [(at, kind) for at, kind in events if at >= created]
    responses = [at for at, kind in after if kind == "agent_response"]
    resolutions = [at for at, kind in after if kind == "resolved"]
    assignments = [at for at, kind in after if kind == "assigned"]
    gaps = [later[0] - earlier[0] for earlier, later in pairwise(events)]
    failed = set()
    if not responses or responses[0] - created > 4 * HOUR:
        failed.add("r1-first-response")
    if resolutions and resolutions[-1] - created > 48 * HOUR:
        failed.add("r2-resolution")
    urgent = interaction["priority"] in ("high", "urgent")
    if urgent and assignments and assignments[0] - created > 0.5 * HOUR:
        failed.add("r3-urgent-assignment")
    if sum(kind == "transfer" for _at, kind in events) > 2:
        failed.add("r4-transfers")
    if gaps and max(gaps) > 24 * HOUR:
        failed.add("r5-largest-gap")
    return failed


def test_rulecore_fails_the_records_a_plain_reading_of_the_rules_fails(tmp_path: Path) -> None:
    path = _write_workload(tmp_path, 600)
    expected: dict[str, set[str]] = {rule: set() for rule in RULES}
    for line in path.read_text(encoding="utf-8").splitlines():
        interaction = json.loads(line)
        for rule in failed_rules(interaction):
            expected[rule].add(interaction["interaction_id"])

    found = _audit_fails(path, tmp_path)

    assert found == expected
    # The mix is what makes the comparison worth something: every rule fails some records
    # and passes most.
    for rule in RULES:
        assert 0.02 < len(expected[rule]) / 600 < 0.6, rule


def test_the_workload_is_seeded_and_lands_on_every_bound(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _write_workload(tmp_path / "a", 300)
    second = _write_workload(tmp_path / "b", 300)
    assert first.read_bytes() == second.read_bytes()

    lengths: Counter[int] = Counter()
    on_bounds = set()
    for line in first.read_text(encoding="utf-8").splitlines():
        interaction = json.loads(line)
        events = interaction["events"]
        lengths[len(events)] += 1
        created = _moment(events[0]["ts"])
        for event in events:
            if event["type"] in ("agent_response", "assigned", "resolved"):
                on_bounds.add((event["type"], _moment(event["ts"]) - created))
    assert min(lengths) >= 5
    assert max(lengths) <= 20
    assert {("agent_response", 4 * HOUR), ("assigned", 0.5 * HOUR), ("resolved", 48 * HOUR)} <= (
        on_bounds
    )


# ---------------------------------------------------------------------------------------------
# against DuckDB
# ---------------------------------------------------------------------------------------------


def test_rulecore_and_duckdb_count_the_same_failures(tmp_path: Path) -> None:
    pytest.importorskip("duckdb", reason="DuckDB is in the bench extra: pip install -e '.[bench]'")
    path = _write_workload(tmp_path, 3000, seed=23)

    duckdb_counts = _bench_module("run_anchor").duckdb_fail_counts(path)
    found = _audit_fails(path, tmp_path)

    assert duckdb_counts == {"records": 3000, **{rule: len(found[rule]) for rule in RULES}}
