"""Findings: one outcome of one rule on one record, with the evidence it rests on.

A finding is compact while the audit runs: the rule it belongs to (a shared
:class:`RuleRef`), the record id, the outcome, the measured value and the zone it was judged
against.  Its fingerprint, message and evidence are rendered the first time a reporter asks
for them, and only then: a scorecard that shows no evidence never pays for it, and a check's
deferred evidence (clock segments, formatted durations) is built only for findings that are
written.  Pickling a finding renders it, so a finding can cross a process boundary.
"""

from __future__ import annotations

import hashlib
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

import msgspec

from ._checks import Evidence, Measurement
from ._i18n import _
from ._thresholds import ThresholdMatrix, Thresholds, format_value
from ._yaml import Location


class RuleRef(NamedTuple):
    """What every finding of one rule shares: built once per rule, not once per finding."""

    standard: str
    version: str
    rule: str
    dimension: str
    check: str
    plugin: str
    severity: str
    message: str | None = None  #: the rule's own message template, if it has one
    matrix_by: str = ""  #: the attribute a threshold matrix is chosen by


@dataclass(frozen=True)
class Waiver:
    """One accepted exception, as written in the waivers file."""

    reason: str
    by: str
    expires: date
    location: Location
    fingerprint: str | None = None
    rule: str | None = None  #: ``standard/rule``
    records: frozenset[str] | None = None  #: ``None`` means every record

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"reason": self.reason, "by": self.by}
        data["expires"] = self.expires.isoformat()
        data["source"] = str(self.location)
        return data


EVIDENCE_KINDS = ("event", "segment", "note")

#: Said once, by the engine, on every finding of a record whose events the reader sorted.
REORDERED = Evidence("note", "reordered", detail="events were sorted by time")

_UNSET: Any = object()


