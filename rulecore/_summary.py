"""The audit summary: how well each rule, standard and dimension was met.

An audit form measures *how well* a team did, not how badly, so the headline figure is
compliance: the share of applicable outcomes that passed.  Beside it, the share within the
zone of tolerance (pass + warn).  Not-applicable, waived and error outcomes are counted but do
not enter either share: errors are a fault of the tooling, not of the service, and a waived
outcome is an accepted exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._checks import OUTCOMES
from ._model import Record
from ._service_levels import MISSING, NO_GROUP, GroupState, ServiceLevel, judge, observe

if TYPE_CHECKING:
    from ._standards import Rule, Standard

_INDEX = {outcome: index for index, outcome in enumerate(OUTCOMES)}


#: Derived groupings: the period in which the case's first event happened, in its own offset.
def _iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


PERIODS: dict[str, Callable[[datetime], str]] = {
    "@day": lambda moment: moment.strftime("%Y-%m-%d"),
    "@week": _iso_week,
    "@month": lambda moment: moment.strftime("%Y-%m"),
}


def group_value(record: Record, attribute: str) -> str:
    """The group ``record`` falls in for ``attribute``: its value, or a period for ``@month``."""
    period = PERIODS.get(attribute)
    if period is not None:
        return period(record.events[0].at) if record.events else MISSING
    value = record.attribute(attribute)
    return MISSING if value is None else str(value)


def _table(slots: int) -> list[list[int]]:
    return [[0] * len(OUTCOMES) for _ in range(slots)]


class Tally:
    """Outcome counters per rule slot, per breakdown group, and per service-level group.

    This is all the per-record state an audit keeps: its size depends on the number of rules
    and of distinct group values, not on the number of records (except for percentile service
    levels; see :mod:`rulecore._service_levels`).
    """

    def __init__(self, slots: int, group_by: Sequence[str] = ()) -> None:
        self.counts = _table(slots)
        self.slots = slots
        self.group_by = tuple(group_by)
        self.groups: dict[tuple[str, str], list[list[int]]] = {}
        self.levels: dict[int, dict[str, GroupState]] = {}
        self._current: list[list[list[int]]] = []

    def begin(self, record: Record) -> None:
        """Note which breakdown groups ``record`` falls in, before its outcomes are counted."""
        if not self.group_by:
            return
        current = []
        for attribute in self.group_by:
            value = group_value(record, attribute)
            key = (attribute, value)
            table = self.groups.get(key)
            if table is None:
                table = self.groups[key] = _table(self.slots)
            current.append(table)
        self._current = current

    def end(self) -> None:
        self._current = []

    def count(self, slot: int, outcome: str) -> None:
        index = _INDEX[outcome]
        self.counts[slot][index] += 1
        for table in self._current:
            table[slot][index] += 1

    def observe_level(
        self, slot: int, level: ServiceLevel, group: str, outcome: str, value: float | None
    ) -> None:
        states = self.levels.setdefault(slot, {})
        state = states.get(group)
        if state is None:
            state = states[group] = GroupState()
        observe(state, level, outcome, value)

    def merge(self, other: Tally) -> None:
        """Add ``other``'s counts in, as if its records had been counted here (``--jobs``).

        Exact: counts are integers, and percentile values are sorted before they are used.
        """
        _add_table(self.counts, other.counts)
        for key, table in other.groups.items():
            mine = self.groups.get(key)
            if mine is None:
                self.groups[key] = mine = _table(self.slots)
            _add_table(mine, table)
        for slot, states in other.levels.items():
            my_states = self.levels.setdefault(slot, {})
            for group, state in states.items():
                mine_state = my_states.get(group)
                if mine_state is None:
                    mine_state = my_states[group] = GroupState()
                mine_state.judged += state.judged
                mine_state.passed += state.passed
                mine_state.within += state.within
                mine_state.values.extend(state.values)


def _add_table(into: list[list[int]], other: list[list[int]]) -> None:
    for row, added in zip(into, other, strict=True):
        for index, count in enumerate(added):
            row[index] += count


@dataclass(frozen=True)
class Counts:
    """Outcome counts with the shares derived from them."""

    passed: int = 0
    warned: int = 0
    failed: int = 0
    not_applicable: int = 0
    errors: int = 0
    waived: int = 0

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
            self.waived + other.waived,
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
                "waived": self.waived,
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
    side: str = "procedural"

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
class Breakdown:
    """Compliance for the records whose attribute ``by`` has ``value`` (a team, a channel...)."""

    by: str
    value: str
    counts: Counts
    dimensions: tuple[tuple[str, Counts], ...]
    sides: tuple[tuple[str, Counts], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "value": self.value,
            **self.counts.as_dict(),
            "dimensions": [
                {"dimension": name, **counts.as_dict()} for name, counts in self.dimensions
            ],
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
    service_levels: tuple[dict[str, Any], ...] = ()
    breakdowns: tuple[Breakdown, ...] = ()
    waivers: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
    service_types: tuple[dict[str, Any], ...] = ()
    #: values the rules name (an event type, actor, field value or status) that no record had
    never_occurred: tuple[dict[str, Any], ...] = ()

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
        if self.service_levels:
            data["service_levels"] = list(self.service_levels)
        if self.breakdowns:
            data["breakdowns"] = [breakdown.as_dict() for breakdown in self.breakdowns]
        if self.service_types:
            data["service_types"] = list(self.service_types)
        if self.waivers is not None:
            data["waivers"] = self.waivers
        if self.baseline is not None:
            data["baseline"] = self.baseline
        if self.as_of is not None:
            data["as_of"] = self.as_of.isoformat()
        if self.never_occurred:
            data["never_occurred"] = list(self.never_occurred)
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
    rules = _rule_summaries(slots, tally.counts)
    standard_summaries = _standard_summaries(standards, rules)
    total = sum((summary.counts for summary in standard_summaries), Counts())
    breakdowns = tuple(
        _breakdown(by, value, _rule_summaries(slots, table))
        for (by, value), table in sorted(tally.groups.items())
    )
    return Summary(
        read=read,
        evaluated=evaluated,
        rejected=rejected,
        outcomes=total,
        dimensions=_by_dimension(rules),
        standards=standard_summaries,
        rules=rules,
        as_of=as_of,
        service_levels=tuple(_service_levels(slots, tally)),
        breakdowns=breakdowns,
        service_types=_service_types(rules, breakdowns),
    )


def _rule_summaries(
    slots: Sequence[tuple[Standard, Rule]], counts: Sequence[Sequence[int]]
) -> tuple[RuleSummary, ...]:
    return tuple(
        RuleSummary(
            standard.id,
            rule.id,
            rule.check,
            standard.dimension,
            rule.severity,
            Counts.from_list(counts[slot]),
            standard.side,
        )
        for slot, (standard, rule) in enumerate(slots)
    )


def _standard_summaries(
    standards: Sequence[Standard], rules: Sequence[RuleSummary]
) -> tuple[StandardSummary, ...]:
    by_standard = dict(_sum_by(rules, lambda rule: rule.standard))
    return tuple(
        StandardSummary(s.id, s.version, s.title, s.dimension, by_standard.get(s.id, Counts()))
        for s in standards
    )


def _sum_by(
    rules: Sequence[RuleSummary], key: Callable[[RuleSummary], str]
) -> tuple[tuple[str, Counts], ...]:
    """The rules' counts added up per key, sorted by key."""
    totals: dict[str, Counts] = {}
    for rule in rules:
        totals[key(rule)] = totals.get(key(rule), Counts()) + rule.counts
    return tuple(sorted(totals.items()))


