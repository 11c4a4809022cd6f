"""The command line: exit codes, report formats, output files, explain, map and test.

Most tests run ``rulecore`` in-process with click's ``CliRunner``; records are built per test
so that each lands in a known zone of ``tests/data/standards/cli-first-reply.yaml`` (first
agent reply: pass within 1m, warn within 5m, fail beyond).
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner, Result

import rulecore.cli
from rulecore import (
    AnyCheck,
    Check,
    CompileContext,
    EvaluationContext,
    Evaluator,
    Measurement,
    PluginManager,
    Record,
    Rejection,
    Summary,
    Writer,
    collect,
    get_plugin_manager,
    hookimpl,
)
from rulecore._fixtures import discover_fixtures
from rulecore.cli import main
from rulecore.default_writers import CSV_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
STANDARDS = DATA / "standards"
STANDARD_FILE = STANDARDS / "cli-first-reply.yaml"

#: Stands for a valid records file in parametrized arguments.
RECORDS = "<records>"

#: Seconds to the first agent reply, for a record in each zone of the standard.
PASS, WARN, FAIL = 30, 180, 420


def reply_record(record_id: str, seconds: int) -> dict[str, Any]:
    minutes, rest = divmod(seconds, 60)
    return {
        "id": record_id,
        "attributes": {"channel": "chat"},
        "events": [
            {"at": "2026-04-01T09:00:00+02:00", "type": "opened", "actor": "customer"},
            {
                "at": f"2026-04-01T09:{minutes:02d}:{rest:02d}+02:00",
                "type": "message",
                "actor": "agent",
            },
        ],
    }


def write_records(path: Path, records: Sequence[Mapping[str, Any] | str]) -> Path:
    """Write records (mappings) and raw lines (strings) as JSON lines."""
    lines = [item if isinstance(item, str) else json.dumps(item) for item in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(arg) for arg in args])


def audit(records: Path, *options: str | Path) -> Result:
    return run("audit", records, "-s", STANDARD_FILE, *options)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """One record in each zone, one without a reply, and two lines that are not records."""
    return write_records(
        tmp_path / "mixed.jsonl",
        [
            reply_record("fast", PASS),
            reply_record("tolerated", WARN),
            "{this is not json",
            reply_record("slow", FAIL),
            {"id": "unanswered", "events": [reply_record("x", 1)["events"][0]]},
            json.dumps({"attributes": {"channel": "chat"}}),
        ],
    )


# ---------------------------------------------------------------------------------------------
# exit codes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("worst", "fail_on", "code"),
    [
        (PASS, "fail", 0),
        (PASS, "warn", 0),
        (PASS, "never", 0),
        (WARN, "fail", 0),
        (WARN, "warn", 1),
        (WARN, "never", 0),
        (FAIL, "fail", 1),
        (FAIL, "warn", 1),
        (FAIL, "never", 0),
    ],
)
def test_exit_code_follows_fail_on(tmp_path: Path, worst: int, fail_on: str, code: int) -> None:
    records = write_records(
        tmp_path / "r.jsonl", [reply_record("a", PASS), reply_record("b", worst)]
    )
    result = audit(records, "--fail-on", fail_on, "-f", "jsonl")
    assert result.exit_code == code, result.output


def test_default_fail_on_is_fail(tmp_path: Path) -> None:
    warn_only = write_records(tmp_path / "w.jsonl", [reply_record("b", WARN)])
    failing = write_records(tmp_path / "f.jsonl", [reply_record("c", FAIL)])
    assert audit(warn_only, "-f", "jsonl").exit_code == 0
    assert audit(failing, "-f", "jsonl").exit_code == 1


def compile_broken(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    def broken(record: Record, eval_context: EvaluationContext) -> Measurement:
        raise RuntimeError("plugin bug")

    return broken


class BrokenCheck:
    @hookimpl
    def rulecore_register_checks(self, register: Callable[[AnyCheck], None]) -> None:
        register(
            Check(
                "broken",
                "timeliness",
                "Always raises.",
                {},
                compile_broken,
                default_thresholds={"max": 0},
            )
        )


class ExplodingWriter:
    """A report format whose sink writes part of the report, then fails."""

    class Sink:
        def __init__(self, stream: IO[str], options: Mapping[str, Any]) -> None:
            self.stream = stream

        def finding(self, finding: Any) -> None:
            self.stream.write("half a report\n")

        def rejection(self, rejection: Rejection) -> None:
            pass

        def close(self, summary: Summary) -> None:
            raise OSError("disk full")

    @hookimpl
    def rulecore_register_writers(self, register: Callable[[Writer], None]) -> None:
        register(Writer("exploding", "fails half way", self.Sink))


@pytest.fixture
def test_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Add the tests' broken check and exploding writer to every plugin manager the CLI builds."""

    def with_test_plugins(**options: Any) -> PluginManager:
        manager = get_plugin_manager(**options)
        manager.register(BrokenCheck(), name="broken-check")
        manager.register(ExplodingWriter(), name="exploding-writer")
        return manager

    monkeypatch.setattr(rulecore.cli, "get_plugin_manager", with_test_plugins)


