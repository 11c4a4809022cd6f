"""Audit history in SQLite, and seeded stratified samples for review."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from rulecore import Engine
from rulecore._inputs import plan_inputs, read_inputs
from rulecore._sampling import draw_sample
from rulecore.cli import main

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "examples" / "records" / "service-desk.jsonl"
STANDARDS = ROOT / "standards"


def test_history_records_each_audit_and_lists_them_oldest_first(tmp_path: Path) -> None:
    store = tmp_path / "history.sqlite"
    runner = CliRunner()
    for label, standard in (("handoffs", "flow-handoffs.yaml"), ("both", "")):
        standards = (
            [str(STANDARDS / standard)]
            if standard
            else [
                str(STANDARDS / "flow-handoffs.yaml"),
                str(STANDARDS / "anticipation-follow-up.yaml"),
            ]
        )
        args = [
            "audit",
            str(RECORDS),
            "--fail-on",
            "never",
            "--format",
            "json",
            "-o",
            str(tmp_path / f"{label}.json"),
            "--history",
            str(store),
            "--label",
            label,
        ]
        for path in standards:
            args += ["-s", path]
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
    listed = runner.invoke(main, ["history", "--store", str(store), "--format", "json"])
    entries = json.loads(listed.stdout)
    assert [entry["label"] for entry in entries] == ["handoffs", "both"]
    report = json.loads((tmp_path / "handoffs.json").read_text())
    flow = next(d for d in report["summary"]["dimensions"] if d["dimension"] == "flow")
    assert entries[0]["dimensions"] == {"flow": flow["compliance"]}
    assert set(entries[1]["dimensions"]) == {"flow", "anticipation"}
    assert entries[0]["records_read"] == report["summary"]["records"]["read"]
    table = runner.invoke(main, ["history", "--store", str(store), "--limit", "1"])
    assert "both" in table.stdout
    assert "handoffs" not in table.stdout


def test_history_of_a_missing_store_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["history", "--store", str(tmp_path / "none.sqlite")])
    assert result.exit_code == 2


def _draw(seed: int, **options: object) -> list[tuple[str, ...]]:
    engine = Engine.from_paths([STANDARDS])
    items = read_inputs(plan_inputs([RECORDS], engine.registry))
    drawn = draw_sample(engine, items, seed=seed, **options)  # type: ignore[arg-type]
    return [(entry.record, *entry.stratum, entry.worst) for entry in drawn]


def test_the_same_seed_draws_the_same_sample_and_another_seed_another() -> None:
    first = _draw(11, size=5, by=("channel",))
    assert first == _draw(11, size=5, by=("channel",))
    assert first != _draw(12, size=5, by=("channel",))
    per_channel = Counter(row[1] for row in first)
    assert per_channel == {"chat": 5, "email": 5, "phone": 5}


def test_proportional_allocation_follows_stratum_sizes() -> None:
    drawn = _draw(3, size=40, by=("channel",), proportional=True)
    per_channel = Counter(row[1] for row in drawn)
    assert sum(per_channel.values()) == 40
    population = Counter(
        json.loads(line)["attributes"]["channel"] for line in RECORDS.read_text().splitlines()
    )
    for channel, count in per_channel.items():
        assert abs(count - 40 * population[channel] / sum(population.values())) < 1


def test_weighting_towards_failures_and_excluding_passes() -> None:
    plain = Counter(row[-1] for row in _draw(5, size=60))
    weighted = Counter(row[-1] for row in _draw(5, size=60, weights={"fail": 10.0}))
    assert weighted["fail"] > plain["fail"]
    only_failures = _draw(5, size=30, weights={"pass": 0, "not_applicable": 0, "warn": 0})
    assert {row[-1] for row in only_failures} == {"fail"}


def test_sample_command_writes_a_review_queue() -> None:
    result = CliRunner().invoke(
        main,
        ["sample", str(RECORDS), "-s", str(STANDARDS), "--seed", "9", "--by", "team", "-n", "2"],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 8
    assert set(rows[0]) == {
        "record",
        "team",
        "worst_outcome",
        "findings",
        "reviewer",
        "verdict",
        "notes",
    }
    bad = CliRunner().invoke(
        main, ["sample", str(RECORDS), "-s", str(STANDARDS), "--seed", "1", "--weight", "failed=2"]
    )
    assert bad.exit_code == 2


def test_a_history_that_is_not_sqlite_is_refused_before_the_audit(tmp_path: Path) -> None:
    store = tmp_path / "notes.txt"
    store.write_text("not a database\n")
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        main,
        [
            "audit",
            str(RECORDS),
            "-s",
            str(STANDARDS),
            "--history",
            str(store),
            "--format",
            "json",
            "-o",
            str(report),
        ],
    )
    assert result.exit_code == 2
    assert "not a rulecore history" in result.stderr
    assert not report.exists()
    listed = CliRunner().invoke(main, ["history", "--store", str(store)])
    assert listed.exit_code == 2


def test_history_of_a_store_with_only_agreements_says_where_they_are(tmp_path: Path) -> None:
    store = tmp_path / "history.sqlite"
    example = ROOT / "examples" / "agreement"
    runner = CliRunner()
    report = tmp_path / "report.json"
    audited = runner.invoke(
        main,
        [
            "audit",
            str(ROOT / "examples" / "records"),
            "-s",
            str(STANDARDS),
            "--all-outcomes",
            "--fail-on",
            "never",
            "--format",
            "json",
            "-o",
            str(report),
        ],
    )
    assert audited.exit_code == 0, audited.output
    agreed = runner.invoke(
        main, ["agree", str(example / "reviewed.csv"), str(report), "--history", str(store)]
    )
    assert agreed.exit_code == 0, agreed.output
    listed = runner.invoke(main, ["history", "--store", str(store)])
    assert listed.exit_code == 0
    assert listed.stdout == ""  # no empty table
    assert listed.stderr.splitlines() == [
        f"{store}: no audits recorded yet; record them with audit --history",
        "it holds 1 agreement with reviewers: history --agreement lists it",
    ]
    as_json = runner.invoke(main, ["history", "--store", str(store), "--format", "json"])
    assert (as_json.exit_code, json.loads(as_json.stdout), as_json.stderr) == (0, [], "")
