"""An Excel workbook of the report: sheets Summary, Rules, Findings and Rejected.

Written with XlsxWriter (the ``xlsx`` extra) in its constant-memory mode: findings are
spooled to a temporary file while the audit streams, and written row by row at the end, so
memory does not grow with the audit.  The workbook is the same, byte for byte, for the same
audit: its creation date is the audit's ``--as-of`` moment, else ``SOURCE_DATE_EPOCH`` (the
reproducible-builds convention), else the Unix epoch; XlsxWriter fixes the zip entries' dates.

Every text is written as text, never as a formula or a link: a record id or a rejected line
that starts with ``=`` comes from someone else's export and must not run in a spreadsheet.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from itertools import islice
from typing import IO, Any

import msgspec

import rulecore
from rulecore import Finding, Rejection, Summary
from rulecore.i18n import _

#: Excel's last row is 1,048,576; one is the header.
MAX_ROWS = 1_048_575
#: Excel refuses a cell longer than this.
MAX_CELL = 32_767

COUNT_KEYS = ("pass", "warn", "fail", "not_applicable", "error", "waived")
COUNT_HEADERS = ("pass", "warn", "fail", "n/a", "error", "waived")
SHARE_HEADERS = ("compliance", "in tolerance")
RULE_COLUMNS = ("standard", "rule", "check", "dimension", "severity")
FINDING_COLUMNS = (
    "record",
    "standard",
    "rule",
    "dimension",
    "check",
    "outcome",
    "severity",
    "measured",
    "measured_text",
    "desired",
    "adequate",
    "better",
    "unit",
    "message",
    "evidence",
    "baseline",
    "waiver",
    "fingerprint",
)
REJECTED_COLUMNS = ("source", "line", "reason", "input")

#: The report's colours for each outcome: fill and text.
COLOURS = {
    "pass": ("#C8E6C9", "#1B5E20"),
    "warn": ("#FFE0B2", "#8A4B00"),
    "fail": ("#FFCDD2", "#8E0000"),
    "error": ("#E1BEE7", "#4A148C"),
    "waived": ("#C5CAE9", "#1A237E"),
}

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def created_at(summary: Summary) -> datetime:
    """The workbook's creation date: fixed by the audit, so the same audit gives the same file."""
    if summary.as_of is not None:
        return summary.as_of.astimezone(timezone.utc).replace(tzinfo=None)
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "0")
    seconds = int(epoch) if epoch.strip().isdigit() else 0
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)


def evidence_text(evidence: Sequence[Mapping[str, Any]]) -> str:
    """A finding's evidence as text on one line, its pieces separated by semicolons."""
    lines = []
    for piece in evidence:
        when = str(piece.get("at") or "")
        if piece.get("until"):
            when = f"{when} → {piece['until']}"
        line = str(piece.get("label", ""))
        if when:
            line += f" {when}"
        if piece.get("detail"):
            line += f": {piece['detail']}"
        lines.append(line)
    return "; ".join(lines)


class XlsxSink:
    """Spools findings and rejections, then writes the workbook when the audit closes."""

    def __init__(self, stream: IO[bytes], options: Mapping[str, Any]) -> None:
        import xlsxwriter  # noqa: F401 - fail now, before the audit, if the extra is missing

        self.stream = stream
        self.title = str(options.get("title") or "rulecore audit")
        self.findings = tempfile.TemporaryFile("w+b")  # noqa: SIM115 - closed in close()
        self.rejections: list[dict[str, Any]] = []
        self.finding_count = 0

    def finding(self, finding: Finding) -> None:
        self.findings.write(_encoder.encode(finding.to_dict()) + b"\n")
        self.finding_count += 1

    def rejection(self, rejection: Rejection) -> None:
        if len(self.rejections) < MAX_ROWS:
            self.rejections.append(_rejection_row(rejection))

    def close(self, summary: Summary) -> None:
        import xlsxwriter

        with tempfile.TemporaryFile("w+b") as book_file:
            book = xlsxwriter.Workbook(
                book_file,
                {
                    "constant_memory": True,
                    "strings_to_formulas": False,
                    "strings_to_urls": False,
                    "strings_to_numbers": False,
                },
            )
            book.set_properties(
                {
                    "title": self.title,
                    "author": "rulecore",
                    "comments": f"rulecore {rulecore.__version__}",
                    "created": created_at(summary),
                }
            )
            styles = _Styles(book)
            data = summary.as_dict()
            _summary_sheet(book, styles, data, self.finding_count)
            _rules_sheet(book, styles, data)
            _findings_sheet(book, styles, self.findings)
            _rejected_sheet(book, styles, self.rejections)
            book.close()
            book_file.seek(0)
            shutil.copyfileobj(book_file, self.stream)
        self.findings.close()


