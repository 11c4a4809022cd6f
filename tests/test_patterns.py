"""Patterns in selectors, and the values a standard names that never occurred in an audit."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from rulecore import compile_selector, selector_types, testing
from rulecore._occurrences import Occurrences, expected_values
from rulecore._parallel import SHARD_BYTES_ENV
from rulecore._schemas import load_schema
from rulecore._selectors import Patterns, matching_set
from rulecore.cli import main

AT = "2026-03-02T09:00:00Z"

# ---------------------------------------------------------------------------------------------
# patterns
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "event", "matches"),
    [
        ({"type": "escalat*"}, testing.event(AT, "escalated"), True),
        ({"type": "escalat*"}, testing.event(AT, "Escalated"), False),  # letter case counts
        ({"type": ["opened", "escalat*"]}, testing.event(AT, "opened"), True),
        ({"actor": "bot-?"}, testing.event(AT, "message", "bot-7"), True),
        ({"actor": "bot-?"}, testing.event(AT, "message", "bot-77"), False),
        ({"where": {"queue": "[Tt]ier 2*"}}, testing.event(AT, "moved", queue="tier 2b"), True),
        ({"where": {"queue": "[Tt]ier 2*"}}, testing.event(AT, "moved", queue="Tier 3"), False),
        ({"where": {"level": "2*"}}, testing.event(AT, "moved", level=25), False),  # text only
        ({"where": {"level": ["2*", 25]}}, testing.event(AT, "moved", level=25), True),
        ({"where": {"queue": "t*"}}, testing.event(AT, "moved", queue=["t1"]), False),
        ({"type": "Hold[*]"}, testing.event(AT, "Hold*"), True),
        ({"type": "Hold[*]"}, testing.event(AT, "Holding"), False),
    ],
)
def test_a_listed_text_with_a_wildcard_is_a_pattern(
    spec: dict[str, object], event: object, matches: bool
) -> None:
    assert compile_selector(spec)(event) is matches  # type: ignore[arg-type]


def test_plain_values_stay_a_plain_set_and_the_index_still_answers_them() -> None:
    assert type(matching_set(["opened", "closed"])) is frozenset
    assert selector_types({"type": ["opened", "closed"]}) == {"opened", "closed"}
    assert isinstance(matching_set(["opened", "clos*"]), Patterns)
    assert selector_types({"type": ["opened", "clos*"]}) is None  # walked, not looked up


def test_patterns_survive_pickling_for_jobs_workers() -> None:
    patterns = matching_set(["Wait*", "pending"])
    copy = pickle.loads(pickle.dumps(patterns))
    assert isinstance(copy, Patterns)
    assert "Waiting" in copy
    assert "pending" in copy
    assert "Pending" not in copy


def test_an_elapsed_rule_finds_its_endpoint_by_a_pattern() -> None:
    engine = testing.make_engine(
        """
        id: patterns
        version: 1
        title: Answered by any agent
        dimension: timeliness
        rules:
          - id: first-reply
            check: elapsed
            params: {from: {type: opened}, to: {type: "repl*", actor: "agent-*"}}
            thresholds: {desired: 1m, adequate: 5m}
        """
    )
    record = testing.record(
        "C-1",
        (AT, "opened", "customer"),
        ("2026-03-02T09:01:00Z", "reply", "bot"),
        ("2026-03-02T09:03:00Z", "replied", "agent-4"),
    )
    (finding,) = testing.findings(engine, record)
    assert finding.measured == 180.0


# ---------------------------------------------------------------------------------------------
# values named but never seen
# ---------------------------------------------------------------------------------------------


def test_the_values_a_rule_names_are_read_from_its_params_as_written() -> None:
    params = {
        "from": {"type": "opened"},
        "to": {"type": ["resolved", "clos*"], "actor": "agent", "where": {"queue": [1, "t*"]}},
        "status": {"field": "state", "events": {"type": "status_changed"}},
        "pause": {"while": ["Wait*", "pending"]},
        "reopen": {"resolved_statuses": "done"},
        "transitions": [{"from": {"status": "new"}, "to": {"type": "closed", "status": "x"}}],
    }
    named = [
        (value.param, value.compared_with, value.value)
        for value in expected_values("s", "r", params)
    ]
    assert named == [
        ("from.type", "type", "opened"),
        ("to.type", "type", "resolved"),
        ("to.type", "type", "clos*"),
        ("to.actor", "actor", "agent"),
        ("to.where.queue", "fields.queue", 1),
        ("to.where.queue", "fields.queue", "t*"),
        ("status.events.type", "type", "status_changed"),
        ("pause.while", "fields.state", "Wait*"),
        ("pause.while", "fields.state", "pending"),
        ("reopen.resolved_statuses", "fields.state", "done"),
        ("transitions[0].from.status", "fields.state", "new"),
        ("transitions[0].to.type", "type", "closed"),
        ("transitions[0].to.status", "fields.state", "x"),
    ]


def test_occurrences_stop_looking_once_everything_has_turned_up() -> None:
    named = expected_values("s", "r", {"to": {"type": "repl*"}, "pause": {"while": [2]}})
    occurrences = Occurrences(named)
    occurrences.observe(testing.record("A", (AT, "replied")))
    assert occurrences.pending
    assert [value.value for value in occurrences.never()] == [2]
    occurrences.observe(testing.record("B", (AT, "moved", "system", {"status": 2.0})))
    assert not occurrences.pending
    assert occurrences.never() == ()


STANDARD = """\
id: waits
version: 1
title: Resolution, less the waits
dimension: timeliness
rules:
  - id: resolution
    check: elapsed
    params:
      from: {type: opened}
      to: {type: resolved}
      pause: {while: [PAUSE]}
    thresholds: {desired: 1h, adequate: 2h}
