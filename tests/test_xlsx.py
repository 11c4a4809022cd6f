"""The Excel workbook (``--format xlsx``): read back with openpyxl, against the JSON report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rulecore import Writer, collect, get_plugin_manager, hookimpl
from rulecore.cli import main

pytest.importorskip("xlsxwriter", reason="XlsxWriter is the xlsx extra (in dev)")
openpyxl = pytest.importorskip("openpyxl", reason="openpyxl reads the workbook back (dev extra)")

from rulecore_reports._xlsx import (  # noqa: E402 - only with XlsxWriter installed
    FINDING_COLUMNS,
    evidence_text,
)

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "examples" / "records"
STANDARDS = ROOT / "standards"


def _audit(*args: str) -> Any:
    result = CliRunner().invoke(
        main, ["audit", str(RECORDS), "-s", str(STANDARDS), "--fail-on", "never", *args]
    )
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """One audit, written as JSON and as a workbook."""
    folder = tmp_path_factory.mktemp("xlsx")
    report, book = folder / "report.json", folder / "report.xlsx"
    _audit("--format", "json", "-o", str(report), "--report", f"xlsx:{book}")
    return json.loads(report.read_text(encoding="utf-8")), book


def _rows(sheet: Any) -> list[dict[str, Any]]:
    values = list(sheet.iter_rows(values_only=True))
    header = values[0]
    return [dict(zip(header, row, strict=True)) for row in values[1:]]


def test_the_workbook_has_its_four_sheets(audited: tuple[dict[str, Any], Path]) -> None:
    _report, book = audited
    workbook = openpyxl.load_workbook(book)
    assert workbook.sheetnames == ["Summary", "Rules", "Findings", "Rejected"]
    for sheet in workbook:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref, sheet.title


def test_the_summary_sheet_counts_what_the_json_counts(
    audited: tuple[dict[str, Any], Path],
) -> None:
    report, book = audited
    summary = report["summary"]
    sheet = openpyxl.load_workbook(book)["Summary"]
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True) if row[0]}
    for entry in summary["dimensions"]:
        row = rows[entry["dimension"]]
        assert row[1] == entry["compliance"]
        assert row[2] == entry["within_tolerance"]
        assert list(row[3:9]) == [
            entry["counts"][k]
            for k in ("pass", "warn", "fail", "not_applicable", "error", "waived")
        ]
    assert rows["all"][1] == summary["compliance"]
    assert rows["all"][3] == summary["outcomes"]["pass"]
    assert rows["records read"][1] == summary["records"]["read"]
    assert rows["records evaluated"][1] == summary["records"]["evaluated"]
    assert rows["records rejected"][1] == summary["records"]["rejected"]
    assert rows["findings"][1] == len(report["findings"])
    assert sheet["B2"].number_format == "0.0%"


def test_the_rules_sheet_is_the_summarys_rules(audited: tuple[dict[str, Any], Path]) -> None:
    report, book = audited
    rows = _rows(openpyxl.load_workbook(book)["Rules"])
    rules = report["summary"]["rules"]
    assert len(rows) == len(rules)
    for row, rule in zip(rows, rules, strict=True):
        for key in ("standard", "rule", "check", "dimension", "severity"):
            assert row[key] == rule[key]
        assert row["compliance"] == rule["compliance"]
        assert row["in tolerance"] == rule["within_tolerance"]
        assert row["fail"] == rule["counts"]["fail"]
        assert row["n/a"] == rule["counts"]["not_applicable"]


def test_every_finding_is_a_row_with_its_evidence_as_text(
    audited: tuple[dict[str, Any], Path],
) -> None:
    report, book = audited
    rows = _rows(openpyxl.load_workbook(book)["Findings"])
    assert [tuple(rows[0])] == [FINDING_COLUMNS]
    assert len(rows) == len(report["findings"])
    for row, finding in zip(rows, report["findings"], strict=True):
        for key in (
            "record",
            "standard",
            "rule",
            "dimension",
            "check",
            "outcome",
            "severity",
            "measured",
            "measured_text",
            "message",
            "fingerprint",
        ):
            assert row[key] == finding[key], (key, finding["fingerprint"])
        expected = finding["expected"] or {}
        assert row["desired"] == expected.get("desired")
        assert row["unit"] == expected.get("unit")
        assert row["evidence"] == (evidence_text(finding["evidence"]) or None)
    assert any(row["evidence"] for row in rows)


def test_rejected_input_is_listed_with_its_reason(audited: tuple[dict[str, Any], Path]) -> None:
    report, book = audited
    rows = _rows(openpyxl.load_workbook(book)["Rejected"])
    assert [(r["source"], r["line"], r["reason"], r["input"]) for r in rows] == [
        (r["source"], r["line"], r["reason"], r["raw"]) for r in report["rejected"]
    ]


def test_outcomes_and_compliance_are_coloured(audited: tuple[dict[str, Any], Path]) -> None:
    _report, book = audited
    workbook = openpyxl.load_workbook(book)
    findings = workbook["Findings"].conditional_formatting
    rules = [rule.formula[0] for area in findings for rule in area.rules]
    assert {'"pass"', '"warn"', '"fail"'} <= set(rules)
    headers = {cell.value: cell.fill.fgColor.rgb for cell in workbook["Rules"][1]}
    assert headers["pass"] != headers["fail"] != headers["standard"]


def test_the_same_audit_gives_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    _audit("--format", "xlsx", "-o", str(first))
    _audit("--format", "xlsx", "-o", str(second))
    assert first.read_bytes() == second.read_bytes()


def test_the_creation_date_is_the_audits_moment(tmp_path: Path) -> None:
    book = tmp_path / "a.xlsx"
    _audit("--format", "xlsx", "-o", str(book), "--as-of", "2026-03-31T18:00:00+02:00")
    created = openpyxl.load_workbook(book).properties.created
    assert created.isoformat().startswith("2026-03-31T16:00:00")


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    records.write_text('=HYPERLINK("http://example.com","x")\n', encoding="utf-8")
    book = tmp_path / "a.xlsx"
    result = CliRunner().invoke(
        main, ["audit", str(records), "-s", str(STANDARDS), "--format", "xlsx", "-o", str(book)]
    )
    assert result.exit_code == 0, result.output
    cell = openpyxl.load_workbook(book)["Rejected"]["D2"]
    assert cell.data_type == "s"
    assert cell.value.startswith("=HYPERLINK")


def test_a_workbook_goes_to_stdout_when_it_is_not_a_terminal() -> None:
    result = _audit("--format", "xlsx")
    assert result.stdout_bytes.startswith(b"PK\x03\x04")


def test_a_workbook_is_not_written_to_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rulecore.cli._stdout_is_terminal", lambda: True)
    result = CliRunner().invoke(
        main, ["audit", str(RECORDS), "-s", str(STANDARDS), "--format", "xlsx"]
    )
    assert result.exit_code == 2
    assert "--output FILE" in result.output
    assert b"PK" not in result.stdout_bytes


class _BytesSink:
    """A third party's binary writer: it writes bytes that are not text in any encoding."""

    needs_evidence = False

    def __init__(self, stream: Any, options: Any) -> None:
        self.stream = stream
        self.count = 0

    def finding(self, finding: Any) -> None:
        self.count += 1

    def rejection(self, rejection: Any) -> None:
        pass

    def close(self, summary: Any) -> None:
        self.stream.write(b"\xff\x00" + str(self.count).encode())


