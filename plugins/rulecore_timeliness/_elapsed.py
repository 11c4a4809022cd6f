"""``elapsed``: the time between two events, on the case clock.

The span runs from the ``from`` event to the first (or last) ``to`` event after it.  The clock
counts calendar time, or business time on a named schedule; it stops while the case sits in a
paused status; on a reopen it either restarts or continues.  A finished span shorter than
``at_least`` is too rushed.  An open case (no ``to`` event yet) is judged in flight when the
audit runs as of a moment; without a moment, ``missing: fail`` makes it a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rulecore import (
    CASE_CLOCK_PROPERTIES,
    CaseClock,
    CaseView,
    Check,
    CompileContext,
    EvaluationContext,
    Evaluator,
    Evidence,
    Measurement,
    Record,
    Thresholds,
    compile_selector,
    describe_selector,
    event_times,
    find_position,
    positions_of,
    selector_types,
    timeline_index,
)
from rulecore.i18n import _

from ._casetime import EventPredicate, event_evidence
from ._params import (
    LOWER_BOUND_SCHEMA,
    SELECTOR_DEFS,
    SHARE_SCHEMA,
    endpoint_schema,
    parse_lower_bound,
    parse_share,
)
from ._zones import ZoneFor, judge_in_flight, judge_too_rushed, worse

ELAPSED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["from", "to"],
    "additionalProperties": False,
    "properties": {
        "from": endpoint_schema(
            "The event that starts the clock: a selector {type, actor, where} plus "
            "occurrence (first or last; default first)."
        ),
        "to": endpoint_schema(
            "The event that stops it, searched for after the 'from' event (after the last "
            "reopen when on_reopen is set): a selector plus occurrence."
        ),
        **CASE_CLOCK_PROPERTIES,
        "on_reopen": {
            "enum": ["restart", "continue"],
            "description": (
                "What a reopen (see `reopen`) does to the clock.  restart: measure from the "
                "last reopen to the 'to' event after it.  continue: measure from the 'from' "
                "event, with each stretch from a resolution to the reopen that undid it left "
                "out (paused).  Absent: reopens are not treated specially."
            ),
        },
        "reopen": {
            **CASE_CLOCK_PROPERTIES["reopen"],
            "description": CASE_CLOCK_PROPERTIES["reopen"]["description"] + "  Needs on_reopen.",
        },
        "at_least": LOWER_BOUND_SCHEMA,
        "missing": {
            "enum": ["not_applicable", "fail"],
            "description": (
                "What a record with the 'from' event but no 'to' event after it is.  "
                "not_applicable (default): the rule does not apply to it.  fail: a reply that "
                "never came breaks the standard, so the record fails, with a note and the 'from' "
                "event as evidence.  Only when a zone applies to the record; audited --as-of a "
                "moment, an open case is still judged in flight."
            ),
        },
        "at_risk": {
            **SHARE_SCHEMA,
            "description": (
                "In flight (no 'to' event yet, audit run with --as-of): warn as 'at risk' once "
                "this share of the target (the adequate level) has elapsed, such as 75%.  "
                "Default: once the desired level has elapsed.  Past the target it fails as "
                "breached; before the share it is not_applicable (on track)."
            ),
        },
    },
    "$defs": SELECTOR_DEFS,
}


@dataclass(frozen=True)
class _Endpoint:
    matches: EventPredicate
    occurrence: str
    words: str
    types: frozenset[str] | None  #: set when the selector names only types: found by index

    def find(self, record: Record, view: CaseView, after: int = -1) -> int | None:
        """The endpoint's event after ``after``, among the events the view considered."""
        if self.types is None:
            return view.find(self.matches, self.occurrence, after)
        considered = view.considered
        return find_position(
            positions_of(timeline_index(record), self.types),
            self.occurrence,
            after,
            considered if considered < len(view.events) else None,
        )


def _endpoint(spec: Mapping[str, Any]) -> _Endpoint:
    selector = {key: value for key, value in spec.items() if key != "occurrence"}
    return _Endpoint(
        compile_selector(selector),
        spec.get("occurrence", "first"),
        describe_selector(selector),
        selector_types(selector),
    )


@dataclass(frozen=True)
class _Span:
    """Where the clock starts and stops on one record, and what it leaves out."""

    start: int  #: the event the clock (re)starts at
    stop: int | None  #: the event it stops at; ``None`` while the case is open
    skipped: tuple[tuple[datetime, datetime], ...]  #: resolved stretches a reopen undid
    evidence: tuple[Evidence, ...]  #: the reopens, if any


