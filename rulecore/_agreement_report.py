"""How ``rulecore agree`` shows an agreement: a terminal table, JSON, or an HTML page."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from . import __version__
from ._agreement import CATEGORIES, WHOLE_RECORD, landis_koch
from ._i18n import N_, _, outcome_label

if TYPE_CHECKING:
    from rich.table import Table

    from ._history import AgreementEntry

#: Disagreements listed in the terminal table; the JSON and HTML list every one.
SHOWN_DISAGREEMENTS = 20
#: Below this many verdicts the large-sample interval is too narrow to trust (docs/agreement.md).
FEW_VERDICTS = 30


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


#: Landis and Koch's names, as the terminal speaks them (the JSON keeps them in English).
_STRENGTH = {
    "undefined": N_("undefined"),
    "poor": N_("poor"),
    "slight": N_("slight"),
    "fair": N_("fair"),
    "moderate": N_("moderate"),
    "substantial": N_("substantial"),
    "almost perfect": N_("almost perfect"),
}


def _strength(kappa: float | None) -> str:
    band = landis_koch(kappa)
    return _(_STRENGTH[band]) if band in _STRENGTH else band


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
            band=_strength(overall["kappa"]),
            interval=_interval(overall),
        )
    )
    rules = Table(title=_("Agreement by rule"), title_justify="left")
    for name, justify in (
        (_("rule"), "left"),
        (_("compared"), "right"),
        (_("agreement"), "right"),
        ("kappa", "right"),
        (_("{level} interval").format(level="95%"), "right"),
        (_("strength"), "left"),
    ):
        rules.add_column(name, justify=justify)  # type: ignore[arg-type]
    for rule in [*data["rules"], {**overall, "rule": _("all")}]:
        rules.add_row(
            rule["rule"] or WHOLE_RECORD,
            str(rule["compared"]),
            _share(rule["agreement"]),
            _kappa(rule["kappa"]),
            _interval(rule),
            _strength(rule["kappa"]),
        )
    console.print(rules)
    confusion = Table(title=_("Audit against reviewers"), title_justify="left")
    confusion.add_column(_("audit ↓ reviewer →"))
    for category in CATEGORIES:
        confusion.add_column(outcome_label(category), justify="right")
    for engine in CATEGORIES:
        confusion.add_row(
            outcome_label(engine), *(str(overall["confusion"][engine][r]) for r in CATEGORIES)
        )
    console.print(confusion)
    _print_disagreements(console, data)
    if data["skipped"]:
        console.print(_("Not compared: {count}").format(count=len(data["skipped"])))
        for item in data["skipped"]:
            console.print(
                f"  {item['source']} {item['record']} {item['rule'] or WHOLE_RECORD}: "
                f"{item['reason']}",
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
        rule = item["rule"] or WHOLE_RECORD
        said = _("audit {audit}, reviewer {verdict}").format(
            audit=outcome_label(item["engine"]), verdict=outcome_label(item["verdict"])
        )
        console.print(
            f"  {item['record']} {rule}: {said}"
            + (f" ({item['reviewer']})" if item["reviewer"] else "")
            + f"  [{item['source']}]",
            markup=False,
        )
        if item["notes"]:
            notes = _("notes: {notes}").format(notes=item["notes"])
            console.print(f"      {notes}", markup=False)
        for finding in item["findings"]:
            prefix = "" if item["rule"] else f"{finding['rule']} {finding['outcome']}: "
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
        share=_share, kappa=_kappa, interval=_interval, band=landis_koch, evidence=evidence_line
    )
    return environment.get_template("agreement.html.j2").render(
        title=title or _("Agreement with reviewers"),
        version=__version__,
        data=data,
        overall=data["overall"],
        whole_record=WHOLE_RECORD,
        few=FEW_VERDICTS,
        few_note=few_note(),
    )


def history_table(entries: Sequence[AgreementEntry], store: Path) -> Table:
    """The recorded agreements, oldest first, as ``rulecore history --agreement`` shows them."""
    from rich.table import Table

    table = Table(title=_("Agreement history ({store})").format(store=store), title_justify="left")
    for column in ("id", "recorded", "label", "compared", "agreement", "kappa", "95% interval"):
        table.add_column(column)
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