"""


def _records(folder: Path, count: int = 40) -> Path:
    lines = []
    for number in range(count):
        events = [
            {"at": "2026-03-02T09:00:00Z", "type": "opened", "fields": {"status": "new"}},
            {"at": "2026-03-02T09:10:00Z", "type": "updated", "fields": {"status": "Waiting"}},
            {"at": "2026-03-02T09:40:00Z", "type": "resolved", "fields": {"status": "done"}},
        ]
        lines.append(json.dumps({"id": f"T-{number:03}", "events": events}) + "\n")
    path = folder / "records.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _audit(folder: Path, pause: str, *args: str) -> tuple[int, str, str]:
    standard = folder / "waits.yaml"
    standard.write_text(STANDARD.replace("PAUSE", pause), encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["audit", str(_records(folder)), "-s", str(standard), "--fail-on", "never", *args],
    )
    return result.exit_code, result.stdout, result.stderr


def test_a_misspelt_pause_status_is_named_in_the_report_and_on_stderr(tmp_path: Path) -> None:
    exit_code, stdout, stderr = _audit(tmp_path, '"Wiat*"', "-f", "json")
    assert exit_code == 0
    report = json.loads(stdout)
    assert report["summary"]["never_occurred"] == [
        {
            "standard": "waits",
            "rule": "resolution",
            "param": "pause.while",
            "compared_with": "fields.status",
            "value": "Wiat*",
        }
    ]
    validator = jsonschema.Draft202012Validator(load_schema("report"))
    assert list(validator.iter_errors(report)) == []
    (warning,) = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert warning == (
        "warning: 1 value the standards name never occurred in the records, misspelt perhaps: "
        "status value 'Wiat*' (waits/resolution pause.while)"
    )


def test_the_scorecard_names_it_too(tmp_path: Path) -> None:
    _exit_code, stdout, _stderr = _audit(tmp_path, '"Wiat*"')
    assert "Named by the standards, never in the records" in stdout
    assert "status value 'Wiat*' waits/resolution pause.while" in stdout


def test_a_value_that_occurs_adds_nothing_to_the_report(tmp_path: Path) -> None:
    exit_code, stdout, stderr = _audit(tmp_path, '"Wait*"', "-f", "json")
    assert exit_code == 0
    assert "never_occurred" not in json.loads(stdout)["summary"]
    assert "warning" not in stderr


def test_several_processes_find_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SHARD_BYTES_ENV, "2048")
    one = _audit(tmp_path, '"Wiat*", Waiting', "-f", "json", "--jobs", "1")
    two = _audit(tmp_path, '"Wiat*", Waiting', "-f", "json", "--jobs", "2")
    assert one == two
    assert [never["value"] for never in json.loads(one[1])["summary"]["never_occurred"]] == [
        "Wiat*"
    ]