class Finding:
    """The outcome of one rule on one record.

    Read it through its attributes (``record``, ``outcome``, ``measured``, ``message``,
    ``evidence``...) or :meth:`to_dict`, which gives the report's published shape.
    """

    __slots__ = (
        "_evidence",
        "_evidence_json",
        "_fingerprint",
        "_measurement",
        "_message",
        "_reordered",
        "baseline",
        "expected",
        "measured",
        "outcome",
        "record",
        "ref",
        "waiver",
    )

    ref: RuleRef
    record: str
    outcome: str
    measured: float | None
    expected: Thresholds | None
    waiver: Waiver | None
    baseline: str | None  #: ``new`` or ``persisting`` when audited against a baseline

    def __init__(
        self,
        ref: RuleRef,
        record: str,
        outcome: str,
        measurement: Measurement,
        expected: Thresholds | None,
        *,
        waiver: Waiver | None = None,
        with_evidence: bool = True,
        reordered: bool = False,
        fingerprint: str | None = None,
        baseline: str | None = None,
    ) -> None:
        self.ref = ref
        self.record = record
        self.outcome = outcome
        self.measured = measurement.value
        self.expected = expected
        self.waiver = waiver
        self.baseline = baseline
        self._measurement: Measurement | None = measurement
        self._reordered = reordered
        self._fingerprint = fingerprint
        self._message: str | None = None
        self._evidence: tuple[Evidence, ...] | None = None if with_evidence else ()
        self._evidence_json: bytes | None = None

    # --- what every finding of the rule shares ----------------------------------------------

    @property
    def standard(self) -> str:
        return self.ref.standard

    @property
    def version(self) -> str:
        return self.ref.version

    @property
    def rule(self) -> str:
        return self.ref.rule

    @property
    def dimension(self) -> str:
        return self.ref.dimension

    @property
    def check(self) -> str:
        return self.ref.check

    @property
    def plugin(self) -> str:
        return self.ref.plugin

    @property
    def severity(self) -> str:
        return self.ref.severity

    # --- rendered when first asked for ------------------------------------------------------

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self.ref.standard, self.ref.rule, self.record)
        return self._fingerprint

    @property
    def message(self) -> str:
        if self._message is None:
            assert self._measurement is not None
            self._message = render_finding_message(
                self.ref, self.record, self.outcome, self._measurement, self.expected
            )
            self._release()
        return self._message

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        if self._evidence is None and self._evidence_json is not None:
            self._evidence = _evidence_from_json(self._evidence_json)
        if self._evidence is None:
            assert self._measurement is not None
            self._evidence = evidence_of(self._measurement, self.ref, self._reordered)
            self._release()
        return self._evidence

    def _release(self) -> None:
        """Drop the measurement once both message and evidence are rendered."""
        if self._message is not None and self._evidence is not None:
            self._measurement = None

    # --- values -----------------------------------------------------------------------------

    def replace(self, **changes: Any) -> Finding:
        """A copy with ``waiver``, ``baseline`` or ``outcome`` changed."""
        copy = Finding.__new__(Finding)
        for name in Finding.__slots__:
            setattr(copy, name, getattr(self, name))
        for name, value in changes.items():
            if name not in ("waiver", "baseline", "outcome"):
                raise TypeError(f"cannot replace {name!r} of a finding")
            setattr(copy, name, value)
        return copy

    def _key(self) -> tuple[Any, ...]:
        return (
            self.fingerprint,
            self.record,
            self.ref[:7],
            self.outcome,
            self.measured,
            self.expected,
            self.message,
            self.evidence,
            self.waiver,
            self.baseline,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Finding):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Finding(record={self.record!r}, standard={self.standard!r}, rule={self.rule!r}, "
            f"outcome={self.outcome!r}, measured={self.measured!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Rendered first: a deferred evidence function cannot cross a process boundary.  The
        # evidence goes as the JSON the writers print, which is what the other side needs.
        state = (self.fingerprint, self.message, evidence_json(self))
        kept = (self.ref, self.record, self.outcome, self.measured, self.expected, self.waiver)
        return (_rebuilt, (*kept, self.baseline, *state))

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready builtins, in the report's published shape."""
        expected = self.expected
        ref = self.ref
        data: dict[str, Any] = {
            "fingerprint": self.fingerprint,
            "record": self.record,
            "standard": ref.standard,
            "version": ref.version,
            "rule": ref.rule,
            "dimension": ref.dimension,
            "check": ref.check,
            "plugin": ref.plugin,
            "outcome": self.outcome,
            "severity": ref.severity,
            "measured": self.measured,
            "measured_text": measured_text(self.measured, expected),
            "expected": expected.as_dict() if expected else None,
            "message": self.message,
            "evidence": [evidence_to_dict(piece) for piece in self.evidence],
        }
        if self.waiver is not None:
            data["waiver"] = self.waiver.as_dict()
        if self.baseline is not None:
            data["baseline"] = self.baseline
        return data


_encode = msgspec.json.Encoder().encode
#: Per rule and outcome, the JSON between ``record`` and ``measured``: the same for every
#: finding of that rule, so it is encoded once.
_rule_json: dict[tuple[RuleRef, str], bytes] = {}
#: Per zone, the JSON between ``measured_text`` and ``message``.
_zone_json: dict[Thresholds | None, bytes] = {}
_CACHED_PARTS = 10_000


def finding_json(finding: Finding, head: bytes = b"{") -> bytes:
    """The finding as one compact JSON object, exactly as ``to_dict`` would encode.

    ``head`` opens the object, and may carry keys of the writer's own before the finding's
    (``b'{"type":"finding",'``).  What every finding of a rule shares is encoded once.
    """
    ref = finding.ref
    key = (ref, finding.outcome)
    middle = _rule_json.get(key)
    if middle is None:
        if len(_rule_json) > _CACHED_PARTS:  # bounded, for a process that compiles many engines
            _rule_json.clear()
        middle = _rule_json[key] = _rule_part(ref, finding.outcome)
    expected = finding.expected
    zone = _zone_json.get(expected)
    if zone is None:
        if len(_zone_json) > _CACHED_PARTS:
            _zone_json.clear()
        zone = _zone_json[expected] = (
            b',"expected":' + _encode(expected.as_dict() if expected else None) + b',"message":'
        )
    measured = finding.measured
    parts = [
        head,
        b'"fingerprint":"',
        finding.fingerprint.encode(),
        b'","record":',
        _encode(finding.record),
        middle,
        _encode(measured),
        b',"measured_text":',
        _encode(measured_text(measured, expected)),
        zone,
        _encode(finding.message),
        b',"evidence":',
        evidence_json(finding),
    ]
    if finding.waiver is not None:
        parts += (b',"waiver":', _encode(finding.waiver.as_dict()))
    if finding.baseline is not None:
        parts += (b',"baseline":', _encode(finding.baseline))
    parts.append(b"}")
    return b"".join(parts)


def _rule_part(ref: RuleRef, outcome: str) -> bytes:
    shared = {
        "standard": ref.standard,
        "version": ref.version,
        "rule": ref.rule,
        "dimension": ref.dimension,
        "check": ref.check,
        "plugin": ref.plugin,
        "outcome": outcome,
        "severity": ref.severity,
    }
    return b"," + _encode(shared)[1:-1] + b',"measured":'


def _rebuilt(
    ref: RuleRef,
    record: str,
    outcome: str,
    measured: float | None,
    expected: Thresholds | None,
    waiver: Waiver | None,
    baseline: str | None,
    finding_print: str,
    message: str,
    evidence: bytes,
) -> Finding:
    finding = Finding(
        ref,
        record,
        outcome,
        Measurement(measured),
        expected,
        waiver=waiver,
        fingerprint=finding_print,
        baseline=baseline,
    )
    finding._message = message
    finding._evidence_json = evidence
    finding._measurement = None
    return finding


def evidence_json(finding: Finding) -> bytes:
    """The finding's evidence as the JSON array the report writers print."""
    encoded = finding._evidence_json
    if encoded is None:
        encoded = _encode([evidence_to_dict(piece) for piece in finding.evidence])
    return encoded


def _evidence_from_json(encoded: bytes) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(
            piece["kind"],
            piece["label"],
            _moment(piece.get("at")),
            _moment(piece.get("until")),
            piece.get("event"),
            piece.get("detail", ""),
        )
        for piece in msgspec.json.decode(encoded)
    )


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def measured_text(measured: float | None, expected: Thresholds | None) -> str | None:
    """The measured value as people read it, in the zone's unit; ``None`` when not measured."""
    if measured is None:
        return None
    return format_value(measured, expected.unit if expected else "count")


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