@dataclass(frozen=True)
class _Elapsed:
    """One compiled ``elapsed`` rule."""

    start: _Endpoint
    stop: _Endpoint
    clock: CaseClock
    on_reopen: str | None
    lower_bound: Thresholds | None
    at_risk: float | None
    zone_for: ZoneFor
    missing_fails: bool

    def __call__(self, record: Record, context: EvaluationContext) -> Measurement:
        view = self.clock.view(record, context.as_of)
        if isinstance(view, Measurement):
            return view
        start = self.start.find(record, view)
        if start is None:
            return Measurement.not_applicable(
                _("no {event} event{as_of}").format(event=self.start.words, as_of=_as_of(context))
            )
        span = self._span(record, view, start)
        if span.stop is None:
            if context.as_of is None:
                return self._missing(record, view, span)
            return self._in_flight(record, view, span, context.as_of)
        return self._finished(record, view, span, span.stop)

    # --- where the span runs ----------------------------------------------------------------

    def _span(self, record: Record, view: CaseView, start: int) -> _Span:
        if self.on_reopen is None or not view.reopens or view.reopens[-1] <= start:
            return _Span(start, self.stop.find(record, view, after=start), (), ())
        reopens = [index for index in view.reopens if index > start]
        last_reopen = reopens[-1]
        stop = self.stop.find(record, view, after=last_reopen)
        if self.on_reopen == "restart":
            evidence = (
                *(
                    event_evidence(view, "reopen", index, "reopened; the clock restarted later")
                    for index in reopens[:-1]
                ),
                event_evidence(view, "reopen", last_reopen, _("reopened; the clock restarts here")),
            )
            return _Span(last_reopen, stop, (), evidence)
        skipped, evidence = self._resolved_stretches(view, start, reopens)
        return _Span(start, stop, skipped, evidence)

    def _resolved_stretches(
        self, view: CaseView, start: int, reopens: list[int]
    ) -> tuple[tuple[tuple[datetime, datetime], ...], tuple[Evidence, ...]]:
        """Each stretch from the resolution a reopen undid to that reopen, and its evidence.

        The stretch starts at the *first* resolution after the clock last (re)started: later
        ones (resolved, then closed) happen while the case is already resolved.
        """
        resolving_statuses = self.clock.resolves(view)
        stretches: list[tuple[datetime, datetime]] = []
        evidence: list[Evidence] = []
        previous = start
        for reopen in reopens:
            resolved = next(
                (
                    index
                    for index in range(previous + 1, reopen)
                    if index in resolving_statuses or self.stop.matches(view.events[index])
                ),
                None,
            )
            if resolved is not None:
                stretches.append((view.events[resolved].at, view.events[reopen].at))
                stops = _("the clock stops here")
                evidence.append(event_evidence(view, "resolved", resolved, stops))
            evidence.append(
                event_evidence(view, "reopen", reopen, _("reopened; the clock continues here"))
            )
            previous = reopen
        return tuple(stretches), tuple(evidence)

    # --- judging ----------------------------------------------------------------------------

    def _finished(self, record: Record, view: CaseView, span: _Span, stop: int) -> Measurement:
        times = event_times(record)
        skipped = [(lo.timestamp(), hi.timestamp()) for lo, hi in span.skipped]
        seconds = self.clock.seconds(view, times[span.start], times[stop], skipped)

        def evidence() -> tuple[Evidence, ...]:  # built only if the outcome is reported
            started, stopped = view.events[span.start].at, view.events[stop].at
            measured = self.clock.measure(view, started, stopped, span.skipped, counted=seconds)
            return (
                event_evidence(view, "from", span.start, self._start_words(span)),
                event_evidence(view, "to", stop, self.stop.words),
                *span.evidence,
                *self.clock.evidence(view, measured, started, stopped),
            )

        if self.lower_bound is None:
            return Measurement(seconds, evidence)
        rushed = judge_too_rushed(seconds, self.lower_bound)
        if rushed.outcome is None:
            return Measurement(seconds, evidence)
        zone = self.zone_for(record)
        outcome = worse(rushed.outcome, zone.classify(seconds) if zone else None)
        return Measurement(seconds, evidence, rushed.note, outcome)

    def _missing(self, record: Record, view: CaseView, span: _Span) -> Measurement:
        note = _("no {stop} event after the {start}").format(
            stop=self.stop.words, start=self.start.words
        )
        if not self.missing_fails or self.zone_for(record) is None:
            return Measurement.not_applicable(note)

        def evidence() -> tuple[Evidence, ...]:
            return (
                event_evidence(view, "from", span.start, self._start_words(span)),
                *span.evidence,
                Evidence("note", "missing", detail=note),
            )

        return Measurement(None, evidence, note, "fail")

    def _in_flight(
        self, record: Record, view: CaseView, span: _Span, as_of: datetime
    ) -> Measurement:
        started = view.events[span.start].at
        measured = self.clock.measure(view, started, as_of, span.skipped)
        evidence = (
            event_evidence(view, "from", span.start, self._start_words(span)),
            Evidence(
                "note",
                "as_of",
                as_of,
                detail=_("no {event} event yet").format(event=self.stop.words),
            ),
            *span.evidence,
            *self.clock.evidence(view, measured, started, as_of),
        )
        zone = self.zone_for(record)
        if zone is None:
            return Measurement.not_applicable(
                _("still open, and no thresholds apply to this record"), evidence
            )
        judged = judge_in_flight(measured.seconds, zone, self.at_risk, as_of)
        if judged.outcome == "not_applicable":
            return Measurement.not_applicable(judged.note, evidence)
        return Measurement(measured.seconds, evidence, judged.note, judged.outcome)

    def _start_words(self, span: _Span) -> str:
        return "reopened" if self.on_reopen == "restart" and span.evidence else self.start.words


