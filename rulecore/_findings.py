"""Findings: one outcome of one rule on one record, with the evidence it rests on."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from ._checks import Evidence
from ._thresholds import Thresholds, format_value

if TYPE_CHECKING:
    from ._waivers import Waiver


class Finding(NamedTuple):
    """The outcome of one rule on one record."""

    fingerprint: str
    record: str
    standard: str
    version: str
    rule: str
    dimension: str
    check: str
    plugin: str
    outcome: str
    severity: str
    measured: float | None
    expected: Thresholds | None
    message: str
    evidence: tuple[Evidence, ...] = ()
    waiver: Waiver | None = None
    baseline: str | None = None  #: ``new`` or ``persisting`` when audited against a baseline

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready builtins, in the report's published shape."""
        unit = self.expected.unit if self.expected else None
        return {
            "fingerprint": self.fingerprint,
            "record": self.record,
            "standard": self.standard,
            "version": self.version,
            "rule": self.rule,
            "dimension": self.dimension,
            "check": self.check,
            "plugin": self.plugin,
            "outcome": self.outcome,
            "severity": self.severity,
            "measured": self.measured,
            "measured_text": format_value(self.measured, unit or "count")
            if self.measured is not None
            else None,
            "expected": self.expected.as_dict() if self.expected else None,
            "message": self.message,
            "evidence": [evidence_to_dict(piece) for piece in self.evidence],
            **({"waiver": self.waiver.as_dict()} if self.waiver is not None else {}),
            **({"baseline": self.baseline} if self.baseline is not None else {}),
        }


def evidence_to_dict(piece: Evidence) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": piece.kind, "label": piece.label}
    if piece.at is not None:
        data["at"] = piece.at.isoformat()
    if piece.until is not None:
        data["until"] = piece.until.isoformat()
    if piece.event_index is not None:
        data["event"] = piece.event_index
    if piece.detail:
        data["detail"] = piece.detail
    return data


def fingerprint(standard: str, rule: str, record: str) -> str:
    """A stable id for (standard, rule, record), the same in every run and every version.

    Waivers and baselines rely on it, so it must not depend on the measured value, the
    standard's version or the order of the input.
    """
    digest = hashlib.sha256(f"{standard}\x1f{rule}\x1f{record}".encode()).hexdigest()
    return digest[:20]


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def render_message(template: str, values: Mapping[str, str]) -> str:
    """Fill ``{name}`` placeholders from ``values``; unknown names are left as written.

    Deliberately not ``str.format``: a standard is data, and must not reach attributes.
    """
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)
