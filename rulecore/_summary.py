"""The audit summary: how well each rule, standard and dimension was met.

An audit form measures *how well* a team did, not how badly, so the headline figure is
compliance: the share of applicable outcomes that passed.  Beside it, the share within the
zone of tolerance (pass + warn).  Not-applicable outcomes and errors are counted but do not
enter either share; errors are a fault of the tooling, not of the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._checks import OUTCOMES

if TYPE_CHECKING:
    from ._standards import Rule, Standard

_INDEX = {outcome: index for index, outcome in enumerate(OUTCOMES)}


class Tally:
    """Outcome counters per rule slot; the only per-record state an audit keeps."""

    def __init__(self, slots: int) -> None:
        self.counts = [[0] * len(OUTCOMES) for _ in range(slots)]

    def count(self, slot: int, outcome: str) -> None:
        self.counts[slot][_INDEX[outcome]] += 1


@dataclass(frozen=True)
class Counts:
    """Outcome counts with the shares derived from them."""

    passed: int = 0
    warned: int = 0
    failed: int = 0
    not_applicable: int = 0
    errors: int = 0

    @classmethod
    def from_list(cls, values: Sequence[int]) -> Counts:
        return cls(*values)

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.passed + other.passed,
            self.warned + other.warned,
            self.failed + other.failed,
            self.not_applicable + other.not_applicable,
            self.errors + other.errors,
        )

    @property
    def judged(self) -> int:
        return self.passed + self.warned + self.failed

    @property
    def compliance(self) -> float | None:
        return round(self.passed / self.judged, 4) if self.judged else None

    @property
    def within_tolerance(self) -> float | None:
        return round((self.passed + self.warned) / self.judged, 4) if self.judged else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": {
                "pass": self.passed,
                "warn": self.warned,
                "fail": self.failed,
                "not_applicable": self.not_applicable,
                "error": self.errors,
            },
            "compliance": self.compliance,
            "within_tolerance": self.within_tolerance,
        }


@dataclass(frozen=True)
class RuleSummary:
    standard: str
    rule: str
    check: str
    dimension: str
    severity: str
    counts: Counts

    def as_dict(self) -> dict[str, Any]:
        return {
            "standard": self.standard,
            "rule": self.rule,
            "check": self.check,
            "dimension": self.dimension,
            "severity": self.severity,
            **self.counts.as_dict(),
        }


@dataclass(frozen=True)
class StandardSummary:
    standard: str
    version: str
    title: str
    dimension: str
    counts: Counts

    def as_dict(self) -> dict[str, Any]:
        return {
            "standard": self.standard,
            "version": self.version,
            "title": self.title,
            "dimension": self.dimension,
            **self.counts.as_dict(),
        }


@dataclass(frozen=True)
class Summary:
    """Everything an audit counted.  ``read == evaluated + rejected`` always holds."""

    read: int
    evaluated: int
    rejected: int
    outcomes: Counts
    dimensions: tuple[tuple[str, Counts], ...]
    standards: tuple[StandardSummary, ...]
    rules: tuple[RuleSummary, ...]
    as_of: datetime | None = None

    @property
    def reconciles(self) -> bool:
        return self.read == self.evaluated + self.rejected

    def worst_outcome(self) -> str:
        """``error``, ``fail``, ``warn`` or ``pass``: the most serious outcome counted."""
        if self.outcomes.errors:
            return "error"
        if self.outcomes.failed:
            return "fail"
        if self.outcomes.warned:
            return "warn"
        return "pass"

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "records": {"read": self.read, "evaluated": self.evaluated, "rejected": self.rejected},
            "outcomes": self.outcomes.as_dict()["counts"],
            "compliance": self.outcomes.compliance,
            "within_tolerance": self.outcomes.within_tolerance,
            "dimensions": [
                {"dimension": name, **counts.as_dict()} for name, counts in self.dimensions
            ],
            "standards": [standard.as_dict() for standard in self.standards],
            "rules": [rule.as_dict() for rule in self.rules],
        }
        if self.as_of is not None:
            data["as_of"] = self.as_of.isoformat()
        return data


def build_summary(
    standards: Sequence[Standard],
    slots: Sequence[tuple[Standard, Rule]],
    tally: Tally,
    *,
    read: int,
    evaluated: int,
    rejected: int,
    as_of: datetime | None,
) -> Summary:
    rules = tuple(
        RuleSummary(
            standard.id,
            rule.id,
            rule.check,
            standard.dimension,
            rule.severity,
            Counts.from_list(tally.counts[slot]),
        )
        for slot, (standard, rule) in enumerate(slots)
    )
    by_standard: dict[str, Counts] = {}
    for rule_summary in rules:
        by_standard[rule_summary.standard] = (
            by_standard.get(rule_summary.standard, Counts()) + rule_summary.counts
        )
    standard_summaries = tuple(
        StandardSummary(s.id, s.version, s.title, s.dimension, by_standard.get(s.id, Counts()))
        for s in standards
    )
    by_dimension: dict[str, Counts] = {}
    for summary in standard_summaries:
        by_dimension[summary.dimension] = (
            by_dimension.get(summary.dimension, Counts()) + summary.counts
        )
    total = sum((summary.counts for summary in standard_summaries), Counts())
    return Summary(
        read=read,
        evaluated=evaluated,
        rejected=rejected,
        outcomes=total,
        dimensions=tuple(sorted(by_dimension.items())),
        standards=standard_summaries,
        rules=rules,
        as_of=as_of,
    )
