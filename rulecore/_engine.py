"""The engine: compiled standards, evaluated against a stream of records.

Compile once (:meth:`Engine.from_paths`), then evaluate one record (:meth:`Engine.evaluate`)
or a stream (:meth:`Engine.audit`).  An :class:`Engine` is immutable after construction, so
one instance can serve many threads; each audit keeps its own counters and cross-record state.

Per record, the engine calls each in-scope rule's compiled evaluator directly: no hook call,
no re-parsing, no interpretation of conditions.  Only outcomes that are reported become
:class:`Finding` objects; a pass is a counter increment unless ``all_outcomes`` is asked for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from ._baseline import TRACKED, Baseline
from ._checks import OUTCOMES, Accumulator, EvaluationContext, Evidence, Measurement
from ._findings import Finding, fingerprint, render_message
from ._model import Record
from ._plugins import PluginManager, Registry, collect, get_plugin_manager
from ._readers import Item, Rejection
from ._service_levels import NO_GROUP
from ._standards import Rule, Standard, load_standards
from ._summary import Summary, Tally, build_summary
from ._thresholds import ThresholdMatrix, Thresholds, format_value
from ._waivers import Waiver, Waivers

POPULATION = "(population)"


class ReportSink(Protocol):
    """Where an audit's results go as they are produced (a writer, a collector, a tee).

    A sink that never shows findings' evidence may set ``needs_evidence = False``: findings
    then arrive with empty evidence, and checks' deferred evidence is never built.
    """

    def finding(self, finding: Finding) -> None: ...

    def rejection(self, rejection: Rejection) -> None: ...

    def close(self, summary: Summary) -> None: ...


class _Bound(NamedTuple):
    """A rule bound to its standard, flattened for the hot path."""

    standard: Standard
    rule: Rule
    slot: int


@dataclass(frozen=True)
class Engine:
    """Compiled standards, ready to evaluate records.  Thread-safe once built."""

    standards: tuple[Standard, ...]
    registry: Registry
    _per_record: tuple[tuple[Standard, tuple[_Bound, ...]], ...] = field(init=False, repr=False)
    _cross_record: tuple[_Bound, ...] = field(init=False, repr=False)
    _slots: tuple[_Bound, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        slots: list[_Bound] = []
        per_record: list[tuple[Standard, tuple[_Bound, ...]]] = []
        cross: list[_Bound] = []
        for standard in self.standards:
            bound_rules: list[_Bound] = []
            for rule in standard.rules:
                bound = _Bound(standard, rule, len(slots))
                slots.append(bound)
                (cross if rule.cross_record else bound_rules).append(bound)
            per_record.append((standard, tuple(bound_rules)))
        object.__setattr__(self, "_per_record", tuple(per_record))
        object.__setattr__(self, "_cross_record", tuple(cross))
        object.__setattr__(self, "_slots", tuple(slots))

    @classmethod
    def from_paths(
        cls,
        paths: Iterable[str | Path],
        plugin_manager: PluginManager | None = None,
    ) -> Engine:
        """Load, validate and compile the standards at ``paths`` (files or folders).

        Raises :class:`rulecore.StandardsInvalid` listing every problem at ``file:line:col``.
        """
        registry = collect(plugin_manager or get_plugin_manager())
        return cls(load_standards([Path(p) for p in paths], registry), registry)

    # ----------------------------------------------------------------------------------------

    def evaluate(self, record: Record, as_of: datetime | None = None) -> list[Finding]:
        """Every outcome, passes included, of the per-record rules that apply to ``record``.

        Cross-record rules need the whole stream; use :meth:`audit` for them.
        """
        found: list[Finding] = []
        self._evaluate_into(record, EvaluationContext(as_of), None, found.append, True, None)
        return found

    def audit(
        self,
        items: Iterable[Item],
        sink: ReportSink | None = None,
        *,
        all_outcomes: bool = False,
        as_of: datetime | None = None,
        on_item: Callable[[], None] | None = None,
        group_by: Sequence[str] = (),
        waivers: Waivers | None = None,
        baseline: Baseline | None = None,
    ) -> Summary:
        """Audit a stream of records and rejections; send results to ``sink``; return the summary.

        :param all_outcomes: report passes as findings too (otherwise they are only counted).
        :param as_of: judge open cases as of this moment (checks that support it).
        :param on_item: called once per item, for progress display.
        :param group_by: record attributes to break compliance down by (team, channel...).
        :param waivers: accepted exceptions; matching warn and fail outcomes become ``waived``.
        :param baseline: a previous audit's findings; each finding is marked new or persisting.
        """
        run = AuditRun(
            self,
            sink or _NullSink(),
            all_outcomes=all_outcomes,
            as_of=as_of,
            group_by=group_by,
            waivers=waivers,
            baseline=baseline,
        )
        for item in items:
            run.add(item)
            if on_item is not None:
                on_item()
        return run.finish()

    def takes_cross_record(self, record: Record) -> bool:
        """Whether a cross-record rule applies to ``record`` (``--jobs`` sends only such
        records on to the process that runs the cross-record rules)."""
        return any(
            bound.standard.applies(record) and bound.rule.applies(record)
            for bound in self._cross_record
        )

    # ----------------------------------------------------------------------------------------

    def _evaluate_into(
        self,
        record: Record,
        context: EvaluationContext,
        tally: Tally | None,
        emit: Callable[[Finding], None],
        all_outcomes: bool,
        waivers: Waivers | None,
        with_evidence: bool = True,
    ) -> None:
        if tally is not None:
            tally.begin(record)
        for standard, rules in self._per_record:
            if not standard.applies(record):
                continue
            for bound in rules:
                rule = bound.rule
                if not rule.applies(record):
                    continue
                try:
                    measurement = rule.compiled(record, context)
                    if not isinstance(measurement, Measurement):
                        raise TypeError(f"returned {type(measurement).__name__}, not a Measurement")
                    thresholds = _thresholds_for(rule, record)
                    outcome = _classify(measurement, thresholds)
                except Exception as error:  # one plugin's fault stays that plugin's
                    measurement, thresholds, outcome = _error(rule, record.id, error), None, "error"
                waiver = finding_print = None
                if waivers is not None and outcome in ("fail", "warn"):
                    if waivers.by_fingerprint:  # computed once, for the waiver and the finding
                        finding_print = fingerprint(standard.id, rule.id, record.id)
                    waiver = waivers.match(standard.id, rule.id, record.id, finding_print)
                    if waiver is not None:
                        outcome = "waived"
                if tally is not None:
                    tally.count(bound.slot, outcome)
                    level = rule.service_level
                    if level is not None:
                        group = level.group_of(record)
                        tally.observe_level(bound.slot, level, group, outcome, measurement.value)
                if outcome != "pass" or all_outcomes:
                    emit(
                        _finding(
                            bound,
                            record.id,
                            outcome,
                            measurement,
                            thresholds,
                            waiver,
                            with_evidence,
                            record.reordered,
                            finding_print,
                        )
                    )
        if tally is not None:
            tally.end()


def _thresholds_for(rule: Rule, record: Record) -> Thresholds | None:
    thresholds = rule.thresholds
    if isinstance(thresholds, ThresholdMatrix):
        return thresholds.for_record(record)
    return thresholds


_DECIDABLE = frozenset(OUTCOMES) - {"waived"}


def _classify(measurement: Measurement, thresholds: Thresholds | None) -> str:
    """The outcome of a measurement; raises for a measurement no report could carry."""
    value = measurement.value
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
    ):
        raise ValueError(f"measured {value!r}, not a finite number")
    if measurement.outcome is not None:
        if measurement.outcome not in _DECIDABLE:
            allowed = ", ".join(sorted(_DECIDABLE))
            raise ValueError(f"decided outcome {measurement.outcome!r}; use one of {allowed}")
        return measurement.outcome
    if value is None or thresholds is None:
        return "not_applicable"
    return thresholds.classify(value)


def _error(rule: Rule, record_id: str, error: Exception) -> Measurement:
    return Measurement(
        None,
        (Evidence("note", "exception", detail=f"{type(error).__name__}: {error}"),),
        f"check {rule.check!r} from plugin {rule.plugin!r} raised {type(error).__name__}: "
        f"{error} (rule {rule.id!r}, record {record_id!r})",
        outcome="error",
    )


def _finding(
    bound: _Bound,
    record_id: str,
    outcome: str,
    measurement: Measurement,
    thresholds: Thresholds | None,
    waiver: Waiver | None = None,
    with_evidence: bool = True,
    reordered: bool = False,
    finding_print: str | None = None,
) -> Finding:
    standard, rule = bound.standard, bound.rule
    message = _message(rule, record_id, outcome, measurement, thresholds)
    return Finding(
        fingerprint=finding_print or fingerprint(standard.id, rule.id, record_id),
        record=record_id,
        standard=standard.id,
        version=standard.version,
        rule=rule.id,
        dimension=standard.dimension,
        check=rule.check,
        plugin=rule.plugin,
        outcome=outcome,
        severity=rule.severity,
        measured=measurement.value,
        expected=thresholds,
        message=message,
        evidence=_evidence_of(measurement, rule, reordered) if with_evidence else (),
        waiver=waiver,
    )


EVIDENCE_KINDS = ("event", "segment", "note")


#: Said once, by the engine, on every finding of a record whose events the reader sorted.
REORDERED = Evidence("note", "reordered", detail="events were sorted by time")


def _evidence_of(
    measurement: Measurement, rule: Rule, reordered: bool = False
) -> tuple[Evidence, ...]:
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
                detail=f"check {rule.check!r} from plugin {rule.plugin!r} could not give its "
                f"evidence: {type(error).__name__}: {error}",
            ),
        )
    return (*evidence, REORDERED) if reordered else evidence


def _message(
    rule: Rule,
    record_id: str,
    outcome: str,
    measurement: Measurement,
    thresholds: Thresholds | None,
) -> str:
    if outcome == "error":
        return measurement.note
    if outcome == "waived":
        outcome = "fail" if thresholds is None else _classify(measurement, thresholds)
    if outcome == "not_applicable":
        if measurement.value is not None and thresholds is None:
            by = rule.thresholds.by if isinstance(rule.thresholds, ThresholdMatrix) else ""
            return f"no thresholds for this record's {by} and no 'otherwise' zone"
        return measurement.note or "the events this rule needs are not in the record"
    unit = thresholds.unit if thresholds else "count"
    measured = format_value(measurement.value, unit)
    expected = thresholds.describe() if thresholds else ""
    if rule.message:
        values = {
            "measured": measured,
            "expected": expected,
            "desired": format_value(thresholds.desired, unit) if thresholds else "",
            "adequate": format_value(thresholds.adequate, unit) if thresholds else "",
            "record": record_id,
            "rule": rule.id,
            "note": measurement.note,
            "outcome": outcome,
        }
        return render_message(rule.message, values)
    text = f"measured {measured}; {expected}"
    return f"{text} ({measurement.note})" if measurement.note else text


class _NullSink:
    def finding(self, finding: Finding) -> None:
        pass

    def rejection(self, rejection: Rejection) -> None:
        pass

    def close(self, summary: Summary) -> None:
        pass


class _Accumulating(NamedTuple):
    """A cross-record rule's accumulator for one audit, and its ``drain`` if it has one."""

    bound: _Bound
    accumulator: Accumulator
    drain: Callable[[], Iterable[tuple[str, Measurement]]] | None


