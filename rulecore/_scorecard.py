"""The terminal scorecard, drawn with rich."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ._findings import Finding
from ._i18n import _
from ._occurrences import scorecard_lines
from ._summary import Counts, Summary

#: How a shell reports a process ended by a closed pipe (128 + SIGPIPE).
CLOSED_PIPE_EXIT = 141


class ReportConsole(Console):
    """A rich console whose closed pipe (``| head``) exits 141, not 1.

    Exit 1 means "findings at the --fail-on level" to a CI gate; a reader that stopped
    reading is not that.
    """

    def on_broken_pipe(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(CLOSED_PIPE_EXIT)


def _share(value: float | None) -> Text:
    if value is None:
        return Text("—", style="dim")
    style = "green" if value >= 0.9 else "yellow" if value >= 0.75 else "red"
    return Text(f"{value:.1%}", style=style)


def _counts_row(counts: Counts) -> list[Text | str]:
    return [
        _share(counts.compliance),
        _share(counts.within_tolerance),
        str(counts.passed),
        str(counts.warned),
        str(counts.failed),
        str(counts.not_applicable),
        str(counts.errors),
        str(counts.waived),
    ]


def _table(title: str, first: Sequence[str]) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    for name in first:
        table.add_column(name, overflow="fold")
    for name in ("compliance", "in tolerance", "pass", "warn", "fail", "n/a", "error", "waived"):
        # Numbers never shrink; on a narrow screen the ids wrap instead.
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    return table


def _service_level_table(summary: Summary) -> Table:
    table = Table(title="Service levels", title_justify="left")
    for name in ("standard", "rule", "group", "target", "actual", "judged", "met"):
        table.add_column(name, justify="right" if name in ("actual", "judged") else "left")
    for level in summary.service_levels:
        met = level["met"]
        verdict = (
            Text("—", style="dim")
            if met is None
            else Text("yes", style="green")
            if met
            else Text("no", style="red")
        )
        group = level["group"] if level["by"] is None else f"{level['by']}={level['group']}"
        table.add_row(
            level["standard"],
            level["rule"],
            group,
            level["expected"],
            level["actual_text"],
            str(level["judged"]),
            verdict,
        )
    return table


def render_scorecard(
    stream: IO[str],
    summary: Summary,
    worst: Sequence[Finding],
    rejection_reasons: Mapping[str, int],
    *,
    color: bool,
) -> None:
    console = ReportConsole(
        file=stream,
        width=None if color else 132,
        force_terminal=color,
        no_color=not color,
        highlight=False,
    )
    console.print(
        f"[bold]rulecore audit[/bold]: {summary.read} records read, {summary.evaluated} evaluated, "
        f"{summary.rejected} rejected"
        + (f", as of {summary.as_of.isoformat()}" if summary.as_of else "")
    )
    dimensions = _table("Compliance by dimension", ["dimension"])
    for name, counts in summary.dimensions:
        dimensions.add_row(name, *_counts_row(counts))
    dimensions.add_row(Text("all", style="bold"), *_counts_row(summary.outcomes))
    console.print(dimensions)

    rules = _table("Compliance by rule", ["standard", "rule"])
    for rule in summary.rules:
        rules.add_row(rule.standard, rule.rule, *_counts_row(rule.counts))
    console.print(rules)

    if summary.service_levels:
        console.print(_service_level_table(summary))
    for attribute in sorted({breakdown.by for breakdown in summary.breakdowns}):
        table = _table(f"Compliance by {attribute}", [attribute])
        for breakdown in summary.breakdowns:
            if breakdown.by == attribute:
                table.add_row(breakdown.value, *_counts_row(breakdown.counts))
        console.print(table)

    if summary.baseline is not None:
        base = summary.baseline
        console.print(
            f"Against the baseline {base['source']}: {base['new']} new, "
            f"{base['persisting']} persisting, {base['resolved']} resolved",
            markup=False,
        )
    if summary.waivers is not None:
        waived = summary.waivers
        console.print(
            f"Waivers: {waived['used']} of {waived['in_force']} in force applied, "
            f"{len(waived['expired'])} expired, {len(waived['unused'])} unused",
            markup=False,
        )
        for expired in waived["expired"]:
            console.print(
                f"  expired {expired['expires']}: {expired['source']} ({expired['reason']})",
                markup=False,
            )
    if summary.never_occurred:
        console.print(Text(_("Named by the standards, never in the records"), style="bold"))
        named = Table.grid(padding=(0, 1))
        named.add_column(no_wrap=True)
        named.add_column()
        for value, where in scorecard_lines(summary.never_occurred):
            named.add_row(Text(f"  {value}"), Text(where))
        console.print(named)
    if worst:
        console.print(Text("First failures to look at", style="bold"))
        # A grid, so that a long message wraps under itself rather than under the record id.
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column()
        for finding in worst:
            grid.add_row(
                f"  {finding.outcome.upper()}",
                finding.record,
                f"{finding.standard}/{finding.rule}",
                Text(finding.message),
            )
        console.print(grid)
    if rejection_reasons:
        console.print(Text("Rejected input", style="bold"))
        for reason, count in sorted(rejection_reasons.items()):
            console.print(f"  {count:6}  {reason}", markup=False)
