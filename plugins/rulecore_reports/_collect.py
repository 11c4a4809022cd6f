"""Keeping a bounded number of findings per rule while an audit streams past."""

from __future__ import annotations

from rulecore import Finding

#: Findings kept per rule for drill-down; the rest are counted, so a report stays readable.
KEPT_PER_RULE = 200


class FindingsByRule:
    """The first findings of each rule (worst first at the end), and how many there were."""

    def __init__(self, limit: int = KEPT_PER_RULE) -> None:
        self.limit = limit
        self.kept: dict[tuple[str, str], list[Finding]] = {}
        self.total: dict[tuple[str, str], int] = {}

    def add(self, finding: Finding) -> None:
        key = (finding.standard, finding.rule)
        self.total[key] = self.total.get(key, 0) + 1
        kept = self.kept.setdefault(key, [])
        if len(kept) < self.limit:
            # Rendered now, so that a kept finding holds its text, not the record it came from.
            finding.message  # noqa: B018
            finding.evidence  # noqa: B018
            kept.append(finding)

    def of(self, standard: str, rule: str) -> list[Finding]:
        order = {"error": 0, "fail": 1, "warn": 2, "waived": 3, "not_applicable": 4, "pass": 5}
        kept = self.kept.get((standard, rule), [])
        return sorted(kept, key=lambda finding: (order.get(finding.outcome, 9), finding.record))

    def count(self, standard: str, rule: str) -> int:
        return self.total.get((standard, rule), 0)