def _as_of(context: EvaluationContext) -> str:
    if context.as_of is None:
        return ""
    return _(" as of {moment}").format(moment=context.as_of.isoformat())


def _refuse_keys_without_effect(params: Mapping[str, Any]) -> None:
    """A key that would silently change nothing is a mistake in the standard: say so."""
    if "reopen" in params and "on_reopen" not in params:
        raise ValueError(
            _(
                "reopen says what counts as a reopen, but without on_reopen (restart or continue) "
                "reopens are not treated specially"
            )
        )
    if "status" in params and "pause" not in params and "on_reopen" not in params:
        raise ValueError(
            _(
                "status says where the case's status is read from, which only pause and on_reopen "
                "use; this rule has neither"
            )
        )


def compile_elapsed(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    """Compile one ``elapsed`` rule: selectors, schedule and bounds are read here, once."""
    at_least, at_risk = params.get("at_least"), params.get("at_risk")
    _refuse_keys_without_effect(params)
    zone_for = context.zone_for
    return _Elapsed(
        start=_endpoint(params["from"]),
        stop=_endpoint(params["to"]),
        clock=CaseClock.compile(params, context, reads_reopens="on_reopen" in params),
        on_reopen=params.get("on_reopen"),
        lower_bound=parse_lower_bound(at_least) if at_least is not None else None,
        at_risk=parse_share(at_risk, "at_risk") if at_risk is not None else None,
        zone_for=zone_for,
        missing_fails=params.get("missing") == "fail",
    )


ELAPSED = Check(
    name="elapsed",
    dimension="timeliness",
    doc=(
        "Time between two events in the timeline, such as opened → first agent reply or "
        "opened → resolved.  Each end is an event selector (type, actor, where) plus which "
        "occurrence to take, first or last; the 'to' event is searched for after the 'from' "
        "event.  Calendar time by default; with 'schedule', business time on a named schedule "
        "(open hours, time zone, holidays), the zone taken from a record attribute with "
        "'timezone_attribute' when the schedule names none.  'pause' stops the clock while the "
        "case is in given statuses (read from the events' status field); 'on_reopen' restarts "
        "or continues the clock when a resolved case is reopened.  'at_least' makes a span that "
        "is too short a finding (too rushed).  'missing: fail' fails a record that has the "
        "'from' event but no 'to' event after it, instead of leaving it not_applicable.  An "
        "open case (no 'to' event) audited --as-of a moment is judged on the time so far: "
        "fail once breached, warn as 'at risk' once 'at_risk' of the target has elapsed, "
        "otherwise not_applicable.  Lower is better.  A "
        "record without the events is not_applicable, with a note that says which is missing.  "
        "Evidence: the from/to events, reopens, pauses, a clock summary and the clock's "
        "segments (counted, paused, outside_hours, holiday)."
    ),
    params_schema=ELAPSED_SCHEMA,
    compile=compile_elapsed,
    unit="seconds",
    better="lower",
    example=(
        "- id: resolution\n"
        "  check: elapsed\n"
        "  params:\n"
        "    from: {type: opened}\n"
        "    to: {type: resolved, occurrence: last}\n"
        "    schedule: support-hours\n"
        "    pause: {while: [awaiting_customer]}\n"
        "    on_reopen: continue\n"
        "  thresholds:\n"
        "    by: priority\n"
        "    values:\n"
        "      high: {desired: 2h, adequate: 4h}\n"
        "      normal: {target: 1d, warn_at: 75%}\n"
        "    otherwise: {desired: 2d, adequate: 3d}\n"
    ),
)