def _rejection_row(rejection: Rejection) -> dict[str, Any]:
    return {
        "source": rejection.source,
        "line": rejection.line,
        "reason": rejection.reason,
        "input": rejection.excerpt(),
    }


class _Styles:
    """The workbook's formats, made once."""

    def __init__(self, book: Any) -> None:
        self.header = book.add_format({"bold": True, "bg_color": "#ECEFF1", "bottom": 1})
        self.share = book.add_format({"num_format": "0.0%"})
        self.bold = book.add_format({"bold": True})
        self.bold_share = book.add_format({"bold": True, "num_format": "0.0%"})
        self.outcome_headers = {
            name: book.add_format({"bold": True, "bottom": 1, "bg_color": fill, "font_color": ink})
            for name, (fill, ink) in COLOURS.items()
        }
        self.outcomes = {
            name: book.add_format({"bg_color": fill, "font_color": ink})
            for name, (fill, ink) in COLOURS.items()
        }
        self.good = self.outcomes["pass"]
        self.middling = self.outcomes["warn"]
        self.poor = self.outcomes["fail"]

    def for_header(self, name: str) -> Any:
        return self.outcome_headers.get(name, self.header)


def _header(
    sheet: Any,
    styles: _Styles,
    columns: Sequence[str],
    widths: Sequence[int],
    fit_width: bool = True,
) -> None:
    for column, (name, width) in enumerate(zip(columns, widths, strict=True)):
        sheet.write_string(0, column, name, styles.for_header(name))
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)
    # Printed (or saved as PDF): landscape, as wide as a page, the header on every page.
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    if fit_width:
        sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)


def _text(sheet: Any, row: int, column: int, value: Any, style: Any = None) -> None:
    if value is None or value == "":
        return
    text = str(value)
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    sheet.write_string(row, column, text, style)


