"""The HTML report: one self-contained file with charts and drill-down, that works offline.

Tables and drill-down are rendered on the server side with Jinja2, so the report reads (and
prints) without JavaScript; the charts are drawn by Chart.js, which is inlined from the copy
shipped in this package, so nothing is fetched from a network.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import IO, Any

import jinja2

import rulecore
from rulecore import Finding, Rejection, Summary

from ._collect import FindingsByRule

PERIOD_GROUPS = ("@day", "@week", "@month")
REJECTIONS_LISTED = 100


class HtmlSink:
    """Collects a bounded drill-down while the audit streams, then renders the page."""

    def __init__(self, stream: IO[str], options: Mapping[str, Any]) -> None:
        self.stream = stream
        self.options = options
        self.findings = FindingsByRule()
        self.rejections: list[Rejection] = []
        self.rejected = 0

    def finding(self, finding: Finding) -> None:
        self.findings.add(finding)

    def rejection(self, rejection: Rejection) -> None:
        self.rejected += 1
        if len(self.rejections) < REJECTIONS_LISTED:
            self.rejections.append(rejection)

    def close(self, summary: Summary) -> None:
        self.stream.write(render(summary, self.findings, self.rejections, self.options))


def render(
    summary: Summary,
    findings: FindingsByRule,
    rejections: list[Rejection],
    options: Mapping[str, Any],
) -> str:
    """The whole report as one HTML document."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("rulecore_reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters["share"] = _share
    environment.filters["value"] = _value
    template = environment.get_template("report.html.j2")
    history = _history(options.get("history"))
    return template.render(
        title=options.get("title") or "rulecore audit",
        version=rulecore.__version__,
        summary=summary,
        rules=[
            (rule, findings.of(rule.standard, rule.rule), findings.count(rule.standard, rule.rule))
            for rule in summary.rules
        ],
        rejections=rejections,
        chart_data=_script_json(chart_data(summary, history)),
        chart_js=_chart_js(),
        all_outcomes=bool(options.get("all_outcomes")),
    )


def chart_data(summary: Summary, history: list[dict[str, Any]]) -> dict[str, Any]:
    """What the charts draw, as plain data (also what the tests read back)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for breakdown in summary.breakdowns:
        groups.setdefault(breakdown.by, []).append(
            {
                "group": breakdown.value,
                "compliance": breakdown.counts.compliance,
                "within_tolerance": breakdown.counts.within_tolerance,
                "judged": breakdown.counts.judged,
            }
        )
    return {
        "dimensions": [
            {
                "dimension": name,
                "compliance": counts.compliance,
                "within_tolerance": counts.within_tolerance,
            }
            for name, counts in summary.dimensions
        ],
        "groups": {by: rows for by, rows in groups.items() if by not in PERIOD_GROUPS},
        "periods": {by: rows for by, rows in groups.items() if by in PERIOD_GROUPS},
        "quadrant": list(summary.service_types),
        "history": history,
    }


def _history(path: Any) -> list[dict[str, Any]]:
    if not path:
        return []
    from rulecore._history import SqliteHistory

    return [entry.as_dict() for entry in SqliteHistory(Path(path)).entries()]


def _script_json(data: Any) -> str:
    # Inside <script>, "</" would end the element early; JSON allows "<\/" for it.
    return json.dumps(data, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")


def _chart_js() -> str:
    return (
        resources.files("rulecore_reports").joinpath("static/chart.umd.min.js").read_text("utf-8")
    )


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _value(finding: Finding) -> str:
    data = finding.to_dict()
    text = data["measured_text"]
    return "—" if text is None else str(text)