def _by_dimension(rules: Sequence[RuleSummary]) -> tuple[tuple[str, Counts], ...]:
    return _sum_by(rules, lambda rule: rule.dimension)


def _breakdown(by: str, value: str, rules: Sequence[RuleSummary]) -> Breakdown:
    total = sum((rule.counts for rule in rules), Counts())
    return Breakdown(by, value, total, _by_dimension(rules), _by_side(rules))


def _by_side(rules: Sequence[RuleSummary]) -> tuple[tuple[str, Counts], ...]:
    return _sum_by(rules, lambda rule: rule.side)


#: A side of service at or above this compliance is strong (Martin's four service types).
STRONG_AT = 0.8
SERVICE_TYPES = {
    (True, True): "quality",
    (True, False): "factory",
    (False, True): "friendly zoo",
    (False, False): "freezer",
}


def service_type(sides: Sequence[tuple[str, Counts]]) -> dict[str, Any] | None:
    """Martin's service type from procedural and personal compliance; None unless both judged."""
    found = dict(sides)
    procedural = found.get("procedural", Counts()).compliance
    personal = found.get("personal", Counts()).compliance
    if procedural is None or personal is None:
        return None
    return {
        "procedural": procedural,
        "personal": personal,
        "type": SERVICE_TYPES[(procedural >= STRONG_AT, personal >= STRONG_AT)],
    }


def _service_types(
    rules: Sequence[RuleSummary], breakdowns: Sequence[Breakdown]
) -> tuple[dict[str, Any], ...]:
    placed = []
    overall = service_type(_by_side(rules))
    if overall is not None:
        placed.append({"by": None, "group": NO_GROUP, **overall})
    for breakdown in breakdowns:
        group = service_type(breakdown.sides)
        if group is not None:
            placed.append({"by": breakdown.by, "group": breakdown.value, **group})
    return tuple(placed)


def _service_levels(
    slots: Sequence[tuple[Standard, Rule]], tally: Tally
) -> Iterator[dict[str, Any]]:
    for slot, (standard, rule) in enumerate(slots):
        level = rule.service_level
        if level is None:
            continue
        states = tally.levels.get(slot, {})
        for group in sorted(states):
            yield {
                "standard": standard.id,
                "rule": rule.id,
                "dimension": standard.dimension,
                "by": level.by,
                "group": group,
                **judge(level, states[group]),
            }