# --- rendering, when a reporter asks --------------------------------------------------------


_DECIDABLE = frozenset(("pass", "warn", "fail", "not_applicable", "error"))


def classify(measurement: Measurement, thresholds: Thresholds | None) -> str:
    """The outcome of a measurement; raises for a measurement no report could carry."""
    value = measurement.value
    outcome = measurement.outcome
    # Exact types first, then the general test: this runs once per rule and record.
    if value is not None and not (
        (value.__class__ is float or value.__class__ is int) and _SMALLEST <= value <= _LARGEST
    ):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"measured {value!r}, not a finite number")
        if not math.isfinite(value):
            raise ValueError(f"measured {value!r}, not a finite number")
    if outcome is not None:
        if outcome not in _DECIDABLE:
            allowed = ", ".join(sorted(_DECIDABLE))
            raise ValueError(f"decided outcome {outcome!r}; use one of {allowed}")
        return outcome
    if value is None or thresholds is None:
        return "not_applicable"
    return thresholds.classify(value)


_LARGEST = sys.float_info.max
_SMALLEST = -_LARGEST


def render_finding_message(
    ref: RuleRef,
    record_id: str,
    outcome: str,
    measurement: Measurement,
    thresholds: Thresholds | None,
) -> str:
    """The finding's message: the rule's own template, or the measured value and the zone."""
    if outcome == "error":
        return measurement.note
    if outcome == "waived":
        outcome = "fail" if thresholds is None else classify(measurement, thresholds)
    if outcome == "not_applicable":
        if measurement.value is not None and thresholds is None:
            return _("no thresholds for this record's {attribute} and no 'otherwise' zone").format(
                attribute=ref.matrix_by
            )
        return measurement.note or _("the events this rule needs are not in the record")
    unit = thresholds.unit if thresholds else "count"
    measured = format_value(measurement.value, unit)
    expected = thresholds.describe() if thresholds else ""
    if ref.message:
        values = {
            "measured": measured,
            "expected": expected,
            "desired": format_value(thresholds.desired, unit) if thresholds else "",
            "adequate": format_value(thresholds.adequate, unit) if thresholds else "",
            "record": record_id,
            "rule": ref.rule,
            "note": measurement.note,
            "outcome": outcome,
        }
        return render_message(ref.message, values)
    text = _("measured {measured}; {expected}").format(measured=measured, expected=expected)
    if not measurement.note:
        return text
    return _("{message} ({note})").format(message=text, note=measurement.note)


def evidence_of(
    measurement: Measurement, ref: RuleRef, reordered: bool = False
) -> tuple[Evidence, ...]:
    """The measurement's evidence, built now if the check deferred it, and checked."""
    try:
        evidence = measurement.evidence_tuple()
        if not isinstance(evidence, tuple):
            raise TypeError(f"evidence is {type(evidence).__name__}, not a tuple")
        for piece in evidence:
            if not isinstance(piece, Evidence) or piece.kind not in EVIDENCE_KINDS:
                raise TypeError(f"{piece!r} is not Evidence of kind {', '.join(EVIDENCE_KINDS)}")
    except Exception as error:  # the finding stands; its evidence says what went wrong
        return (
            Evidence(
                "note",
                "evidence failed",
                detail=_(
                    "check {check!r} from plugin {plugin!r} could not give its evidence: "
                    "{kind}: {error}"
                ).format(
                    check=ref.check, plugin=ref.plugin, kind=type(error).__name__, error=error
                ),
            ),
        )
    return (*evidence, REORDERED) if reordered else evidence


def matrix_attribute(thresholds: Thresholds | ThresholdMatrix | None) -> str:
    """The attribute a threshold matrix is chosen by; empty for a single zone."""
    return thresholds.by if isinstance(thresholds, ThresholdMatrix) else ""