@pytest.mark.usefixtures("test_plugins")
def test_error_outcome_counts_as_fail(tmp_path: Path) -> None:
    standard = tmp_path / "broken.yaml"
    standard.write_text(
        "id: broken\nversion: 1\ntitle: t\ndimension: timeliness\n"
        "rules:\n  - id: r\n    check: broken\n",
        encoding="utf-8",
    )
    records = write_records(tmp_path / "r.jsonl", [reply_record("a", PASS)])
    assert run("audit", records, "-s", standard, "-f", "jsonl").exit_code == 1
    assert run("audit", records, "-s", standard, "--fail-on", "never").exit_code == 0


# ---------------------------------------------------------------------------------------------
# report formats
# ---------------------------------------------------------------------------------------------


def test_json_report(mixed: Path) -> None:
    result = audit(mixed, "-f", "json", "--fail-on", "never")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    summary = report["summary"]
    assert summary["records"] == {"read": 6, "evaluated": 4, "rejected": 2}
    counted = {"pass": 1, "warn": 1, "fail": 1, "not_applicable": 1}
    # Any other outcome the report counts (none of these records can reach one) is zero.
    assert summary["outcomes"] == {**dict.fromkeys(summary["outcomes"], 0), **counted}
    found = {f["record"]: (f["outcome"], f["measured"]) for f in report["findings"]}
    # not_applicable is counted in the summary, but only --all-outcomes reports it.
    assert found == {"tolerated": ("warn", WARN), "slow": ("fail", FAIL)}
    assert [(r["line"], r["source"]) for r in report["rejected"]] == [
        (3, str(mixed)),
        (6, str(mixed)),
    ]
    slow = next(f for f in report["findings"] if f["record"] == "slow")
    assert slow["message"] == "first agent reply after 7m"
    assert "2 of 6 records rejected" in result.stderr


def test_all_outcomes_reports_passes_and_not_applicable_too(mixed: Path) -> None:
    result = audit(mixed, "-f", "json", "--fail-on", "never", "--all-outcomes")
    found = {f["record"]: f["outcome"] for f in json.loads(result.stdout)["findings"]}
    assert found == {
        "fast": "pass",
        "slow": "fail",
        "tolerated": "warn",
        "unanswered": "not_applicable",
    }


def test_jsonl_report(mixed: Path) -> None:
    result = audit(mixed, "-f", "jsonl", "--fail-on", "never")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(line["type"] for line in lines[:-1]) == [
        "finding",
        "finding",
        "rejection",
        "rejection",
    ]
    assert lines[-1]["type"] == "summary"
    assert lines[-1]["records"] == {"read": 6, "evaluated": 4, "rejected": 2}


def test_csv_report(mixed: Path) -> None:
    result = audit(mixed, "-f", "csv", "--fail-on", "never")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert {row["record"]: row["outcome"] for row in rows} == {"tolerated": "warn", "slow": "fail"}
    slow = next(row for row in rows if row["record"] == "slow")
    assert (slow["measured"], slow["desired"], slow["adequate"], slow["unit"]) == (
        "420.0",
        "60.0",
        "300.0",
        "seconds",
    )


def test_table_report(mixed: Path) -> None:
    result = audit(mixed, "--fail-on", "never")
    assert result.exit_code == 0, result.output
    assert "6 records read, 4 evaluated, 2 rejected" in result.stdout
    assert "first-reply" in result.stdout
    assert "slow" in result.stdout
    assert "not valid JSON" in result.stdout


def test_unknown_format_is_a_usage_error(mixed: Path) -> None:
    result = audit(mixed, "-f", "yaml")
    assert result.exit_code == 2
    assert "unknown format 'yaml'; known formats: " in result.stderr
    for name in ("csv", "json", "jsonl", "table"):
        assert name in result.stderr


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (("audit", "missing.jsonl", "-s", STANDARD_FILE), "missing.jsonl: no such file or folder"),
        (("audit", RECORDS, "-s", "missing-standards"), "missing-standards:1:1: no such file"),
        (("audit", STANDARD_FILE, "-s", STANDARD_FILE), "no reader for this kind of file"),
        (("audit", RECORDS, "-s", STANDARD_FILE, "--as-of", "yesterday"), "not an ISO 8601"),
        (("audit", RECORDS, "-s", STANDARD_FILE, "--as-of", "2026-04-01T09:00"), "UTC offset"),
        (("audit", RECORDS, "-s", STANDARD_FILE, "--reader", "nope"), "unknown reader 'nope'"),
    ],
)
def test_bad_input_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: tuple[Any, ...], words: str
) -> None:
    monkeypatch.chdir(tmp_path)
    records = write_records(tmp_path / "r.jsonl", [reply_record("a", PASS)])
    result = run(*(records if arg == RECORDS else arg for arg in arguments))
    assert result.exit_code == 2, result.output
    assert words in result.stderr


