"""Fuzzing rulecore's edges with Hypothesis: no input makes it crash, hang or lie (issue 11).

CI runs a few hundred examples with a fixed seed; ``bench/fuzz.py`` runs many more, and
``docs/robustness.md`` says how many, with which seed, and what they found.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import (
    audit_holds,
    baselines,
    map_holds,
    mapping_cases,
    records_text,
    standards,
    waivers,
    write_case,
)

from rulecore.cli import main

CI = settings(
    derandomize=True,
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@CI
@given(records=records_text(), standard=standards(), with_schedule=st.booleans())
def test_an_audit_of_any_records_against_any_standard_answers(
    records: str, standard: str, with_schedule: bool
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        write_case(folder, records, standard, with_schedule)
        audit_holds(folder, [])


@CI
@given(records=records_text(), waiver_text=waivers())
def test_any_waivers_file_is_applied_or_refused_in_one_line(records: str, waiver_text: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        write_case(folder, records, _FIRST_REPLY, with_schedule=False)
        (folder / "waivers.yaml").write_text(waiver_text, encoding="utf-8")
        options = ["--waivers", str(folder / "waivers.yaml"), "--as-of", "2026-06-01T00:00:00Z"]
        audit_holds(folder, options)


@CI
@given(records=records_text(), baseline=baselines())
def test_any_baseline_is_compared_with_or_refused_in_one_line(records: str, baseline: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        write_case(folder, records, _FIRST_REPLY, with_schedule=False)
        (folder / "baseline.json").write_text(baseline, encoding="utf-8")
        audit_holds(folder, ["--baseline", str(folder / "baseline.json")])


@CI
@given(case=mapping_cases())
def test_any_mapping_and_export_is_mapped_or_refused_in_one_line(
    case: tuple[str, str, str],
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        map_holds(Path(scratch), *case)


_FIRST_REPLY = (
    Path(__file__).resolve().parent.parent / "standards" / "timeliness-first-reply.yaml"
).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# what fuzzing found, kept
# ---------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
NYC = ROOT / "examples" / "nyc-311"


@pytest.mark.parametrize(
    ("encoding", "words"),
    [
        ("rot13", "'rot13' is not a text encoding"),
        ("base64", "'base64' is not a text encoding"),
        ("nope", "'nope' is not an encoding"),
    ],
)
@pytest.mark.parametrize("command", ["map", "audit"])
def test_a_mapping_whose_encoding_cannot_read_text_is_one_located_error(
    tmp_path: Path, encoding: str, words: str, command: str
) -> None:
    # Was a LookupError traceback and exit 1, once the export was opened.
    text = (NYC / "nyc-311.mapping.yaml").read_text(encoding="utf-8")
    mapping = tmp_path / "nyc.mapping.yaml"
    mapping.write_text(
        text.replace("  format: csv\n", f"  format: csv\n  encoding: {encoding}\n"), "utf-8"
    )
    line = mapping.read_text(encoding="utf-8").splitlines().index(f"  encoding: {encoding}") + 1
    export = NYC / "311-2011-slice.csv"
    args = {
        "map": ["map", str(export), "-m", str(mapping)],
        "audit": ["audit", str(export), "-m", str(mapping), "-s", str(NYC)],
    }[command]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"Error: {mapping}:{line}:13: {words} Python knows; use one such as utf-8, utf-8-sig, "
        "cp1252 or latin-1"
    ]


SELECTING_STANDARD = """\
id: selecting
version: 1
title: Reply to an open case
dimension: timeliness
rules:
  - id: reply
    check: elapsed
    params: {from: {type: opened}, to: {type: status, where: {status: [open, pending]}}}
    thresholds: {target: 1d}
