"""Waivers: accepted exceptions, each with a reason, an owner and an expiry.

A waivers file turns matching warn and fail findings into ``waived`` ones::

    waivers:
      - fingerprint: 1b7c0e9d52a44f0a1c2e      # one finding, exactly
        reason: Vendor outage INC-2231, agreed with the service owner
        by: Dana Wu
        expires: 2026-12-31
      - rule: flow-handoffs/team-handoffs      # a rule, for some records or all ("*")
        records: [T-000012, T-000013]
        reason: Migrated cases, handed off by the migration itself
        by: Ops
        expires: 2027-01-31

A waiver needs a reason: an exception nobody can explain is not accepted.  An expired waiver
stops applying (the finding keeps its real outcome) and is listed in the report, so that it is
renewed or removed rather than silently lapsing.  Errors are never waived: they are faults in
the tooling, not in the service.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ._findings import Waiver, fingerprint
from ._i18n import _
from ._standards import StandardsInvalid, schema_errors
from ._yaml import Location, SourceError, load_yaml_file

WAIVERS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["waivers"],
    "additionalProperties": False,
    "properties": {
        "waivers": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["reason", "by", "expires"],
                "additionalProperties": False,
                "properties": {
                    "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{8,64}$"},
                    "rule": {
                        "type": "string",
                        "pattern": "^[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*$",
                        "description": "standard-id/rule-id",
                    },
                    "records": {
                        "oneOf": [
                            {"const": "*"},
                            {"type": "array", "items": {"type": "string"}, "minItems": 1},
                        ]
                    },
                    "reason": {"type": "string", "pattern": "\\S"},
                    "by": {"type": "string", "pattern": "\\S"},
                    "expires": {"type": "string", "format": "date"},
                },
            },
        }
    },
}


@dataclass
class Waivers:
    """The waivers in force on ``today``, indexed for a lookup per non-passing outcome."""

    today: date
    by_fingerprint: dict[str, Waiver] = field(default_factory=dict)
    by_rule: dict[str, list[Waiver]] = field(default_factory=dict)
    expired: list[Waiver] = field(default_factory=list)
    used: set[Location] = field(default_factory=set)

    def match(
        self, standard: str, rule: str, record: str, finding_print: str | None = None
    ) -> Waiver | None:
        """The waiver that covers this finding, if any (a fingerprint waiver wins).

        ``finding_print`` is the finding's fingerprint when the caller already has it.
        """
        if self.by_fingerprint:
            found = self.by_fingerprint.get(finding_print or fingerprint(standard, rule, record))
            if found is not None:
                self.used.add(found.location)
                return found
        for waiver in self.by_rule.get(f"{standard}/{rule}", ()):
            if waiver.records is None or record in waiver.records:
                self.used.add(waiver.location)
                return waiver
        return None

    def unknown_rules(self, known: set[str]) -> list[SourceError]:
        """A located error for each waiver naming a ``standard/rule`` that is not audited."""
        waivers = [*(w for ws in self.by_rule.values() for w in ws), *self.expired]
        return [
            SourceError(
                waiver.location,
                _("no standard/rule {rule!r} is being audited; {hint}").format(
                    rule=waiver.rule,
                    hint=_("did you mean {name!r}?").format(name=close[0])
                    if close
                    else _("check the ids"),
                ),
            )
            for waiver in sorted(waivers, key=lambda w: w.location)
            if waiver.rule is not None and waiver.rule not in known
            for close in [difflib.get_close_matches(waiver.rule, sorted(known), n=1)]
        ]

    def report(self) -> dict[str, Any]:
        """What the report says about waivers: how many applied, which expired or went unused."""
        active = [*self.by_fingerprint.values(), *(w for ws in self.by_rule.values() for w in ws)]
        unused = sorted(
            (w for w in active if w.location not in self.used), key=lambda w: w.location
        )
        return {
            "in_force": len(active),
            "used": len(self.used),
            "expired": [w.as_dict() for w in sorted(self.expired, key=lambda w: w.location)],
            "unused": [w.as_dict() for w in unused],
        }


def load_waivers(path: Path, today: date) -> Waivers:
    """Load and validate a waivers file; raise :class:`StandardsInvalid` with every problem."""
    document = load_yaml_file(path)
    errors = list(schema_errors(document, WAIVERS_SCHEMA))
    if not errors:
        waivers = Waivers(today)
        for index, entry in enumerate(document.data["waivers"]):
            location = document.locate(["waivers", index])
            try:
                _add(waivers, entry, location)
            except ValueError as error:
                errors.append(SourceError(location, str(error)))
    if errors:
        raise StandardsInvalid(errors)
    return waivers


def _add(waivers: Waivers, entry: Mapping[str, Any], location: Location) -> None:
    has_fingerprint, has_rule = "fingerprint" in entry, "rule" in entry
    if has_fingerprint and has_rule:
        raise ValueError(_("a waiver names a fingerprint or a rule, not both"))
    if not has_fingerprint and not has_rule:
        raise ValueError(_("a waiver needs a fingerprint, or a rule with its records"))
    if has_rule and "records" not in entry:
        raise ValueError(_("a rule waiver needs records: a list of record ids, or '*' for all"))
    if has_fingerprint and "records" in entry:
        raise ValueError(_("a fingerprint waiver names one finding already; leave out records"))
    try:
        expires = date.fromisoformat(entry["expires"])
    except ValueError:
        raise ValueError(
            _("expires {value!r} is not a date like 2026-12-31").format(value=entry["expires"])
        ) from None
    records = entry.get("records")
    waiver = Waiver(
        reason=entry["reason"].strip(),
        by=entry["by"].strip(),
        expires=expires,
        location=location,
        fingerprint=entry.get("fingerprint"),
        rule=entry.get("rule"),
        records=None if records in (None, "*") else frozenset(records),
    )
    if expires < waivers.today:
        waivers.expired.append(waiver)
    elif waiver.fingerprint is not None:
        waivers.by_fingerprint[waiver.fingerprint] = waiver
    else:
        waivers.by_rule.setdefault(str(waiver.rule), []).append(waiver)