# ---------------------------------------------------------------------------------------------
# output files
# ---------------------------------------------------------------------------------------------


def test_output_file_is_written_whole_and_nothing_else_is_left(mixed: Path, tmp_path: Path) -> None:
    output = tmp_path / "reports" / "audit.json"
    result = audit(mixed, "-f", "json", "--fail-on", "never", "--output", output)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert json.loads(output.read_text(encoding="utf-8"))["summary"]["records"]["read"] == 6
    assert [path.name for path in output.parent.iterdir()] == ["audit.json"]


@pytest.mark.usefixtures("test_plugins")
def test_output_file_is_left_untouched_when_the_report_fails(mixed: Path, tmp_path: Path) -> None:
    output = tmp_path / "audit.txt"
    output.write_text("last week's report\n", encoding="utf-8")
    before = sorted(path.name for path in tmp_path.iterdir())

    result = audit(mixed, "-f", "exploding", "--fail-on", "never", "--output", output)

    assert isinstance(result.exception, OSError)
    assert output.read_text(encoding="utf-8") == "last week's report\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == before


def test_rejects_file_keeps_rejected_lines_whole(tmp_path: Path) -> None:
    long_line = json.dumps({"id": "long", "attributes": {"note": "n" * 5000}, "oops": 1})
    records = write_records(tmp_path / "r.jsonl", [reply_record("a", PASS), long_line, "{not json"])
    rejects = tmp_path / "rejects.jsonl"
    result = audit(records, "-f", "json", "--rejects", rejects)
    assert result.exit_code == 0, result.output

    kept = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(k["source"], k["line"], k["raw"]) for k in kept] == [
        (str(records), 2, long_line),
        (str(records), 3, "{not json"),
    ]
    assert "'oops'" in kept[0]["reason"]
    assert kept[1]["reason"].startswith("not valid JSON")
    in_report = json.loads(result.stdout)["rejected"][0]["raw"]
    assert len(in_report) < len(long_line), "the report keeps an excerpt only"
    assert f"written to {rejects}" in result.stderr


# ---------------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["json", "jsonl", "csv", "table"])
def test_same_input_gives_the_same_report(mixed: Path, output_format: str) -> None:
    first = audit(mixed, "-f", output_format, "--fail-on", "never", "--all-outcomes")
    second = audit(mixed, "-f", output_format, "--fail-on", "never", "--all-outcomes")
    assert first.stdout == second.stdout
    assert first.stdout


# ---------------------------------------------------------------------------------------------
# explain, plugins
# ---------------------------------------------------------------------------------------------


def _installed_checks() -> dict[str, tuple[str, AnyCheck]]:
    return collect(get_plugin_manager()).checks


@pytest.mark.parametrize("name", sorted(_installed_checks()))
def test_explain_each_check(name: str) -> None:
    plugin, check = _installed_checks()[name]
    result = run("explain", name)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{name} — {check.dimension} ")
    assert f"from plugin {plugin!r}" in lines[0]
    assert check.doc.split(".")[0] in result.stdout
    assert f"Measures: {check.unit}; {check.better} is better." in result.stdout
    for parameter in check.params_schema.get("properties", {}):
        assert any(line.startswith(f"  {parameter}") for line in lines), parameter


def test_explain_unknown_check_suggests_the_closest() -> None:
    result = run("explain", "elapsd")
    assert result.exit_code == 2
    assert "unknown check 'elapsd'; did you mean 'elapsed'?" in result.stderr


def test_explain_far_from_any_check_lists_them() -> None:
    result = run("explain", "qqqqqqqq")
    assert result.exit_code == 2
    for name in _installed_checks():
        assert name in result.stderr


def test_plugins_table_lists_checks_readers_and_writers() -> None:
    result = run("plugins")
    assert result.exit_code == 0, result.output
    for heading in ("Plugins:", "Checks:", "Readers:", "Writers:"):
        assert heading in result.stdout
    for name in ("elapsed", "jsonl", "csv"):
        assert f"  {name} " in result.stdout


# ---------------------------------------------------------------------------------------------
# map
# ---------------------------------------------------------------------------------------------


