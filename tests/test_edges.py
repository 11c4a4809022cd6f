"""Small edges of the command line: one clear line for each mistake, and what was written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rulecore.cli import main

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "examples" / "records"
STANDARDS = ROOT / "standards"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(arg) for arg in args])


def error_lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("Error:")]


def test_every_kind_of_error_begins_with_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: Broken\n", encoding="utf-8")
    standards = run("validate", broken)  # a mistake in a file
    usage = run("audit", RECORDS, "-s", STANDARDS, "--as-of", "soon")  # a usage mistake
    missing = run("audit", tmp_path / "nothing.jsonl", "-s", STANDARDS)  # input
    for result in (standards, usage, missing):
        assert result.exit_code == 2, result.output
        assert error_lines(result), result.output
        assert "error:" not in result.output


def test_the_output_file_is_announced_like_the_other_reports(tmp_path: Path) -> None:
    report, extra = tmp_path / "report.json", tmp_path / "report.csv"
    result = run(
        *("audit", RECORDS, "-s", STANDARDS, "-f", "json", "-o", report),
        *("--report", f"csv:{extra}", "--fail-on", "never"),
    )
    assert result.exit_code == 0, result.output
    assert f"wrote the json report to {report}" in result.stderr.splitlines()
    assert f"wrote the csv report to {extra}" in result.stderr.splitlines()
    devnull = run("audit", RECORDS, "-s", STANDARDS, "-o", "/dev/null", "--fail-on", "never")
    assert "wrote the" not in devnull.stderr


@pytest.mark.parametrize("weight", ["fail=nan", "fail=inf", "warn=-inf"])
def test_a_sample_weight_must_be_a_finite_number(weight: str) -> None:
    result = run("sample", RECORDS, "-s", STANDARDS, "--seed", "1", "--weight", weight)
    assert result.exit_code == 2
    assert error_lines(result) == [
        f"Error: --weight {weight!r}: "
        + (
            "a weight cannot be negative"
            if weight.startswith("warn")
            else "a weight must be a finite number, like 3 or 0.5"
        )
    ]


def test_an_unknown_period_is_refused_not_grouped_as_none() -> None:
    result = run("audit", RECORDS, "-s", STANDARDS, "--by", "@year")
    assert result.exit_code == 2
    assert error_lines(result) == [
        "Error: Invalid value for '--by': '@year' is not a period; use @day, @month, @week, "
        "or an attribute name without @"
    ]
    sample = run("sample", RECORDS, "-s", STANDARDS, "--seed", "1", "--by", "@month")
    assert sample.exit_code == 2
    assert "sample draws by record attributes" in sample.output


def test_a_fixture_as_of_outside_the_audited_dates_is_refused(tmp_path: Path) -> None:
    (tmp_path / "first-reply.yaml").write_text(
        (STANDARDS / "timeliness-first-reply.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    cases = (STANDARDS / "timeliness-first-reply.test.yaml").read_text(encoding="utf-8")
    fixture = tmp_path / "first-reply.test.yaml"
    fixture.write_text('as_of: "9999-01-01T00:00:00Z"\n' + cases, encoding="utf-8")
    result = run("test", fixture)
    assert result.exit_code == 2
    assert error_lines(result) == [
        f"Error: {fixture}:1:8: '9999-01-01T00:00:00Z' is outside the dates rulecore audits, "
        "from 1970-01-01T00:00:00Z up to (not including) 2100-01-01T00:00:00Z"
    ]


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ("audits (x)", "its table audits is another program's (it has no as_of"),
        ("people (name)", "it holds another program's tables (people)"),
    ],
)
def test_a_history_of_another_programs_is_left_alone(
    tmp_path: Path, table: str, words: str
) -> None:
    store = tmp_path / "other.db"
    connection = sqlite3.connect(store)
    connection.execute(f"CREATE TABLE {table}")
    connection.commit()
    connection.close()
    before = store.read_bytes()
    result = run("audit", RECORDS, "-s", STANDARDS, "--history", store, "-o", "/dev/null")
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert line.startswith(f"Error: {store}:1:1: this is not a rulecore history: {words}")
    assert line.endswith("give the history a file of its own, such as audits.sqlite")
    assert store.read_bytes() == before
