"""How far human reviewers agree with the audit: percent agreement and Cohen's kappa.

Reviewers fill in the ``verdict`` column of the queue that ``rulecore sample`` writes (pass,
warn or fail); each verdict is paired with the outcome the audit's JSON report gives the same
record (or the same record and rule), and the pairs are counted per rule and overall.

Kappa's confidence interval is the large-sample one of Fleiss, Cohen and Everitt (1969),
"Large sample standard errors of kappa and weighted kappa", Psychological Bulletin 72(5):
κ ± z·SE, with the standard error that does not assume κ = 0.  See docs/agreement.md.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import msgspec

from . import __version__
from ._i18n import N_, _
from ._yaml import Location, SourceError

#: The verdicts a reviewer may give, in order of severity: the categories kappa is over.
CATEGORIES = ("pass", "warn", "fail")
#: The two-sided normal quantile of a 95% interval.
Z_95 = 1.959963984540054
CI_METHOD = "fleiss-cohen-everitt-1969"
AGREEMENT_SCHEMA_ID = "https://rulecore.dev/schemas/agreement.schema.json"
#: How the verdict on a whole record (a row without a rule) is named in tables and history.
WHOLE_RECORD = N_("(whole record)")


# ---------------------------------------------------------------------------------------------
# the statistics
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KappaStats:
    """Agreement between two raters over the pass/warn/fail categories.

    ``confusion[i][j]`` counts the pairs the audit rated ``CATEGORIES[i]`` and the reviewer
    ``CATEGORIES[j]``.  ``kappa`` is ``None`` when it is undefined: both raters used one and
    the same category for everything, so chance agreement is already 1.
    """

    confusion: tuple[tuple[int, ...], ...]
    kappa: float | None
    standard_error: float | None

    @property
    def compared(self) -> int:
        return sum(map(sum, self.confusion))

    @property
    def agreed(self) -> int:
        return sum(self.confusion[i][i] for i in range(len(self.confusion)))

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.compared if self.compared else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% confidence interval of kappa, clipped to [-1, 1]."""
        if self.kappa is None or self.standard_error is None:
            return None
        half = Z_95 * self.standard_error
        return max(-1.0, self.kappa - half), min(1.0, self.kappa + half)

    def as_dict(self) -> dict[str, Any]:
        interval = self.interval
        return {
            "compared": self.compared,
            "agreed": self.agreed,
            "agreement": _rounded(self.agreement),
            "kappa": _rounded(self.kappa),
            "standard_error": _rounded(self.standard_error),
            "kappa_low": _rounded(interval[0]) if interval else None,
            "kappa_high": _rounded(interval[1]) if interval else None,
            "confusion": {
                engine: dict(zip(CATEGORIES, row, strict=True))
                for engine, row in zip(CATEGORIES, self.confusion, strict=True)
            },
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def confusion_matrix(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[int, ...], ...]:
    """Count (engine, reviewer) pairs into a matrix over :data:`CATEGORIES`."""
    index = {name: position for position, name in enumerate(CATEGORIES)}
    counts = [[0] * len(CATEGORIES) for _category in CATEGORIES]
    for engine, reviewer in pairs:
        counts[index[engine]][index[reviewer]] += 1
    return tuple(map(tuple, counts))


def kappa_stats(confusion: Sequence[Sequence[int]]) -> KappaStats:
    """Cohen's kappa of a confusion matrix, with its large-sample standard error."""
    frozen = tuple(tuple(row) for row in confusion)
    kappa, error = kappa_and_standard_error(frozen)
    return KappaStats(frozen, kappa, error)


def kappa_and_standard_error(
    counts: Sequence[Sequence[float]],
) -> tuple[float | None, float | None]:
    """Cohen's kappa and its standard error (``None, None`` when kappa is undefined).

    The variance is equation (13) of Fleiss, Cohen and Everitt (1969), with the observed
    proportions ``p`` in place of the true ones::

        var = ( Σi pii [1 − (pi· + p·i)(1 − κ)]²
              + (1 − κ)² Σi≠j pij (p·i + pj·)²
              − [κ − pe (1 − κ)]² ) / (n (1 − pe)²)

    Counts need not be whole: expected counts give the expected standard error.
    """
    n = sum(map(sum, counts))
    if n <= 0:
        return None, None
    size = len(counts)
    p = [[cell / n for cell in row] for row in counts]
    rows = [sum(row) for row in p]
    columns = [sum(p[i][j] for i in range(size)) for j in range(size)]
    observed = sum(p[i][i] for i in range(size))
    chance = sum(rows[i] * columns[i] for i in range(size))
    if math.isclose(chance, 1.0, rel_tol=0.0, abs_tol=1e-12):
        return None, None  # one category only, for both: no agreement beyond chance to measure
    kappa = (observed - chance) / (1.0 - chance)
    diagonal = sum(
        p[i][i] * (1.0 - (rows[i] + columns[i]) * (1.0 - kappa)) ** 2 for i in range(size)
    )
    off_diagonal = (1.0 - kappa) ** 2 * sum(
        p[i][j] * (columns[i] + rows[j]) ** 2 for i in range(size) for j in range(size) if i != j
    )
    correction = (kappa - chance * (1.0 - kappa)) ** 2
    variance = (diagonal + off_diagonal - correction) / (n * (1.0 - chance) ** 2)
    return kappa, math.sqrt(max(0.0, variance))


def cohen_kappa(engine: Sequence[str], reviewer: Sequence[str]) -> float | None:
    """Cohen's kappa of two equally long sequences of verdicts (``None`` when undefined)."""
    return kappa_stats(confusion_matrix(zip(engine, reviewer, strict=True))).kappa


def expected_interval_width(kappa: float, n: int, prevalence: Sequence[float]) -> float:
    """The width of kappa's 95% interval expected from ``n`` reviewed verdicts.

    Both raters are taken to use the categories with the shares ``prevalence`` and to agree
    beyond chance by ``kappa``: ``pij = (1 − κ) pi pj + κ pi [i = j]``, whose kappa is exactly
    ``kappa``.  The standard error is the Fleiss, Cohen and Everitt one at those proportions.
    """
    size = len(prevalence)
    cells = [
        [
            n * (1.0 - kappa) * prevalence[i] * prevalence[j]
            + (n * kappa * prevalence[i] if i == j else 0.0)
            for j in range(size)
        ]
        for i in range(size)
    ]
    _kappa, error = kappa_and_standard_error(cells)
    assert error is not None
    return min(1.0, kappa + Z_95 * error) - max(-1.0, kappa - Z_95 * error)


#: The shares of pass, warn and fail that :func:`interval_width_table` assumes: those of the
#: judged outcomes in the audit of ``examples/records`` (5505, 620 and 672 of 6797).
TYPICAL_PREVALENCE = (0.81, 0.09, 0.10)


def interval_width_table(
    kappas: Sequence[float] = (0.4, 0.6, 0.8, 0.9),
    sizes: Sequence[int] = (25, 50, 100, 200, 400, 800),
    prevalence: Sequence[float] = TYPICAL_PREVALENCE,
) -> str:
    """A Markdown table of the expected interval width by sample size and kappa."""
    lines = [
        "| reviewed | " + " | ".join(f"κ = {kappa:.1f}" for kappa in kappas) + " |",
        "|---:|" + "---:|" * len(kappas),
    ]
    for n in sizes:
        widths = (expected_interval_width(kappa, n, prevalence) for kappa in kappas)
        lines.append(f"| {n} | " + " | ".join(f"{width:.2f}" for width in widths) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# the reviewed file
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Review:
    """One row of a reviewed sample: a reviewer's verdict on a record, or on one of its rules."""

    location: Location
    record: str
    rule: str | None  #: ``standard/rule``, or ``None`` for the record as a whole
    verdict: str  #: one of :data:`CATEGORIES`, or ``""`` when not yet reviewed
    reviewer: str = ""
    notes: str = ""


def load_reviews(path: Path) -> list[Review]:
    """Read a reviewed sample (CSV, or JSON lines by its ``.jsonl`` suffix).

    Raises :class:`SourceError`, located, for a file that cannot be read, an empty file, a
    row without a record, an unknown verdict, or a file in which nothing has a verdict yet.
    """
    where = Location(str(path), 1, 1)
    if path.suffix.lower() in (".xlsx", ".xls", ".ods"):
        raise SourceError(
            where,
            _("a spreadsheet cannot be read here; save it as CSV (comma-separated) first"),
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SourceError(where, _("no such file")) from None
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(
            where, _("cannot read this reviewed file: {why}").format(why=error)
        ) from None
    if not text.strip():
        raise SourceError(
            where,
            _("the reviewed file is empty; fill in the sample that rulecore sample writes"),
        )
    jsonl = path.suffix.lower() in (".jsonl", ".ndjson")
    rows = _jsonl_rows(str(path), text) if jsonl else _csv_rows(str(path), text)
    reviews = [_review(location, row) for location, row in rows]
    if not reviews:
        raise SourceError(where, _("the reviewed file has a header but no rows"))
    if not any(review.verdict for review in reviews):
        raise SourceError(
            where,
            _("no row has a verdict yet; fill in the verdict column with {allowed}").format(
                allowed=", ".join(CATEGORIES)
            ),
        )
    return reviews


def _csv_rows(path: str, text: str) -> Iterator[tuple[Location, dict[str, str]]]:
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines)
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as error:
        raise SourceError(Location(path, 1, 1), str(error)) from None
    for column in ("record", "verdict"):
        if column not in header:
            raise SourceError(
                Location(path, 1, 1),
                _("the reviewed file has no {column!r} column; its header is: {header}").format(
                    column=column, header=", ".join(header)
                ),
            )
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise SourceError(Location(path, start, 1), str(error)) from None
        location = Location(path, start, 1)
        start = reader.line_num + 1
        if not any(value.strip() for value in values):
            continue
        yield location, dict(zip(header, values, strict=False))


def _jsonl_rows(path: str, text: str) -> Iterator[tuple[Location, dict[str, str]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        location = Location(path, number, 1)
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            raise SourceError(location, _("not valid JSON: {why}").format(why=error.msg)) from None
        if not isinstance(data, dict):
            raise SourceError(location, _("each line must be a JSON object"))
        yield (
            location,
            {str(key): "" if value is None else str(value) for key, value in data.items()},
        )


def _review(location: Location, row: Mapping[str, str]) -> Review:
    record = (row.get("record") or "").strip()
    if not record:
        raise SourceError(location, _("this row names no record"))
    verdict = (row.get("verdict") or "").strip().lower()
    if verdict and verdict not in CATEGORIES:
        raise SourceError(
            location,
            _("verdict {verdict!r} for record {record} is not one of {allowed}").format(
                verdict=row.get("verdict", "").strip(),
                record=record,
                allowed=", ".join(CATEGORIES),
            ),
        )
    rule = (row.get("rule") or "").strip() or None
    return Review(
        location,
        record,
        rule,
        verdict,
        (row.get("reviewer") or "").strip(),
        (row.get("notes") or "").strip(),
    )


# ---------------------------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportOutcomes:
    """What a JSON report says about the reviewed records: each rule's finding on each."""

    path: str
    rules: tuple[str, ...]  #: ``standard/rule``, in the report's order
    findings: Mapping[str, Mapping[str, Mapping[str, Any]]]  #: record → rule → finding


class _Glance(msgspec.Struct):
    """The two fields of a finding read before deciding to decode the rest of it."""

    record: Any = None
    outcome: Any = None
    type: str = "finding"


_glance = msgspec.json.Decoder(_Glance)


class _Found:
    """What reading a report gathers: its summary, and the findings of reviewed records."""

    def __init__(self, wanted: set[str]) -> None:
        self.wanted = wanted
        self.summary: Any = None
        self.kept: dict[str, dict[str, Mapping[str, Any]]] = {}
        self.passes_written = False
        self.any_findings = False

    def add(self, finding: Any) -> None:
        if not isinstance(finding, dict):
            return
        self.any_findings = True
        self.passes_written = self.passes_written or finding.get("outcome") == "pass"
        record = finding.get("record")
        if record in self.wanted:
            key = f"{finding.get('standard')}/{finding.get('rule')}"
            self.kept.setdefault(str(record), {})[key] = finding

    def add_line(self, line: bytes) -> None:
        """A finding on one line: decoded whole only when its record was reviewed."""
        glance = _glance.decode(line)
        if glance.type == "summary":
            self.summary = msgspec.json.decode(line)
            return
        if glance.type != "finding":
            return
        self.any_findings = True
        self.passes_written = self.passes_written or glance.outcome == "pass"
        if glance.record in self.wanted:
            self.add(msgspec.json.decode(line))


def load_report(path: Path, records: Iterable[str]) -> ReportOutcomes:
    """Read the findings of ``records`` from a report written with ``--all-outcomes``.

    The JSON report (``--format json``) or the JSON lines one (``--format jsonl``, by its
    ``.jsonl`` suffix).  Both are read a line at a time, keeping only the reviewed records'
    findings, so the report of a large audit need not fit in memory; a JSON report laid out
    other than as rulecore writes it (re-indented, say) is decoded whole instead.
    """
    where = Location(str(path), 1, 1)
    found = _Found(set(records))
    try:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            _read_json_lines(path, found)
        elif not _read_as_written(path, found):
            found = _Found(found.wanted)
            _read_whole(path, found)
    except FileNotFoundError:
        raise SourceError(where, _("no such file")) from None
    except OSError as error:
        raise SourceError(where, _("cannot read this report: {why}").format(why=error)) from None
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise SourceError(where, _("not a rulecore JSON report: {why}").format(why=error)) from None
    summary = found.summary
    if not isinstance(summary, dict) or not isinstance(summary.get("rules"), list):
        raise SourceError(
            where,
            _(
                "not a rulecore JSON report (no summary and findings); write one with "
                "rulecore audit --all-outcomes --format json"
            ),
        )
    rules = tuple(f"{rule['standard']}/{rule['rule']}" for rule in summary["rules"])
    passes_counted = (summary.get("outcomes") or {}).get("pass", 0)
    if passes_counted and not found.passes_written:
        raise SourceError(
            where,
            _(
                "this report lists no passes though its audit counted {count}: it was written "
                "without --all-outcomes, and agreement needs every outcome; write it with "
                "rulecore audit --all-outcomes --format json"
            ).format(count=passes_counted),
        )
    return ReportOutcomes(str(path), rules, found.kept)


def _read_whole(path: Path, found: _Found) -> None:
    data = msgspec.json.decode(path.read_bytes())
    findings = data.get("findings") if isinstance(data, dict) else None
    if isinstance(data, dict) and isinstance(findings, list):
        found.summary = data.get("summary")
        for finding in findings:
            found.add(finding)


def _read_json_lines(path: Path, found: _Found) -> None:
    with path.open("rb") as stream:
        for line in stream:
            if line.strip():
                found.add_line(line)
    if isinstance(found.summary, dict):
        found.summary.pop("type", None)


_FINDINGS_OPEN = b'  "findings": ['


def _read_as_written(path: Path, found: _Found) -> bool:
    """Read a JSON report laid out as rulecore's JSON writer lays it out; ``False`` if not.

    The writer puts the summary first, then ``  "findings": [`` on a line of its own, then one
    finding a line, indented by four spaces, then ``  ]``.
    """
    try:
        return _read_layout(path, found)
    except msgspec.DecodeError:
        return False  # another layout (a finding over several lines): decoded whole instead


def _read_layout(path: Path, found: _Found) -> bool:
    with path.open("rb") as stream:
        head = []
        for line in stream:
            if line.startswith(_FINDINGS_OPEN):
                break
            head.append(line)
        else:
            return False
        document = msgspec.json.decode(b"".join(head).rstrip().rstrip(b",") + b"\n}")
        if not isinstance(document, dict):
            return False
        found.summary = document.get("summary")
        if line.rstrip().rstrip(b",").endswith(b"[]"):
            return True
        for line in stream:
            if not line.startswith(b"    {"):
                return line.strip().startswith(b"]")
            found.add_line(line.rstrip().rstrip(b","))
    return False


# ---------------------------------------------------------------------------------------------
# pairing the two
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """A verdict paired with the audit's outcome, and the findings that outcome rests on."""

    review: Review
    engine: str
    findings: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Skipped:
    """A verdict that could not be compared, and why."""

    review: Review
    reason: str


@dataclass(frozen=True)
class Agreement:
    """The agreement between reviewers and the audit, per rule and overall."""

    reviewed: str
    report: str
    pairs: tuple[Pair, ...]
    skipped: tuple[Skipped, ...]
    unreviewed: int
    rule_order: tuple[str, ...]

    def overall(self) -> KappaStats:
        return kappa_stats(confusion_matrix((p.engine, p.review.verdict) for p in self.pairs))

    def by_rule(self) -> list[tuple[str | None, KappaStats]]:
        """Stats for each rule reviewed (``None``: verdicts on whole records), in report order."""
        groups: dict[str | None, list[Pair]] = {}
        for pair in self.pairs:
            groups.setdefault(pair.review.rule, []).append(pair)
        order = {rule: position for position, rule in enumerate(self.rule_order)}
        keys = sorted(groups, key=lambda rule: -1 if rule is None else order.get(rule, 0))
        return [
            (
                rule,
                kappa_stats(confusion_matrix((p.engine, p.review.verdict) for p in groups[rule])),
            )
            for rule in keys
        ]

    def disagreements(self) -> list[Pair]:
        return [pair for pair in self.pairs if pair.engine != pair.review.verdict]

    def as_dict(self) -> dict[str, Any]:
        return {
            "$schema": AGREEMENT_SCHEMA_ID,
            "rulecore": __version__,
            "reviewed": self.reviewed,
            "report": self.report,
            "categories": list(CATEGORIES),
            "interval": {"level": 0.95, "method": CI_METHOD},
            "overall": self.overall().as_dict(),
            "rules": [{"rule": rule, **stats.as_dict()} for rule, stats in self.by_rule()],
            "disagreements": [_pair_dict(pair) for pair in self.disagreements()],
            "skipped": [
                {**_review_dict(item.review), "reason": item.reason} for item in self.skipped
            ],
            "unreviewed": self.unreviewed,
        }


def _review_dict(review: Review) -> dict[str, Any]:
    return {
        "record": review.record,
        "rule": review.rule,
        "source": str(review.location),
        "reviewer": review.reviewer,
        "notes": review.notes,
    }


def _pair_dict(pair: Pair) -> dict[str, Any]:
    return {
        **_review_dict(pair.review),
        "engine": pair.engine,
        "verdict": pair.review.verdict,
        "findings": [
            {
                "rule": f"{finding.get('standard')}/{finding.get('rule')}",
                "outcome": finding.get("outcome"),
                "message": finding.get("message"),
                "evidence": list(finding.get("evidence") or []),
            }
            for finding in pair.findings
        ],
    }


def compare(reviews: Sequence[Review], report: ReportOutcomes, reviewed: str) -> Agreement:
    """Pair each verdict with the report's outcome.

    Raises :class:`SourceError` at the row for a record that is not in the report or a rule
    that is not among its rules: the sample and the report are then from different audits.
    """
    known_rules = set(report.rules)
    judged: list[Pair | Skipped] = []
    unreviewed = 0
    for review in reviews:
        if review.rule is not None and review.rule not in known_rules:
            close = get_close_matches(review.rule, report.rules, n=1)
            hint = _("; did you mean {rule}?").format(rule=close[0]) if close else ""
            raise SourceError(
                review.location,
                _("rule {rule} is not among the rules of {report}{hint}").format(
                    rule=review.rule, report=report.path, hint=hint
                ),
            )
        findings = report.findings.get(review.record)
        if findings is None:
            raise SourceError(
                review.location,
                _(
                    "record {record} is not in {report}; was the sample drawn from the records "
                    "of that audit?"
                ).format(record=review.record, report=report.path),
            )
        if review.verdict:
            judged.append(_pair(review, findings))
        else:
            unreviewed += 1
    return Agreement(
        reviewed,
        report.path,
        pairs=tuple(item for item in judged if isinstance(item, Pair)),
        skipped=tuple(item for item in judged if isinstance(item, Skipped)),
        unreviewed=unreviewed,
        rule_order=report.rules,
    )


def _pair(review: Review, findings: Mapping[str, Mapping[str, Any]]) -> Pair | Skipped:
    """The verdict paired with the audit's outcome, or why it cannot be."""
    if review.rule is None:
        judged = [f for f in findings.values() if f.get("outcome") in CATEGORIES]
        if not judged:
            return Skipped(review, _("the audit judged no rule on this record"))
        worst = max((str(f["outcome"]) for f in judged), key=CATEGORIES.index)
        return Pair(review, worst, tuple(f for f in judged if f["outcome"] != "pass"))
    finding = findings.get(review.rule)
    if finding is None:
        return Skipped(
            review, _("the rule's scope leaves this record out; the audit did not judge it")
        )
    outcome = str(finding.get("outcome"))
    if outcome not in CATEGORIES:
        return Skipped(
            review,
            _("the audit's outcome is {outcome}, not pass, warn or fail").format(outcome=outcome),
        )
    return Pair(review, outcome, (finding,))


def agreement_of(reviewed: Path, report: Path) -> Agreement:
    """Read a reviewed sample and a JSON report, and pair them."""
    reviews = load_reviews(reviewed)
    outcomes = load_report(report, {review.record for review in reviews})
    return compare(reviews, outcomes, str(reviewed))


def landis_koch(kappa: float | None) -> str:
    """Landis and Koch's (1977) name for the strength of agreement a kappa shows."""
    if kappa is None:
        return "undefined"
    if kappa < 0.0:
        return "poor"
    for upper, name in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if kappa <= upper:
            return name
    return "almost perfect"


#: Landis and Koch's names stay English in data; these are their labels on the terminal and page.
STRENGTHS = {
    "undefined": N_("undefined"),
    "poor": N_("poor"),
    "slight": N_("slight"),
    "fair": N_("fair"),
    "moderate": N_("moderate"),
    "substantial": N_("substantial"),
    "almost perfect": N_("almost perfect"),
}


def strength_label(kappa: float | None) -> str:
    """Landis and Koch's name for ``kappa`` in the current language."""
    return _(STRENGTHS[landis_koch(kappa)])


def whole_record_label() -> str:
    """What a verdict on a whole record shows in its rule column, in the current language."""
    return _(WHOLE_RECORD)