class AuditRun:
    """One audit in progress: counters, cross-record state, and where results go."""

    def __init__(
        self,
        engine: Engine,
        sink: ReportSink,
        *,
        all_outcomes: bool = False,
        as_of: datetime | None = None,
        group_by: Sequence[str] = (),
        waivers: Waivers | None = None,
        baseline: Baseline | None = None,
        cross_record: bool = True,
    ) -> None:
        """``cross_record=False`` leaves the cross-record rules out: a ``--jobs`` worker runs
        the per-record rules, and the process that replays its output runs those."""
        self.engine = engine
        self.waivers = waivers
        self.baseline = baseline
        self.sink = sink
        # A sink that never shows evidence (a scorecard, CSV) says so, and then no check's
        # deferred evidence is built at all.
        self.with_evidence = bool(getattr(sink, "needs_evidence", True))
        self.all_outcomes = all_outcomes
        self.context = EvaluationContext(as_of)
        self.tally = Tally(len(engine._slots), group_by)
        self.read = 0
        self.evaluated = 0
        self.rejected = 0
        self.accumulators: list[_Accumulating] = [
            _Accumulating(bound, accumulator, getattr(accumulator, "drain", None))
            for bound, accumulator in (
                (bound, bound.rule.compiled()) for bound in engine._cross_record
            )
            if cross_record
        ]

    def add(self, item: Item) -> None:
        self.read += 1
        if isinstance(item, Rejection):
            self.rejected += 1
            self.sink.rejection(item)
            return
        self.evaluated += 1
        if self.baseline is not None:
            self.baseline.saw_record(item.id)
        self.engine._evaluate_into(
            item,
            self.context,
            self.tally,
            self._send,
            self.all_outcomes,
            self.waivers,
            self.with_evidence,
        )
        self._accumulate(item)

    def add_evaluated(
        self, record_id: str, findings: Iterable[Finding], record: Record | None = None
    ) -> None:
        """Take a record whose per-record rules another process evaluated (``--jobs``), as
        :meth:`add` would have: its ``findings`` go out in order, then ``record``, if a
        cross-record rule applies to it, goes to the cross-record rules."""
        self.read += 1
        self.evaluated += 1
        if self.baseline is not None:
            self.baseline.saw_record(record_id)
        for finding in findings:
            self._send(finding)
        if record is not None:
            self._accumulate(record)

    def _accumulate(self, item: Record) -> None:
        for bound, accumulator, drain in self.accumulators:
            if bound.standard.applies(item) and bound.rule.applies(item):
                try:
                    accumulator.add(item, self.context)
                except Exception as error:  # one plugin's fault stays that plugin's
                    self._emit(bound, item.id, _error(bound.rule, item.id, error), None, "error")
                    continue
                # Results an accumulator already knows are final go out now, so that it need
                # not hold them until the end (memory bounded by its window, not the input).
                if drain is not None:
                    self._emit_results(bound, drain)

    def _send(self, finding: Finding) -> None:
        if self.baseline is not None and finding.outcome in TRACKED:
            finding = finding._replace(baseline=self.baseline.status(finding.fingerprint))
        self.sink.finding(finding)

    def finish(self) -> Summary:
        """Flush cross-record results, close the sink with the summary, and return it."""
        for bound, accumulator, _drain in self.accumulators:
            self._emit_results(bound, accumulator.results)
        summary = build_summary(
            self.engine.standards,
            [(bound.standard, bound.rule) for bound in self.engine._slots],
            self.tally,
            read=self.read,
            evaluated=self.evaluated,
            rejected=self.rejected,
            as_of=self.context.as_of,
        )
        summary = replace(
            summary,
            waivers=self.waivers.report() if self.waivers is not None else None,
            baseline=self.baseline.report() if self.baseline is not None else None,
        )
        self.sink.close(summary)
        return summary

    def _emit_results(
        self, bound: _Bound, produce: Callable[[], Iterable[tuple[str, Measurement]]]
    ) -> None:
        """Judge and emit what an accumulator's ``results()`` (or ``drain()``) produces."""
        thresholds = bound.rule.thresholds
        zone = thresholds if isinstance(thresholds, Thresholds) else thresholds.otherwise
        try:
            judged = [
                (record_id, measurement, _classify(measurement, zone))
                for record_id, measurement in _checked_results(produce())
            ]
        except Exception as error:  # one plugin's fault stays that plugin's
            self._emit(bound, POPULATION, _error(bound.rule, POPULATION, error), None, "error")
            return
        for record_id, measurement, outcome in judged:
            self._emit(bound, record_id, measurement, zone, outcome)

    def _emit(
        self,
        bound: _Bound,
        record_id: str,
        measurement: Measurement,
        thresholds: Thresholds | None,
        outcome: str,
    ) -> None:
        waiver = None
        if self.waivers is not None and outcome in ("warn", "fail"):
            waiver = self.waivers.match(bound.standard.id, bound.rule.id, record_id)
            if waiver is not None:
                outcome = "waived"
        self.tally.count(bound.slot, outcome)
        level = bound.rule.service_level
        if level is not None and level.by is None:
            self.tally.observe_level(bound.slot, level, NO_GROUP, outcome, measurement.value)
        if outcome != "pass" or self.all_outcomes:
            self._send(
                _finding(
                    bound, record_id, outcome, measurement, thresholds, waiver, self.with_evidence
                )
            )


def _checked_results(produced: Iterable[Any]) -> list[tuple[str, Measurement]]:
    results = []
    for result in produced:
        if (
            not isinstance(result, tuple)
            or len(result) != 2
            or not isinstance(result[0], str)
            or not isinstance(result[1], Measurement)
        ):
            raise TypeError(f"results() gave {result!r}, not a (record id, Measurement) pair")
        results.append((result[0], result[1]))
    return results