def _number(sheet: Any, row: int, column: int, value: Any, style: Any = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _text(sheet, row, column, value, style)
    else:
        sheet.write_number(row, column, value, style)


def _shade_shares(sheet: Any, styles: _Styles, first: int, last: int, columns: range) -> None:
    """Colour compliance as the scorecard does: from 90% good, from 75% middling, else poor."""
    if last < first:
        return
    for column in columns:
        area = (first, column, last, column)
        sheet.conditional_format(
            *area, {"type": "cell", "criteria": ">=", "value": 0.9, "format": styles.good}
        )
        sheet.conditional_format(
            *area,
            {
                "type": "cell",
                "criteria": "between",
                "minimum": 0.75,
                "maximum": 0.9,
                "format": styles.middling,
            },
        )
        sheet.conditional_format(
            *area, {"type": "cell", "criteria": "<", "value": 0.75, "format": styles.poor}
        )


def _counts_cells(
    sheet: Any, styles: _Styles, row: int, first: int, entry: Mapping[str, Any], bold: bool = False
) -> None:
    share = styles.bold_share if bold else styles.share
    _number(sheet, row, first, entry["compliance"], share)
    _number(sheet, row, first + 1, entry["within_tolerance"], share)
    for offset, key in enumerate(COUNT_KEYS, start=2):
        _number(sheet, row, first + offset, entry["counts"][key], styles.bold if bold else None)


def _summary_sheet(book: Any, styles: _Styles, data: Mapping[str, Any], findings: int) -> None:
    sheet = book.add_worksheet("Summary")
    columns = ("dimension", *SHARE_HEADERS, *COUNT_HEADERS)
    _header(sheet, styles, columns, (16, 12, 13, *(9,) * len(COUNT_HEADERS)))
    row = 0
    for row, entry in enumerate(data["dimensions"], start=1):
        _text(sheet, row, 0, entry["dimension"])
        _counts_cells(sheet, styles, row, 1, entry)
    total = row + 1
    _text(sheet, total, 0, "all", styles.bold)
    everything = {
        "compliance": data["compliance"],
        "within_tolerance": data["within_tolerance"],
        "counts": data["outcomes"],
    }
    _counts_cells(sheet, styles, total, 1, everything, bold=True)
    sheet.autofilter(0, 0, total, len(columns) - 1)
    _shade_shares(sheet, styles, 1, total, range(1, 3))
    facts: list[tuple[str, Any]] = [
        (_("records read"), data["records"]["read"]),
        (_("records evaluated"), data["records"]["evaluated"]),
        (_("records rejected"), data["records"]["rejected"]),
        (_("findings"), findings),
        ("rulecore", rulecore.__version__),
    ]
    if data.get("as_of"):
        facts.insert(4, (_("as of"), data["as_of"]))
    if findings > MAX_ROWS:
        unlisted = _("{count} findings beyond Excel's last row; the JSON report has every one")
        facts.append((_("not listed"), unlisted.format(count=findings - MAX_ROWS)))
    for offset, (name, value) in enumerate(facts, start=total + 2):
        _text(sheet, offset, 0, name, styles.bold)
        _number(sheet, offset, 1, value)


def _rules_sheet(book: Any, styles: _Styles, data: Mapping[str, Any]) -> None:
    sheet = book.add_worksheet("Rules")
    columns = (*RULE_COLUMNS, *SHARE_HEADERS, *COUNT_HEADERS)
    _header(sheet, styles, columns, (24, 26, 22, 14, 10, 12, 13, *(9,) * len(COUNT_HEADERS)))
    rules = data["rules"]
    for row, rule in enumerate(rules, start=1):
        for column, key in enumerate(RULE_COLUMNS):
            _text(sheet, row, column, rule[key])
        _counts_cells(sheet, styles, row, len(RULE_COLUMNS), rule)
    sheet.autofilter(0, 0, max(1, len(rules)), len(columns) - 1)
    first_share = len(RULE_COLUMNS)
    _shade_shares(sheet, styles, 1, len(rules), range(first_share, first_share + 2))


def _findings_sheet(book: Any, styles: _Styles, spool: IO[bytes]) -> None:
    sheet = book.add_worksheet("Findings")
    widths = (12, 24, 26, 13, 18, 9, 9, 10, 14, 9, 9, 8, 8, 60, 70, 11, 40, 22)
    _header(sheet, styles, FINDING_COLUMNS, widths, fit_width=False)
    outcome = FINDING_COLUMNS.index("outcome")
    spool.seek(0)
    row = 0
    for row, line in enumerate(islice(spool, MAX_ROWS), start=1):
        for column, value in enumerate(_finding_cells(_decoder.decode(line))):
            _number(sheet, row, column, value)
    sheet.autofilter(0, 0, max(1, row), len(FINDING_COLUMNS) - 1)
    for name in COLOURS:
        sheet.conditional_format(
            1,
            outcome,
            max(1, row),
            outcome,
            {
                "type": "cell",
                "criteria": "==",
                "value": f'"{name}"',
                "format": styles.outcomes[name],
            },
        )


def _finding_cells(finding: Mapping[str, Any]) -> list[Any]:
    expected = finding.get("expected") or {}
    waiver = finding.get("waiver")
    waived = f"{waiver['reason']} ({waiver['by']}, until {waiver['expires']})" if waiver else None
    return [
        finding["record"],
        finding["standard"],
        finding["rule"],
        finding["dimension"],
        finding["check"],
        finding["outcome"],
        finding["severity"],
        finding["measured"],
        finding["measured_text"],
        expected.get("desired"),
        expected.get("adequate"),
        expected.get("better"),
        expected.get("unit"),
        finding["message"],
        evidence_text(finding.get("evidence") or ()),
        finding.get("baseline"),
        waived,
        finding["fingerprint"],
    ]


def _rejected_sheet(book: Any, styles: _Styles, rejections: Sequence[Mapping[str, Any]]) -> None:
    sheet = book.add_worksheet("Rejected")
    _header(sheet, styles, REJECTED_COLUMNS, (36, 8, 60, 80))
    for row, rejection in enumerate(rejections, start=1):
        for column, key in enumerate(REJECTED_COLUMNS):
            _number(sheet, row, column, rejection[key])
    sheet.autofilter(0, 0, max(1, len(rejections)), len(REJECTED_COLUMNS) - 1)