class _BytesPlugin:
    @hookimpl
    def rulecore_register_writers(self, register: Any) -> None:
        register(Writer("bytes", "bytes for a test", _BytesSink, binary=True))


def test_a_third_party_binary_writer_is_given_a_binary_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def manager() -> Any:
        plugins = get_plugin_manager()
        plugins.register(_BytesPlugin(), name="bytes-test")
        return plugins

    monkeypatch.setattr("rulecore.cli.get_plugin_manager", manager)
    out = tmp_path / "out.bin"
    _audit("--format", "json", "-o", str(tmp_path / "r.json"), "--report", f"bytes:{out}")
    findings = len(json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["findings"])
    assert out.read_bytes() == b"\xff\x00" + str(findings).encode()
    assert not collect(get_plugin_manager()).writers["json"][1].binary


def test_findings_beyond_excels_last_row_are_counted_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rulecore_reports._xlsx.MAX_ROWS", 5)
    book = tmp_path / "a.xlsx"
    report = tmp_path / "a.json"
    _audit("--format", "json", "-o", str(report), "--report", f"xlsx:{book}")
    findings = len(json.loads(report.read_text(encoding="utf-8"))["findings"])
    workbook = openpyxl.load_workbook(book)
    assert len(_rows(workbook["Findings"])) == 5
    facts = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True)}
    assert facts["findings"] == findings
    assert facts["not listed"].startswith(f"{findings - 5} findings beyond")
