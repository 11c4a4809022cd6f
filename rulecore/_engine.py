"""The engine: compiled standards, evaluated against a stream of records.

Compile once (:meth:`Engine.from_paths`), then evaluate one record (:meth:`Engine.evaluate`)
or a stream (:meth:`Engine.audit`).  An :class:`Engine` is immutable after construction, so
one instance can serve many threads; each audit keeps its own counters and cross-record state.

Per record, the engine calls each in-scope rule's compiled evaluator directly: no hook call,
no re-parsing, no interpretation of conditions.  Only outcomes that are reported become
:class:`Finding` objects; a pass or a not_applicable is a counter increment unless
``all_outcomes`` is asked for.  A finding is compact until a reporter reads it: its message
and evidence are rendered then (see :mod:`rulecore._findings`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from ._baseline import TRACKED, Baseline
from ._budget import RuleBudget, RuleOverran, watch
from ._checks import Accumulator, EvaluationContext, Evidence, Measurement
from ._conditions import is_always
from ._findings import Finding, RuleRef, classify, fingerprint, matrix_attribute
from ._i18n import _
from ._model import Record
from ._occurrences import Expected, Occurrences, expected_values
from ._plugins import PluginManager, Registry, collect, get_plugin_manager
from ._readers import Item, Rejection
from ._service_levels import NO_GROUP, ServiceLevel
from ._standards import Rule, Standard, load_standards
from ._summary import Summary, Tally, build_summary
from ._thresholds import ThresholdMatrix, Thresholds
from ._waivers import Waivers
from ._writers import ReportSink

POPULATION = "(population)"
#: Outcomes that are counted but not sent to the sink unless ``all_outcomes`` asks.
_COUNTED_ONLY = frozenset(("pass", "not_applicable"))
_WAIVABLE = frozenset(("fail", "warn"))


class _Bound(NamedTuple):
    """A rule bound to its standard, flattened for the hot path.

    ``applies`` is ``None`` when the rule has no scope; ``zone`` is the rule's single zone of
    tolerance, or ``None`` when ``matrix`` picks one per record.
    """

    standard: Standard
    rule: Rule
    slot: int
    ref: RuleRef
    evaluate: Any
    applies: Callable[[Record], bool] | None
    zone: Thresholds | None
    matrix: ThresholdMatrix | None
    level: ServiceLevel | None


def _bind(standard: Standard, rule: Rule, slot: int) -> _Bound:
    ref = RuleRef(
        standard.id,
        standard.version,
        rule.id,
        standard.dimension,
        rule.check,
        rule.plugin,
        rule.severity,
        rule.message or None,
        matrix_attribute(rule.thresholds),
    )
    thresholds = rule.thresholds
    matrix = thresholds if isinstance(thresholds, ThresholdMatrix) else None
    return _Bound(
        standard,
        rule,
        slot,
        ref,
        rule.compiled,
        None if is_always(rule.applies) else rule.applies,
        thresholds if isinstance(thresholds, Thresholds) else None,
        matrix,
        rule.service_level,
    )


@dataclass(frozen=True)
class Engine:
    """Compiled standards, ready to evaluate records.  Thread-safe once built."""

    standards: tuple[Standard, ...]
    registry: Registry
    _per_record: tuple[tuple[Callable[[Record], bool] | None, tuple[_Bound, ...]], ...] = field(
        init=False, repr=False
    )
    _cross_record: tuple[_Bound, ...] = field(init=False, repr=False)
    _slots: tuple[_Bound, ...] = field(init=False, repr=False)
    #: the event types, actors, values and statuses the rules name, to say which never occur
    _expected: tuple[Expected, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        slots: list[_Bound] = []
        per_record: list[tuple[Callable[[Record], bool] | None, tuple[_Bound, ...]]] = []
        cross: list[_Bound] = []
        for standard in self.standards:
            bound_rules: list[_Bound] = []
            for rule in standard.rules:
                bound = _bind(standard, rule, len(slots))
                slots.append(bound)
                (cross if rule.cross_record else bound_rules).append(bound)
            if bound_rules:
                applies = None if is_always(standard.applies) else standard.applies
                per_record.append((applies, tuple(bound_rules)))
        object.__setattr__(self, "_per_record", tuple(per_record))
        object.__setattr__(self, "_cross_record", tuple(cross))
        object.__setattr__(self, "_slots", tuple(slots))
        expected = [
            value
            for bound in slots
            for value in expected_values(bound.standard.id, bound.rule.id, bound.rule.params)
        ]
        object.__setattr__(self, "_expected", tuple(expected))

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
        """Every outcome, passes and not_applicable included, of the per-record rules that
        apply to ``record``.

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
        rule_timeout: float | None = None,
    ) -> Summary:
        """Audit a stream of records and rejections; send results to ``sink``; return the summary.

        :param all_outcomes: report passes and not_applicable outcomes as findings too
            (otherwise they are only counted).
        :param as_of: judge open cases as of this moment (checks that support it).
        :param on_item: called once per item, for progress display.
        :param group_by: record attributes to break compliance down by (team, channel...).
        :param waivers: accepted exceptions; matching warn and fail outcomes become ``waived``.
        :param baseline: a previous audit's findings; each finding is marked new or persisting.
        :param rule_timeout: seconds a check may run on one record before it is stopped and
            its outcome is an ``error`` (``None``: no limit); see :mod:`rulecore._budget`.
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
        add = run.add
        with RuleBudget(rule_timeout):
            if on_item is None:
                for item in items:
                    add(item)
            else:
                for item in items:
                    add(item)
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
        """Evaluate every in-scope per-record rule on ``record``: count, and emit what is
        reported.  This is the hot path: one call per record, nothing rebuilt per rule."""
        count = None
        if tally is not None:
            tally.begin(record)
            count = tally.count
        record_id = record.id
        reordered = record.reordered
        # The rule whose check is running, read from this frame by the --rule-timeout watch.
        checking: _Bound | None = None
        for standard_applies, rules in self._per_record:
            if standard_applies is not None and not standard_applies(record):
                continue
            for bound in rules:
                applies = bound.applies
                if applies is not None and not applies(record):
                    continue
                try:
                    checking = bound
                    measurement = bound.evaluate(record, context)
                    if measurement.__class__ is not Measurement and not isinstance(
                        measurement, Measurement
                    ):
                        raise TypeError(f"returned {type(measurement).__name__}, not a Measurement")
                    thresholds = (
                        bound.zone if bound.matrix is None else bound.matrix.for_record(record)
                    )
                    outcome = classify(measurement, thresholds)
                except Exception as error:  # one plugin's fault stays that plugin's
                    checking = None
                    measurement = _error(bound, record_id, error)
                    thresholds, outcome = None, "error"
                except RuleOverran as overran:
                    checking = None
                    measurement = _overran(bound, record_id, overran)
                    thresholds, outcome = None, "error"
                checking = None  # noqa: F841 - read by the watch
                waiver = finding_print = None
                if waivers is not None and outcome in _WAIVABLE:
                    if waivers.by_fingerprint:  # computed once, for the waiver and the finding
                        finding_print = fingerprint(bound.ref.standard, bound.ref.rule, record_id)
                    waiver = waivers.match(
                        bound.ref.standard, bound.ref.rule, record_id, finding_print
                    )
                    if waiver is not None:
                        outcome = "waived"
                if count is not None:
                    count(bound.slot, outcome)
                    level = bound.level
                    if level is not None:
                        group = level.group_of(record)
                        tally.observe_level(  # type: ignore[union-attr]
                            bound.slot, level, group, outcome, measurement.value
                        )
                if all_outcomes or outcome not in _COUNTED_ONLY:
                    emit(
                        Finding(
                            bound.ref,
                            record_id,
                            outcome,
                            measurement,
                            thresholds,
                            waiver=waiver,
                            with_evidence=with_evidence,
                            reordered=reordered,
                            fingerprint=finding_print,
                        )
                    )
        if tally is not None:
            tally.end()


def _error(bound: _Bound, record_id: str, error: Exception) -> Measurement:
    rule = bound.rule
    return Measurement(
        None,
        (Evidence("note", "exception", detail=f"{type(error).__name__}: {error}"),),
        _(
            "check {check!r} from plugin {plugin!r} raised {kind}: {error} "
            "(rule {rule!r}, record {record!r})"
        ).format(
            check=rule.check,
            plugin=rule.plugin,
            kind=type(error).__name__,
            error=error,
            rule=rule.id,
            record=record_id,
        ),
        outcome="error",
    )


def _overran(bound: _Bound, record_id: str, overran: RuleOverran) -> Measurement:
    rule = bound.rule
    budget = f"{overran.seconds:g} s"
    return Measurement(
        None,
        (Evidence("note", "timeout", detail=_("ran longer than {budget}").format(budget=budget)),),
        _(
            "check {check!r} from plugin {plugin!r} ran longer than its budget of {budget} "
            "(--rule-timeout) and was stopped (rule {rule!r}, record {record!r})"
        ).format(
            check=rule.check, plugin=rule.plugin, budget=budget, rule=rule.id, record=record_id
        ),
        outcome="error",
    )


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
        self.occurrences = Occurrences(engine._expected)
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
        if self.occurrences.pending:  # until every value the rules name has turned up
            self.occurrences.observe(item)
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
        # The rule whose check is running, read from this frame by the --rule-timeout watch.
        checking: _Bound | None = None
        for bound, accumulator, drain in self.accumulators:
            if bound.standard.applies(item) and bound.rule.applies(item):
                try:
                    checking = bound
                    accumulator.add(item, self.context)
                    checking = None
                except Exception as error:  # one plugin's fault stays that plugin's
                    checking = None
                    self._emit(bound, item.id, _error(bound, item.id, error), None, "error")
                    continue
                except RuleOverran as overran:
                    checking = None  # noqa: F841 - read by the watch
                    self._emit(bound, item.id, _overran(bound, item.id, overran), None, "error")
                    continue
                # Results an accumulator already knows are final go out now, so that it need
                # not hold them until the end (memory bounded by its window, not the input).
                if drain is not None:
                    self._emit_results(bound, drain)

    def _send(self, finding: Finding) -> None:
        if self.baseline is not None and finding.outcome in TRACKED:
            finding = finding.replace(baseline=self.baseline.status(finding.fingerprint))
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
            never_occurred=tuple(value.as_dict() for value in self.occurrences.never()),
        )
        self.sink.close(summary)
        return summary

    def _emit_results(
        self, bound: _Bound, produce: Callable[[], Iterable[tuple[str, Measurement]]]
    ) -> None:
        """Judge and emit what an accumulator's ``results()`` (or ``drain()``) produces.

        When it fails part way, the results it gave before are kept, and the failure is one
        ``(population)`` error: one bad record must not wipe out everyone else's results.
        """
        thresholds = bound.rule.thresholds
        zone = thresholds if isinstance(thresholds, Thresholds) else thresholds.otherwise
        judged = []
        failure = None
        try:
            for record_id, measurement in _checked_results(produce()):
                judged.append((record_id, measurement, classify(measurement, zone)))
        except Exception as error:  # one plugin's fault stays that plugin's
            failure = error
        for record_id, measurement, outcome in judged:
            self._emit(bound, record_id, measurement, zone, outcome)
        if failure is not None:
            self._emit(bound, POPULATION, _error(bound, POPULATION, failure), None, "error")

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
        if self.all_outcomes or outcome not in _COUNTED_ONLY:
            self._send(
                Finding(
                    bound.ref,
                    record_id,
                    outcome,
                    measurement,
                    thresholds,
                    waiver=waiver,
                    with_evidence=self.with_evidence,
                )
            )


watch(Engine._evaluate_into.__code__, "record")
watch(AuditRun._accumulate.__code__, "item")


def _checked_results(produced: Iterable[Any]) -> Iterator[tuple[str, Measurement]]:
    for result in produced:
        if (
            not isinstance(result, tuple)
            or len(result) != 2
            or not isinstance(result[0], str)
            or not isinstance(result[1], Measurement)
        ):
            raise TypeError(f"results() gave {result!r}, not a (record id, Measurement) pair")
        yield result[0], result[1]
