"""Baselines: compare an audit with the previous one, finding by finding.

``rulecore audit --baseline previous.json`` marks each warn, fail, error or waived finding as
``new`` (not in the previous report) or ``persisting`` (in it), and counts as ``resolved`` the
previous findings that no longer appear.  Findings are matched by fingerprint, which depends only
on the standard, the rule and the record, so a re-run on grown data still matches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._i18n import _
from ._yaml import Location, SourceError

#: Outcomes a baseline tracks: the ones somebody has to act on or has accepted.
TRACKED = frozenset(("warn", "fail", "error", "waived"))


@dataclass
class Baseline:
    """The previous report's tracked fingerprints, and what this audit has seen of them."""

    source: str
    previous: dict[str, str]  #: tracked fingerprint -> its record id
    seen: set[str] = field(default_factory=set)
    audited: set[str] = field(default_factory=set)  #: previous records audited again
    new: int = 0
    persisting: int = 0

    def __post_init__(self) -> None:
        self._previous_records = frozenset(self.previous.values())

    def saw_record(self, record_id: str) -> None:
        """Note that a record is in this audit; only such records' findings can be resolved.

        Bounded by the baseline: only ids that the previous report names are kept.
        """
        if record_id in self._previous_records:
            self.audited.add(record_id)

    def status(self, fingerprint: str) -> str:
        """``new`` or ``persisting``, counting it once."""
        self.seen.add(fingerprint)
        if fingerprint in self.previous:
            self.persisting += 1
            return "persisting"
        self.new += 1
        return "new"

    def report(self) -> dict[str, Any]:
        """A previous finding is resolved only if its record was audited again without it;
        one whose record is not in this audit is counted as not audited."""
        gone = [fp for fp in self.previous if fp not in self.seen]
        resolved = sorted(fp for fp in gone if self.previous[fp] in self.audited)
        return {
            "source": self.source,
            "new": self.new,
            "persisting": self.persisting,
            "resolved": len(resolved),
            "resolved_fingerprints": resolved,
            "not_audited": len(gone) - len(resolved),
        }


def load_baseline(path: Path) -> Baseline:
    """Read a previous JSON report; raise :class:`SourceError` if it is not one."""
    where = Location(str(path), 1, 1)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(where, _("cannot read this baseline: {why}").format(why=error)) from None
    except json.JSONDecodeError as error:
        location = Location(str(path), error.lineno, error.colno)
        raise SourceError(
            location, _("this baseline is not valid JSON: {why}").format(why=error.msg)
        ) from None
    findings = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(findings, list):
        raise SourceError(
            where, _("this is not a rulecore JSON report (no 'findings' list); use --format json")
        )
    previous: dict[str, str] = {}
    for index, finding in enumerate(findings):
        if (
            not isinstance(finding, dict)
            or not isinstance(finding.get("fingerprint"), str)
            or not isinstance(finding.get("record"), str)
        ):
            raise SourceError(
                where,
                _("finding {index} in this baseline has no fingerprint or record").format(
                    index=index
                ),
            )
        outcome = finding.get("outcome")
        if isinstance(outcome, str) and outcome in TRACKED:
            previous[finding["fingerprint"]] = finding["record"]
    return Baseline(str(path), previous)
