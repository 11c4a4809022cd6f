"""How ``rulecore agree`` shows an agreement: a terminal table, JSON, or an HTML page."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from . import __version__
from ._agreement import CATEGORIES, strength_label, whole_record_label
from ._i18n import N_, _, language, outcome_label

if TYPE_CHECKING:
    from rich.table import Table

    from ._history import AgreementEntry

#: Disagreements listed in the terminal table; the JSON and HTML list every one.
SHOWN_DISAGREEMENTS = 20
#: Below this many verdicts the large-sample interval is too narrow to trust (docs/agreement.md).
FEW_VERDICTS = 30
#: The columns of the table of agreement by rule, translated where they are drawn.
RULE_COLUMNS = (
    (N_("rule"), "left"),
    (N_("compared"), "right"),
    (N_("agreement"), "right"),
    (N_("kappa"), "right"),
    (N_("95% interval"), "right"),
    (N_("strength"), "left"),
)
HISTORY_COLUMNS = (
    N_("id"),
    N_("recorded"),
    N_("label"),
    N_("compared"),
    N_("agreement"),
    N_("kappa"),
    N_("95% interval"),
)


def few_note() -> str:
    return _(
        "† fewer than {few} verdicts: the large-sample interval is too narrow to trust; "
        "review more records"
    ).format(few=FEW_VERDICTS)


def write_json(stream: IO[str], data: Mapping[str, Any]) -> None:
    stream.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def evidence_line(piece: Mapping[str, Any]) -> str:
    """One piece of a finding's evidence (as the report writes it) on one line."""
    when = piece.get("at") or ""
    if piece.get("until"):
        when = f"{when} → {piece['until']}"
    text = str(piece.get("label", ""))
    if when:
        text += f" {when}"
    if piece.get("detail"):
        text += f": {piece['detail']}"
    return text


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _kappa(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _interval(stats: Mapping[str, Any]) -> str:
    """The interval, marked † when too few verdicts stand behind it to trust it."""
    if stats.get("kappa_low") is None:
        return "—"
    mark = "†" if stats["compared"] < FEW_VERDICTS else ""
    return f"{stats['kappa_low']:.2f} – {stats['kappa_high']:.2f}{mark}"


def write_table(stream: IO[str], data: Mapping[str, Any], color: bool = False) -> None:
    """The agreement for a terminal: by rule, the confusion matrix, the disagreements."""
    from rich.table import Table

    from ._scorecard import ReportConsole

    console = ReportConsole(
        file=stream,
        width=None if color else 132,
        force_terminal=color,
        no_color=not color,
        highlight=False,
    )
    overall = data["overall"]
    console.print(
        _(
            "[bold]rulecore agree[/bold]: {compared} verdicts compared, {agreed} agree "
            "({agreement}); kappa {kappa} ({band}), 95% interval {interval}"
        ).format(
            compared=overall["compared"],
            agreed=overall["agreed"],
            agreement=_share(overall["agreement"]),
            kappa=_kappa(overall["kappa"]),
            band=strength_label(overall["kappa"]),
            interval=_interval(overall),
        )
    )
    rules = Table(title=_("Agreement by rule"), title_justify="left")
    for name, justify in RULE_COLUMNS:
        rules.add_column(_(name), justify=justify)  # type: ignore[arg-type]
    for rule in [*data["rules"], {**overall, "rule": _("all")}]:
        rules.add_row(
            rule["rule"] or whole_record_label(),
            str(rule["compared"]),
            _share(rule["agreement"]),
            _kappa(rule["kappa"]),
            _interval(rule),
            strength_label(rule["kappa"]),
        )
    console.print(rules)
    confusion = Table(title=_("Audit against reviewers"), title_justify="left")
    confusion.add_column(_("audit ↓ reviewer →"))
    for category in CATEGORIES:
        confusion.add_column(outcome_label(category), justify="right")
    for engine in CATEGORIES:
        counts = overall["confusion"][engine]
        confusion.add_row(outcome_label(engine), *(str(counts[r]) for r in CATEGORIES))
    console.print(confusion)
    _print_disagreements(console, data)
    if data["skipped"]:
        console.print(_("Not compared: {count}").format(count=len(data["skipped"])))
        for item in data["skipped"]:
            console.print(
                _("  {source} {record} {rule}: {reason}").format(
                    source=item["source"],
                    record=item["record"],
                    rule=item["rule"] or whole_record_label(),
                    reason=item["reason"],
                ),
                markup=False,
            )
    if any(rule["compared"] < FEW_VERDICTS for rule in [*data["rules"], overall]):
        console.print(few_note())
    if data["unreviewed"]:
        console.print(_("{count} rows have no verdict yet").format(count=data["unreviewed"]))


def _print_disagreements(console: Any, data: Mapping[str, Any]) -> None:
    disagreements = data["disagreements"]
    if not disagreements:
        console.print(_("No disagreements."))
        return
    console.print(_("Disagreements: {count}").format(count=len(disagreements)))
    for item in disagreements[:SHOWN_DISAGREEMENTS]:
        console.print(
            _("  {record} {rule}: audit {engine}, reviewer {verdict}").format(
                record=item["record"],
                rule=item["rule"] or whole_record_label(),
                engine=outcome_label(item["engine"]),
                verdict=outcome_label(item["verdict"]),
            )
            + (f" ({item['reviewer']})" if item["reviewer"] else "")
            + f"  [{item['source']}]",
            markup=False,
        )
        if item["notes"]:
            console.print(_("      notes: {notes}").format(notes=item["notes"]), markup=False)
        for finding in item["findings"]:
            prefix = (
                ""
                if item["rule"]
                else _("{rule} {outcome}: ").format(
                    rule=finding["rule"], outcome=outcome_label(finding["outcome"])
                )
            )
            console.print(f"      {prefix}{finding['message']}", markup=False)
    hidden = len(disagreements) - SHOWN_DISAGREEMENTS
    if hidden > 0:
        console.print(
            _("  ... and {count} more; --format json or html lists them all").format(count=hidden)
        )


def render_html(data: Mapping[str, Any], title: str | None = None) -> str:
    """The agreement as one self-contained HTML page (no script, nothing fetched)."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("rulecore", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters.update(
        share=_share,
        kappa=_kappa,
        interval=_interval,
        band=strength_label,
        evidence=evidence_line,
        outcome=outcome_label,
    )
    return environment.get_template("agreement.html.j2").render(
        _=_,
        html_lang="zh-Hans" if language() == "zh" else "en",
        title=title or _("Agreement with reviewers"),
        version=__version__,
        data=data,
        overall=data["overall"],
        whole_record=whole_record_label(),
        few=FEW_VERDICTS,
        few_note=few_note(),
    )


def history_table(entries: Sequence[AgreementEntry], store: Path) -> Table:
    """The recorded agreements, oldest first, as ``rulecore history --agreement`` shows them."""
    from rich.table import Table

    table = Table(title=_("Agreement history ({store})").format(store=store), title_justify="left")
    for column in HISTORY_COLUMNS:
        table.add_column(_(column))
    for entry in entries:
        table.add_row(
            str(entry.id),
            entry.recorded_at,
            entry.label,
            str(entry.compared),
            _share(entry.agreement),
            _kappa(entry.kappa),
            _interval(
                {
                    "compared": entry.compared,
                    "kappa_low": entry.kappa_low,
                    "kappa_high": entry.kappa_high,
                }
            ),
        )
    return table
