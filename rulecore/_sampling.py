"""Seeded, stratified samples of audited records for human review.

An auditor cannot read every case, and should not read only the failures: a review queue
drawn at random, stratified so that every team (or channel, or agent) is represented, and
optionally weighted towards cases that failed, shows how well the team serves as well as where
it does not.

The draw is weighted reservoir sampling (Efraimidis and Spirakis, "A-Res"): each record gets the
key ``u ** (1 / weight)`` from a seeded generator, and each stratum keeps the ``size`` records
with the largest keys.  Memory is bounded by strata × size, whatever the input.  With the same
input, seed and options, the same sample is drawn.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._engine import Engine
from ._findings import Finding
from ._model import Record
from ._readers import Item, Rejection
from ._service_levels import MISSING

SEVERITY_ORDER = ("not_applicable", "pass", "waived", "warn", "fail", "error")


@dataclass(frozen=True)
class Sampled:
    """One record drawn for review, with what the audit said about it."""

    record: str
    stratum: tuple[str, ...]
    worst: str
    findings: tuple[str, ...]  #: ``standard/rule: outcome`` for each warn, fail or error
    key: float
    #: ``(standard/rule, outcome)`` for every rule that judged the record (not not_applicable)
    outcomes: tuple[tuple[str, str], ...] = ()

    def as_row(self, by: Sequence[str]) -> dict[str, Any]:
        """The record as one row of the review queue, with its verdict left to the reviewer."""
        row: dict[str, Any] = {"record": self.record}
        row.update(dict(zip(by, self.stratum, strict=True)))
        row["worst_outcome"] = self.worst
        row["findings"] = "; ".join(self.findings)
        row.update({"reviewer": "", "verdict": "", "notes": ""})
        return row

    def as_rule_rows(self, by: Sequence[str]) -> list[dict[str, Any]]:
        """One row per rule that judged the record, each with its own verdict to fill in."""
        rows = []
        for rule, outcome in self.outcomes:
            row: dict[str, Any] = {"record": self.record}
            row.update(dict(zip(by, self.stratum, strict=True)))
            row.update({"rule": rule, "outcome": outcome})
            row.update({"reviewer": "", "verdict": "", "notes": ""})
            rows.append(row)
        return rows


#: The columns of the review queue, around the ``--by`` attributes; ``verdict`` is what
#: ``rulecore agree`` reads back (pass, warn or fail).
RECORD_COLUMNS = ("worst_outcome", "findings", "reviewer", "verdict", "notes")
RULE_COLUMNS = ("rule", "outcome", "reviewer", "verdict", "notes")
#: What the audit said, left out of a blind queue (``--blind``) so as not to sway reviewers.
AUDIT_COLUMNS = ("worst_outcome", "findings", "outcome")


def worst_outcome(findings: Iterable[Finding]) -> str:
    worst = "not_applicable"
    for finding in findings:
        if SEVERITY_ORDER.index(finding.outcome) > SEVERITY_ORDER.index(worst):
            worst = finding.outcome
    return worst


def draw_sample(
    engine: Engine,
    items: Iterable[Item],
    *,
    size: int,
    seed: int,
    by: Sequence[str] = (),
    weights: Mapping[str, float] | None = None,
    proportional: bool = False,
    rules: Collection[str] = (),
) -> list[Sampled]:
    """Draw ``size`` records per stratum (or ``size`` in all, allocated by stratum size when
    ``proportional``), weighted by each record's worst outcome.

    With ``rules`` (``standard/rule``), only those rules' outcomes count, and only records
    that one of them judged are drawn."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible draw, not a secret
    weights = dict(weights or {})
    reservoirs: dict[tuple[str, ...], list[tuple[float, int, Sampled]]] = {}
    stratum_sizes: dict[tuple[str, ...], int] = {}
    for order, item in enumerate(items):
        if isinstance(item, Rejection):
            continue
        sampled = _candidate(engine, item, by, weights, rng, frozenset(rules))
        if sampled is None:
            continue
        stratum_sizes[sampled.stratum] = stratum_sizes.get(sampled.stratum, 0) + 1
        heap = reservoirs.setdefault(sampled.stratum, [])
        entry = (sampled.key, -order, sampled)
        if len(heap) < size:
            heapq.heappush(heap, entry)
        elif entry[:2] > heap[0][:2]:
            heapq.heapreplace(heap, entry)
    quotas = _quotas(stratum_sizes, size) if proportional else dict.fromkeys(reservoirs, size)
    drawn: list[Sampled] = []
    for stratum in sorted(reservoirs):
        best = sorted(reservoirs[stratum], key=lambda entry: entry[:2], reverse=True)
        drawn.extend(entry[2] for entry in best[: quotas[stratum]])
    return drawn


def _candidate(
    engine: Engine,
    record: Record,
    by: Sequence[str],
    weights: Mapping[str, float],
    rng: random.Random,
    rules: frozenset[str] = frozenset(),
) -> Sampled | None:
    findings = engine.evaluate(record)
    if rules:
        findings = [f for f in findings if f"{f.standard}/{f.rule}" in rules]
    worst = worst_outcome(findings)
    weight = weights.get(worst, 1.0)
    draw = rng.random()  # drawn for every record, so one record's weight cannot shift another's
    if weight <= 0 or (rules and worst == "not_applicable"):
        return None
    stratum = tuple(
        MISSING if record.attribute(name) is None else str(record.attribute(name)) for name in by
    )
    notable = tuple(
        f"{f.standard}/{f.rule}: {f.outcome}"
        for f in findings
        if f.outcome in ("warn", "fail", "error")
    )
    judged = tuple(
        (f"{f.standard}/{f.rule}", f.outcome) for f in findings if f.outcome != "not_applicable"
    )
    return Sampled(record.id, stratum, worst, notable, draw ** (1.0 / weight), judged)


def _quotas(sizes: Mapping[tuple[str, ...], int], total: int) -> dict[tuple[str, ...], int]:
    """Split ``total`` across strata in proportion to their sizes (largest remainders)."""
    population = sum(sizes.values())
    if population == 0:
        return {}
    exact = {stratum: total * count / population for stratum, count in sizes.items()}
    quotas = {stratum: int(share) for stratum, share in exact.items()}
    leftover = min(total, population) - sum(quotas.values())
    by_remainder = sorted(exact, key=lambda s: (-(exact[s] - quotas[s]), s))
    for stratum in by_remainder[: max(0, leftover)]:
        quotas[stratum] += 1
    return quotas
