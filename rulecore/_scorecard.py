"""The terminal scorecard, drawn with rich."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ._findings import Finding
from ._i18n import N_, _, dimension_label, outcome_label
from ._occurrences import scorecard_lines
from ._summary import STRONG_AT, Counts, Summary

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


#: The count columns of every compliance table, translated where they are drawn.
COUNT_COLUMNS = (
    N_("compliance"),
    N_("in tolerance"),
    N_("pass"),
    N_("warn"),
    N_("fail"),
    N_("n/a"),
    N_("error"),
    N_("waived"),
)
#: Group names that are rulecore's own words, not a record's value.
GROUP_NAMES = {"(all)": N_("(all)"), "(none)": N_("(none)")}
SERVICE_LEVEL_COLUMNS = (
    N_("standard"),
    N_("rule"),
    N_("group"),
    N_("target"),
    N_("actual"),
    N_("judged"),
    N_("met"),
)

SERVICE_TYPE_COLUMNS = (N_("group"), N_("procedural"), N_("personal"), N_("service type"))
#: Martin's four service types, as the summary names them, and how the scorecard shows them.
SERVICE_TYPE_NAMES = {
    "quality": (N_("quality"), "green"),
    "factory": (N_("factory"), "yellow"),
    "friendly zoo": (N_("friendly zoo"), "yellow"),
    "freezer": (N_("freezer"), "red"),
}


def _table(title: str, first: Sequence[str]) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    for name in first:
        table.add_column(name, overflow="fold")
    for name in COUNT_COLUMNS:
        label = _(name)
        # Numbers never shrink; on a narrow screen the ids wrap instead.
        table.add_column(label, justify="right", no_wrap=True, min_width=cell_len(label))
    return table


def _service_level_table(summary: Summary) -> Table:
    table = Table(title=_("Service levels"), title_justify="left")
    for name in SERVICE_LEVEL_COLUMNS:
        table.add_column(_(name), justify="right" if name in ("actual", "judged") else "left")
    for level in summary.service_levels:
        met = level["met"]
        verdict = (
            Text("—", style="dim")
            if met is None
            else Text(_("yes"), style="green")
            if met
            else Text(_("no"), style="red")
        )
        group = (
            _(GROUP_NAMES.get(level["group"], level["group"]))
            if level["by"] is None
            else f"{level['by']}={level['group']}"
        )
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


def _service_type_table(summary: Summary) -> Table | None:
    """Martin's quadrant per group: only when the audit is grouped and both sides were judged."""
    placed = summary.service_types
    if not any(entry["by"] is not None for entry in placed):
        return None
    table = Table(
        title=_("Service types (a side is strong at {share} or more)").format(
            share=f"{STRONG_AT:.0%}"
        ),
        title_justify="left",
    )
    for name in SERVICE_TYPE_COLUMNS:
        table.add_column(_(name), justify="left" if name in ("group", "service type") else "right")
    # The groups first, the whole audit last, as "all" closes the table of dimensions.
    for entry in sorted(placed, key=lambda entry: entry["by"] is None):
        group = (
            _(GROUP_NAMES.get(entry["group"], entry["group"]))
            if entry["by"] is None
            else f"{entry['by']}={entry['group']}"
        )
        name, style = SERVICE_TYPE_NAMES[entry["type"]]
        table.add_row(
            group,
            _share(entry["procedural"]),
            _share(entry["personal"]),
            Text(_(name), style=style),
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
        _(
            "[bold]rulecore audit[/bold]: {read} records read, {evaluated} evaluated, "
            "{rejected} rejected"
        ).format(
            read=summary.read,
            evaluated=summary.evaluated,
            rejected=summary.rejected,
        )
        + (_(", as of {moment}").format(moment=summary.as_of.isoformat()) if summary.as_of else "")
    )
    dimensions = _table(_("Compliance by dimension"), [_("dimension")])
    for name, counts in summary.dimensions:
        dimensions.add_row(dimension_label(name), *_counts_row(counts))
    dimensions.add_row(Text(_("all"), style="bold"), *_counts_row(summary.outcomes))
    console.print(dimensions)

    rules = _table(_("Compliance by rule"), [_("standard"), _("rule")])
    for rule in summary.rules:
        rules.add_row(rule.standard, rule.rule, *_counts_row(rule.counts))
    console.print(rules)

    if summary.service_levels:
        console.print(_service_level_table(summary))
    for attribute in sorted({breakdown.by for breakdown in summary.breakdowns}):
        table = _table(_("Compliance by {attribute}").format(attribute=attribute), [attribute])
        for breakdown in summary.breakdowns:
            if breakdown.by == attribute:
                table.add_row(breakdown.value, *_counts_row(breakdown.counts))
        console.print(table)
    service_types = _service_type_table(summary)
    if service_types is not None:
        console.print(service_types)

    if summary.baseline is not None:
        base = summary.baseline
        console.print(
            _(
                "Against the baseline {source}: {new} new, {persisting} persisting, "
                "{resolved} resolved"
            ).format(
                source=base["source"],
                new=base["new"],
                persisting=base["persisting"],
                resolved=base["resolved"],
            ),
            markup=False,
        )
    if summary.waivers is not None:
        waived = summary.waivers
        console.print(
            _(
                "Waivers: {used} of {in_force} in force applied, {expired} expired, {unused} unused"
            ).format(
                used=waived["used"],
                in_force=waived["in_force"],
                expired=len(waived["expired"]),
                unused=len(waived["unused"]),
            ),
            markup=False,
        )
        for expired in waived["expired"]:
            console.print(
                _("  expired {expires}: {source} ({reason})").format(
                    expires=expired["expires"], source=expired["source"], reason=expired["reason"]
                ),
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
        console.print(Text(_("First failures to look at"), style="bold"))
        # A grid, so that a long message wraps under itself rather than under the record id.
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column()
        for finding in worst:
            grid.add_row(
                f"  {outcome_label(finding.outcome, upper=True)}",
                finding.record,
                f"{finding.standard}/{finding.rule}",
                Text(finding.message),
            )
        console.print(grid)
    if rejection_reasons:
        console.print(Text(_("Rejected input"), style="bold"))
        for reason, count in sorted(rejection_reasons.items()):
            console.print(f"  {count:6}  {reason}", markup=False)
