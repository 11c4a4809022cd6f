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
from markupsafe import Markup

import rulecore
from rulecore import Finding, Rejection, Summary
from rulecore._scorecard import GROUP_NAMES
from rulecore.i18n import N_, _, dimension_label, evidence_label, language, outcome_label

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
    environment.filters["dimension"] = dimension_label
    environment.filters["outcome"] = outcome_label
    environment.filters["evidence_kind"] = lambda kind: _word(EVIDENCE_KINDS, kind)
    environment.filters["evidence_label"] = evidence_label
    environment.filters["group_name"] = lambda group: _word(GROUP_NAMES, group)
    environment.filters["baseline_state"] = lambda state: _word(BASELINE_STATES, state)
    template = environment.get_template("report.html.j2")
    history = _history(options.get("history"))
    return template.render(
        _=_markup_text,
        code=_code,
        html_lang="zh-Hans" if language() == "zh" else "en",
        titles={standard.standard: standard.title for standard in summary.standards},
        chart_text=_script_json(chart_text()),
        title=options.get("title") or _("rulecore audit"),
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


EVIDENCE_KINDS = {"event": N_("event"), "segment": N_("segment"), "note": N_("note")}
BASELINE_STATES = {"new": N_("new"), "persisting": N_("persisting")}
SERVICE_TYPES = {
    "freezer": N_("freezer"),
    "factory": N_("factory"),
    "friendly zoo": N_("friendly zoo"),
    "quality": N_("quality"),
}
PERIODS = {"day": N_("day"), "week": N_("week"), "month": N_("month")}


def chart_text() -> dict[str, Any]:
    """The words the charts draw, in the report's language."""
    from rulecore.i18n import DIMENSIONS

    return {
        "compliance": _("Compliance"),
        "within_tolerance": _("Within tolerance"),
        "compliance_by": _("Compliance by {by}"),
        "over_past_audits": _("Compliance over past audits"),
        "audit_n": _("audit {id}"),
        "quadrant": _("Procedural (x) against personal (y) compliance"),
        "procedural": _("procedural"),
        "personal": _("personal"),
        "types": {name: _(label) for name, label in SERVICE_TYPES.items()},
        "periods": {name: _(label) for name, label in PERIODS.items()},
        "dimensions": {name: _(name) for name in DIMENSIONS},
    }


def _word(words: Mapping[str, str], value: str) -> str:
    """``value`` translated when it is one of rulecore's own ``words``, else as it is."""
    return _(words[value]) if value in words else value


def _markup_text(message: str) -> Markup:
    """A template's text in the report's language, as markup: ``.format()`` then escapes
    what it is given, except the markup :func:`_code` makes."""
    return Markup.escape(_(message))


def _code(text: str) -> Markup:
    return Markup("<code>{}</code>").format(text)


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