def test_map_writes_canonical_records_and_sets_rejects_aside(tmp_path: Path) -> None:
    out_of_order = reply_record("reordered", PASS)
    out_of_order["events"].reverse()
    source = write_records(tmp_path / "in.jsonl", [out_of_order, "{not json"])
    output, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"

    result = run("map", source, "--output", output, "--rejects", rejects)

    assert result.exit_code == 0, result.output
    assert "2 read, 1 written, 1 rejected" in result.stderr
    [written] = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [event["type"] for event in written["events"]] == ["opened", "message"]
    assert all(event["fields"] == {} for event in written["events"])
    assert "reordered" not in written
    [rejected] = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert (rejected["line"], rejected["raw"]) == (2, "{not json")


def test_map_output_audits_like_its_input(mixed: Path, tmp_path: Path) -> None:
    canonical = tmp_path / "canonical.jsonl"
    assert run("map", mixed, "--output", canonical).exit_code == 0
    before = json.loads(audit(mixed, "-f", "json", "--fail-on", "never").stdout)
    after = json.loads(audit(canonical, "-f", "json", "--fail-on", "never").stdout)
    assert after["summary"]["outcomes"] == before["summary"]["outcomes"]
    assert after["summary"]["records"]["rejected"] == 0


# ---------------------------------------------------------------------------------------------
# test (fixtures)
# ---------------------------------------------------------------------------------------------


def test_fixture_of_the_test_standard_passes() -> None:
    result = run("test", STANDARDS)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "4 passed, 0 failed in 1 fixture file"


def test_failing_fixture_exits_1_and_says_what_differed(tmp_path: Path) -> None:
    (tmp_path / "reply.yaml").write_text(
        STANDARD_FILE.read_text(encoding="utf-8"), encoding="utf-8"
    )
    fixture = (STANDARDS / "cli-first-reply.test.yaml").read_text(encoding="utf-8")
    (tmp_path / "reply.test.yaml").write_text(
        fixture.replace("expect: {first-reply: warn}", "expect: {first-reply: pass}"),
        encoding="utf-8",
    )
    result = run("test", tmp_path)
    assert result.exit_code == 1, result.output
    assert "3 passed, 1 failed in 1 fixture file" in result.stdout
    assert "FAIL " in result.stdout
    assert "(record tolerated)" in result.stdout
    assert "first-reply: expected pass, got warn" in result.stdout


def test_fixture_naming_an_unknown_rule_is_invalid(tmp_path: Path) -> None:
    (tmp_path / "reply.yaml").write_text(
        STANDARD_FILE.read_text(encoding="utf-8"), encoding="utf-8"
    )
    fixture = (STANDARDS / "cli-first-reply.test.yaml").read_text(encoding="utf-8")
    (tmp_path / "reply.test.yaml").write_text(
        fixture.replace("expect: {first-reply: fail}", "expect: {first-replies: fail}"),
        encoding="utf-8",
    )
    result = run("test", tmp_path)
    assert result.exit_code == 2, result.output
    assert "has no rule 'first-replies'" in result.stderr


def test_no_fixtures_is_a_usage_error(tmp_path: Path) -> None:
    result = run("test", tmp_path)
    assert result.exit_code == 2
    assert "no fixtures" in result.stderr


def test_shipped_standards_fixtures_pass() -> None:
    if not discover_fixtures([ROOT / "standards"]):
        pytest.skip("the shipped standards have no fixtures yet")
    result = run("test", ROOT / "standards")
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.stdout


def test_output_to_a_device_writes_to_it_and_leaves_it_a_device(tmp_path: Path) -> None:
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    result = CliRunner().invoke(
        main,
        [
            "audit",
            str(ROOT / "examples" / "records" / "service-desk.jsonl"),
            "-s",
            str(ROOT / "standards" / "flow-handoffs.yaml"),
            "--format",
            "csv",
            "--fail-on",
            "never",
            "-o",
            str(fifo),
        ],
    )
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.stat().st_mode), "the pipe must not be replaced by a file"
    assert received[0].startswith("fingerprint,record,standard")


def test_a_reader_that_stops_early_is_not_a_failure() -> None:
    # JSON lines: megabytes of output, so the writes surely outlast the closed pipe.
    output_format = "jsonl"
    rulecore_script = Path(sys.executable).parent / "rulecore"
    process = subprocess.Popen(
        [
            str(rulecore_script),
            "audit",
            str(ROOT / "examples" / "records"),
            "-s",
            str(ROOT / "standards"),
            "--format",
            output_format,
            "--fail-on",
            "never",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    process.stdout.readline()
    process.stdout.close()  # as `| head -1` does
    assert process.wait(timeout=60) == 141