"""


@pytest.mark.parametrize("value", [{"x": 1}, [1, 2], [], {}])
def test_an_event_field_holding_a_list_or_object_does_not_match_a_where(
    tmp_path: Path, value: object
) -> None:
    # Was an `error` outcome, "raised TypeError: unhashable type", on every rule whose
    # selector has a `where`: the shipped required_steps rules among them.
    (tmp_path / "standards").mkdir()
    (tmp_path / "standards" / "selecting.yaml").write_text(SELECTING_STANDARD, "utf-8")
    events = [
        {"at": "2026-03-18T10:00:00Z", "type": "opened"},
        {"at": "2026-03-18T10:01:00Z", "type": "status", "fields": {"status": value}},
        {"at": "2026-03-18T10:02:00Z", "type": "status", "fields": {"status": "open"}},
    ]
    records = tmp_path / "records.jsonl"
    records.write_text(json.dumps({"id": "a", "events": events}) + "\n", "utf-8")
    result = CliRunner().invoke(
        main, ["audit", str(records), "-s", str(tmp_path / "standards"), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    outcomes = json.loads(result.stdout)["summary"]["outcomes"]
    assert (outcomes["pass"], outcomes["error"]) == (1, 0), outcomes  # replied in 2 minutes


def test_a_where_value_that_is_an_object_is_one_located_error(tmp_path: Path) -> None:
    # Was "failed to compile this rule: TypeError: unhashable type: 'dict'".
    standard = tmp_path / "selecting.yaml"
    standard.write_text(SELECTING_STANDARD.replace("[open, pending]", "{a: 1}"), "utf-8")
    result = CliRunner().invoke(main, ["validate", str(standard)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"Error: {standard}:8:")
    assert "params.to.where.status should be" in line
    assert "not a mapping" in line


@pytest.mark.parametrize("outcome", [[], {}, ["fail"]])
def test_a_baseline_finding_whose_outcome_is_a_list_or_object_is_not_tracked(
    tmp_path: Path, outcome: object
) -> None:
    # Was a TypeError traceback ("unhashable type") and exit 1.
    finding = {"fingerprint": "x", "record": "T-000001", "rule": "a/b", "outcome": outcome}
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"findings": [finding]}), encoding="utf-8")
    records = ROOT / "examples" / "records" / "service-desk.jsonl"
    args = ["audit", str(records), "-s", str(ROOT / "standards"), "-f", "json"]
    result = CliRunner().invoke(main, [*args, "--baseline", str(baseline), "--fail-on", "never"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["baseline"]["resolved"] == 0


def test_a_history_whose_tables_are_another_programs_is_one_located_error(tmp_path: Path) -> None:
    # Was an sqlite3.OperationalError traceback ("no such column: id") and exit 1.
    store = tmp_path / "history.db"
    connection = sqlite3.connect(store)
    connection.execute("CREATE TABLE audits (x)")
    connection.commit()
    connection.close()
    result = CliRunner().invoke(main, ["history", "--store", str(store)])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"Error: {store}:1:1: this is not a rulecore history: its table audits is another "
        "program's (it has no as_of, compliance, id, label, recorded_at, records_evaluated, "
        "records_read, records_rejected, summary); give the history a file of its own, such as "
        "audits.sqlite"
    ]


PROMISES_STANDARD = """\
id: promises
version: 1
title: Promises are kept
dimension: anticipation
rules:
  - id: kept
    check: promises_kept
    params: {promise: {type: promise}, fulfilment: {type: message, actor: agent}}
"""


@pytest.mark.parametrize("within", [10**19, 1e300])
def test_a_promise_due_past_any_date_is_not_a_crash(tmp_path: Path, within: float) -> None:
    # Found by bench/fuzz.py (seed 20261419): an OverflowError, as an `error` outcome.
    (tmp_path / "standards").mkdir()
    (tmp_path / "standards" / "promises.yaml").write_text(PROMISES_STANDARD, "utf-8")
    events = [
        {"at": "2026-03-18T10:00:00Z", "type": "opened"},
        {"at": "2026-03-18T10:01:00Z", "type": "promise", "fields": {"within": within}},
    ]
    records = tmp_path / "records.jsonl"
    records.write_text(json.dumps({"id": "a", "events": events}) + "\n", "utf-8")
    args = ["audit", str(records), "-s", str(tmp_path / "standards"), "-f", "json"]
    result = CliRunner().invoke(main, [*args, "--all-outcomes"])
    assert result.exit_code == 0, result.output
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["outcome"] == "not_applicable", finding
