"""What a check is, and what it gives back.

A plugin registers :class:`Check` objects.  At start-up the engine *compiles* each rule once:
it calls the check's ``compile`` with the rule's validated parameters and keeps the evaluator
that comes back.  Per record, the engine calls that evaluator directly, with no hook call in
the hot path.

Checks that need more than one record (repeat contacts, anything with memory across cases)
register a :class:`CrossRecordCheck` instead.  Its compiled form is an accumulator that sees
each record as it streams past and reports its measurements at the end.  It should keep only
what it needs (keys and timestamps inside a window), so that memory is bounded by the window,
not by the input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol

from ._i18n import _
from ._model import Record
from ._thresholds import ThresholdMatrix, Thresholds

Unit = Literal["seconds", "count", "ratio", "score"]
Better = Literal["lower", "higher"]
OUTCOMES = ("pass", "warn", "fail", "not_applicable", "error", "waived")


class Evidence(NamedTuple):
    """One piece of what a finding rests on: an event, a clock segment or a note."""

    kind: str  #: ``event``, ``segment`` or ``note``
    label: str  #: what this piece is to the check: ``from``, ``to``, ``handoff``, ``paused``...
    at: datetime | None = None
    until: datetime | None = None  #: end of a segment
    event_index: int | None = None  #: position in the record's (time-ordered) timeline
    detail: str = ""


#: Evidence as a tuple, or a function that builds it when a finding needs it.
EvidenceSource = tuple[Evidence, ...] | Callable[[], tuple[Evidence, ...]]


class Measurement(NamedTuple):
    """What a check measured on one record.

    ``value`` is compared with the rule's thresholds.  ``value=None`` means the rule does not
    apply to this record (the events it needs are not there); ``note`` says why.  A check that
    decides the outcome itself (for example "at risk" while a case is still open) sets
    ``outcome``; the thresholds are then reported but not applied.

    ``evidence`` may be given as a zero-argument function that returns the tuple.  The engine
    calls it only when the outcome is reported as a finding, so a check whose evidence costs
    something to build (clock segments, formatted durations) pays nothing for the passes that
    are only counted.
    """

    value: float | None
    evidence: EvidenceSource = ()
    note: str = ""
    outcome: str | None = None

    @classmethod
    def not_applicable(cls, note: str, evidence: EvidenceSource = ()) -> Measurement:
        return cls(None, evidence, note)

    def evidence_tuple(self) -> tuple[Evidence, ...]:
        """The evidence, built now if the check deferred it."""
        evidence = self.evidence
        return evidence() if callable(evidence) else evidence


class ParamError(ValueError):
    """A rule's params refused by a check's compile step, at the param the fault is in.

    ``path`` leads from ``params`` to the value (``("schedules", "apac")``), so the loader
    points at that line; a plain ``ValueError`` is located at ``params`` itself.
    """

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.path = path


class CompileContext(NamedTuple):
    """What a check may use while compiling a rule, besides the rule's params.

    ``schedules`` holds the business schedules defined in the standards folders
    (``kind: schedule`` files), by name, for checks that measure business time.
    ``thresholds`` is the rule's zone of tolerance (one zone, or a matrix by a record
    attribute), for checks that decide an outcome themselves, such as "at risk" while a case
    is still open; :meth:`zone_for` picks the zone for one record.
    """

    standard: str
    rule: str
    schedules: Mapping[str, Any] = {}
    thresholds: Thresholds | ThresholdMatrix | None = None

    def zone_for(self, record: Record) -> Thresholds | None:
        """The zone of tolerance that applies to ``record``; ``None`` when none does.

        A matrix picks the zone by the record's attribute and falls back to its ``otherwise``
        zone; a record that matches neither has none.
        """
        if isinstance(self.thresholds, ThresholdMatrix):
            return self.thresholds.for_record(record)
        return self.thresholds

    def schedule(self, name: str | None) -> Any:
        """The named schedule (a :class:`rulecore.clock.Schedule`); ``None`` for calendar time.

        Raises ``ValueError`` naming the known schedules when there is no such schedule.
        """
        if name is None:
            return None
        if name not in self.schedules:
            known = ", ".join(sorted(self.schedules)) or _("none are defined")
            raise ValueError(
                _("unknown schedule {name!r}; known schedules: {known}").format(
                    name=name, known=known
                )
            )
        return self.schedules[name]


class EvaluationContext(NamedTuple):
    """What a check may know besides the record: the moment the audit is "as of"."""

    as_of: datetime | None = None


#: A compiled per-record check.
Evaluator = Callable[[Record, EvaluationContext], Measurement]


class Accumulator(Protocol):
    """A compiled cross-record check: fed every in-scope record, asked for results at the end."""

    def add(self, record: Record, context: EvaluationContext) -> None: ...

    def results(self) -> Iterable[tuple[str, Measurement]]:
        """Yield ``(record_id, measurement)`` pairs, in a deterministic order."""
        ...


class DrainingAccumulator(Accumulator, Protocol):
    """An accumulator that can hand out results before the end of the stream.

    After each ``add``, the audit calls ``drain()`` and emits what it yields at once, so
    results that can no longer change (for example those older than a window) need not wait
    in memory until ``results()``.  ``results()`` then yields only what was not drained.  A
    record's result is yielded once, by one or the other.
    """

    def drain(self) -> Iterable[tuple[str, Measurement]]:
        """Yield the ``(record_id, measurement)`` pairs that are final now, and forget them."""
        ...


@dataclass(frozen=True)
class Check:
    """A per-record check, as a plugin registers it.

    :param name: how standards refer to it (``elapsed``, ``handoffs``); unique across plugins.
    :param dimension: the service dimension it measures (``timeliness``, ``flow``...).
    :param doc: what it measures and how, in plain words (shown by ``rulecore explain``).
    :param params_schema: JSON Schema for the rule's ``params``; validated before ``compile``.
    :param compile: ``compile(params, context)`` turns validated params into an
        :data:`Evaluator`; raise ``ValueError`` with a plain message for a problem the schema
        cannot express.  ``context`` is a :class:`CompileContext`.
    :param unit: how the measured value reads: seconds, a count, a ratio or a score.
    :param better: whether a ``lower`` or ``higher`` value is better service.
    :param default_thresholds: ``{"desired": ..., "adequate": ...}`` used when a rule gives none.
    :param example: a YAML rule using the check, for the docs and ``rulecore explain``.
    """

    name: str
    dimension: str
    doc: str
    params_schema: Mapping[str, Any]
    compile: Callable[[Mapping[str, Any], CompileContext], Evaluator]
    unit: Unit = "count"
    better: Better = "lower"
    default_thresholds: Mapping[str, Any] = field(default_factory=dict)
    example: str = ""


@dataclass(frozen=True)
class CrossRecordCheck:
    """A check over more than one record; see the module docstring.

    Same fields as :class:`Check`, except that ``compile`` returns a factory of fresh
    :class:`Accumulator` objects, one per audit run, so compiled standards stay shareable
    between threads.
    """

    name: str
    dimension: str
    doc: str
    params_schema: Mapping[str, Any]
    compile: Callable[[Mapping[str, Any], CompileContext], Callable[[], Accumulator]]
    unit: Unit = "count"
    better: Better = "lower"
    default_thresholds: Mapping[str, Any] = field(default_factory=dict)
    example: str = ""


AnyCheck = Check | CrossRecordCheck


class CheckCatalog(Protocol):
    """What compiling standards needs of the plugins: their checks by name, each with the
    name of the plugin that registered it.  :class:`rulecore.Registry` is one."""

    @property
    def checks(self) -> Mapping[str, tuple[str, AnyCheck]]: ...
