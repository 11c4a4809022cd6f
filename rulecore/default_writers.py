"""The built-in report writers: a terminal scorecard, JSON, JSON lines and CSV."""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from typing import IO, Any

import msgspec

from . import __version__
from ._findings import Finding, finding_json
from ._i18n import _
from ._plugins import hookimpl
from ._readers import Rejection
from ._summary import Summary
from ._writers import Writer, rejection_to_dict

REPORT_SCHEMA_ID = "https://rulecore.dev/schemas/report.schema.json"


_encoder = msgspec.json.Encoder()
_FINDING_LINE = b'{"type":"finding",'


def _dumps(data: Any) -> str:
    """One compact JSON document; msgspec's encoder writes it at about twice json's speed."""
    return _encoder.encode(data).decode("utf-8")


class JsonSink:
    """The JSON report: summary first, then findings and rejections, spooled to bound memory."""

    def __init__(self, stream: IO[str], options: Mapping[str, Any]) -> None:
        self.stream = stream
        self.findings = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.rejections = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self.finding_count = 0
        self.rejection_count = 0

    def finding(self, finding: Finding) -> None:
        self.findings.write(
            ("," if self.finding_count else "") + "\n    " + finding_json(finding).decode("utf-8")
        )
        self.finding_count += 1

    def rejection(self, rejection: Rejection) -> None:
        prefix = "," if self.rejection_count else ""
        self.rejections.write(prefix + "\n    " + _dumps(rejection_to_dict(rejection)))
        self.rejection_count += 1

    def close(self, summary: Summary) -> None:
        head = {"$schema": REPORT_SCHEMA_ID, "rulecore": __version__, "summary": summary.as_dict()}
        text = json.dumps(head, ensure_ascii=False, indent=2)
        self.stream.write(text[:-2] + ',\n  "findings": [')
        self._copy(self.findings, self.finding_count)
        self.stream.write(',\n  "rejected": [')
        self._copy(self.rejections, self.rejection_count)
        self.stream.write("\n}\n")

    def _copy(self, spool: IO[str], count: int) -> None:
        spool.seek(0)
        shutil.copyfileobj(spool, self.stream)
        spool.close()
        self.stream.write("\n  ]" if count else "]")


class JsonLinesSink:
    """One JSON object per line: findings and rejections as they come, the summary last."""

    def __init__(self, stream: IO[str], options: Mapping[str, Any]) -> None:
        self.stream = stream

    def finding(self, finding: Finding) -> None:
        self.stream.write(finding_json(finding, _FINDING_LINE).decode("utf-8") + "\n")

    def rejection(self, rejection: Rejection) -> None:
        self.stream.write(_dumps({"type": "rejection", **rejection_to_dict(rejection)}) + "\n")

    def close(self, summary: Summary) -> None:
        self.stream.write(_dumps({"type": "summary", **summary.as_dict()}) + "\n")


CSV_COLUMNS = (
    "fingerprint",
    "record",
    "standard",
    "version",
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
)


class CsvSink:
    """One row per finding, for spreadsheets; rejections go to ``--rejects``."""

    needs_evidence = False  # it shows no evidence

    def __init__(self, stream: IO[str], options: Mapping[str, Any]) -> None:
        self.writer = csv.writer(stream, lineterminator="\n")
        self.writer.writerow(CSV_COLUMNS)

    def finding(self, finding: Finding) -> None:
        data = finding.to_dict()
        expected = data.pop("expected") or {}
        data.update({key: expected.get(key) for key in ("desired", "adequate", "better", "unit")})
        self.writer.writerow(["" if data[col] is None else data[col] for col in CSV_COLUMNS])

    def rejection(self, rejection: Rejection) -> None:
        pass

    def close(self, summary: Summary) -> None:
        pass


class TableSink:
    """The terminal scorecard: how well each dimension, standard and rule was met."""

    needs_evidence = False  # it shows no evidence

    def __init__(self, stream: IO[str], options: Mapping[str, Any]) -> None:
        self.stream = stream
        self.color = bool(options.get("color", False))
        self.worst: list[Finding] = []
        self.reasons: dict[str, int] = {}
        self.limit = int(options.get("top", 10))

    def finding(self, finding: Finding) -> None:
        # Keep a few examples to drill into, without holding every finding.
        if finding.outcome in ("fail", "error") and len(self.worst) < self.limit:
            self.worst.append(finding)

    def rejection(self, rejection: Rejection) -> None:
        reason = rejection.reason.replace("：", ":").split(":")[0]  # a Chinese colon too
        self.reasons[reason] = self.reasons.get(reason, 0) + 1

    def close(self, summary: Summary) -> None:
        from ._scorecard import render_scorecard

        render_scorecard(self.stream, summary, self.worst, self.reasons, color=self.color)


@hookimpl
def rulecore_register_writers(register: Callable[[Writer], None]) -> None:
    register(Writer("table", _("a scorecard for the terminal (the default)"), TableSink))
    register(
        Writer("json", _("one JSON document, described by the published report schema"), JsonSink)
    )
    register(
        Writer(
            "jsonl",
            _("JSON lines: one finding or rejection per line, the summary last"),
            JsonLinesSink,
        )
    )
    register(Writer("csv", _("one row per finding, for spreadsheets"), CsvSink))
