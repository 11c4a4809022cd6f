"""Stalls: the longest stretch a case sat open with nobody working on it.

The case clock (:mod:`rulecore.caseclock`) does the reading: the case is open from its opening
event until it is closed (a closing event, or a change into one of the resolved statuses), and
again from each reopen until the next close.  Inside those periods every *activity* event (by
default anything an agent does) ends one idle wait and starts the next; the close ends the last
one, and a case still open waits until the audit's ``as_of`` moment or its last event.  Each
wait is measured on the clock, in calendar or business time less paused statuses, so the
measurement is the longest *counted* idle time, and its evidence shows the clock's segments.

The clock keys (``schedule``, ``timezone_attribute``, ``status``, ``pause``, ``reopen``) are the
ones every case-clock check takes, so a standard describes its clock one way.
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
    compile_selector,
    format_duration,
    known_events,
)
from rulecore.caseclock import Wait
from rulecore.clock import Measured
from rulecore.i18n import _

from ._common import SELECTOR_DEFS, EventPredicate, describe_event, event_evidence
from ._common import selector as selector_schema

DEFAULT_ACTIVITY: Mapping[str, Any] = {"actor": "agent"}
DEFAULT_OPENED: Mapping[str, Any] = {"type": "opened"}
DEFAULT_CLOSED: Mapping[str, Any] = {"type": ["resolved", "closed"]}

STALLS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "activity": selector_schema(
            "Events that show someone working on the case; each ends an idle gap (default: "
            "any event by an agent)."
        ),
        "opened": selector_schema(
            "The event that opens the case; the first one counts (default: type opened)."
        ),
        "closed": selector_schema(
            "Events that close the case; the gap up to a close counts, time after it does not.  "
            "Entering one of reopen.resolved_statuses closes it too (default: type resolved or "
            "closed)."
        ),
        **CASE_CLOCK_PROPERTIES,
        "pause": {
            **CASE_CLOCK_PROPERTIES["pause"],
            "description": "Stop the clock while the case is in one of these statuses, for "
            "example {while: [awaiting_customer]}: time waiting on someone else is not idle "
            "time.  It resumes when the status changes to any other.",
        },
    },
    "$defs": SELECTOR_DEFS,
}


@dataclass(frozen=True)
class _Stalls:
    """One compiled ``stalls`` rule."""

    is_activity: EventPredicate
    is_opening: EventPredicate
    is_closing: EventPredicate
    opened_words: str
    clock: CaseClock

    def __call__(self, record: Record, context: EvaluationContext) -> Measurement:
        as_of = context.as_of
        if not known_events(record, as_of):
            return Measurement.not_applicable(_("the record has no events") + _by(as_of))
        view = self.clock.view(record, as_of)
        if isinstance(view, Measurement):
            return view
        opened = view.find(self.is_opening)
        if opened is None:
            return Measurement.not_applicable(
                _("no {event} event{by}").format(event=self.opened_words, by=_by(as_of))
            )
        # A case still open has waited, so far, until the audit's moment or its last event.
        until = as_of if as_of is not None else view.events[view.considered - 1].at
        waits = list(
            view.waits(self.clock.open_periods(view, opened, self.is_closing), self.is_activity)
        )
        spans = [_span(view, wait, until) for wait in waits]
        position = self._longest(view, spans)
        measured = self.clock.measure(view, *spans[position])

        def evidence() -> tuple[Evidence, ...]:  # built only if the outcome is reported
            return (
                *_ends(record, waits[position], until, as_of),
                *self.clock.evidence(view, measured, *spans[position], show_pauses=False),
            )

        return Measurement(measured.seconds, evidence, _note(waits[position], measured, as_of))

    def _longest(self, view: CaseView, spans: list[tuple[datetime, datetime]]) -> int:
        """Which span counts the most time; of equals, the earliest."""
        if view.schedule is None and not view.pauses:
            # Plain calendar time: every second counts, so the clock is needed only once, for
            # the segments of the longest.  Timestamps, not subtraction: two times in one zone
            # subtract by their wall clocks, which is wrong across a change of clocks.
            lengths = [end.timestamp() - start.timestamp() for start, end in spans]
        else:
            lengths = [self.clock.measure(view, start, end).seconds for start, end in spans]
        return max(range(len(spans)), key=lengths.__getitem__)


def _by(as_of: datetime | None) -> str:
    return _(" by {moment}").format(moment=as_of.isoformat()) if as_of is not None else ""


def _span(view: CaseView, wait: Wait, until: datetime) -> tuple[datetime, datetime]:
    ended = view.events[wait.end].at if wait.end is not None else until
    return view.events[wait.start].at, ended


def _still_open(as_of: datetime | None) -> str:
    if as_of is None:
        return _("at its last event")
    return _("as of {moment}").format(moment=as_of.isoformat())


def _ends(
    record: Record, wait: Wait, until: datetime, as_of: datetime | None
) -> tuple[Evidence, Evidence]:
    """The events at both ends of the idle wait; a note for the end where the case is open."""
    began = record.events[wait.start]
    start = event_evidence(
        record,
        wait.start,
        "idle_from",
        _("{type} by {actor}").format(type=began.type, actor=began.actor),
    )
    if wait.end is None:
        detail = _("the case is still open {when}").format(when=_still_open(as_of))
        return start, Evidence("note", "idle_until", until, detail=detail)
    ended = record.events[wait.end]
    return start, event_evidence(
        record,
        wait.end,
        "idle_until",
        _("{type} by {actor}").format(type=ended.type, actor=ended.actor),
    )


def _note(wait: Wait, measured: Measured, as_of: datetime | None) -> str:
    if wait.end is not None:
        where = _("from event {start} to event {end}").format(start=wait.start, end=wait.end)
    else:
        where = _("from event {start}; still open {when}").format(
            start=wait.start, when=_still_open(as_of)
        )
    return _("longest idle gap {gap} counted, {where}").format(
        gap=format_duration(measured.seconds), where=where
    )


def compile_stalls(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    """Compile one ``stalls`` rule: selectors and the clock are read here, once."""
    opened = params.get("opened", DEFAULT_OPENED)
    return _Stalls(
        is_activity=compile_selector(params.get("activity", DEFAULT_ACTIVITY)),
        is_opening=compile_selector(opened),
        is_closing=compile_selector(params.get("closed", DEFAULT_CLOSED)),
        opened_words=describe_event(opened),
        clock=CaseClock.compile(params, context, reads_reopens=True),
    )


STALLS = Check(
    name="stalls",
    dimension="flow",
    doc=(
        "The longest idle gap while the case is open: the most counted time between one sign "
        "of work and the next.  The case is open from its 'opened' event until a 'closed' "
        "event or a resolved status, and again from each reopen to the next close.  Inside "
        "those periods every 'activity' event (default: anything an agent does) ends a gap; "
        "the close ends the last one.  A case still open is measured up to --as-of, or else "
        "up to its last event, so idleness the record already shows (a customer chasing "
        "with no answer) counts.  Each gap is measured with the shared clock: calendar time, "
        "or business time under a named schedule, less paused statuses.  Measured in "
        "seconds; lower is better; there are no default thresholds.  A record with no opened "
        "event is not_applicable.  Of equally long gaps the earliest is reported.  Evidence: "
        "the events at both ends of the longest gap and the clock's segments for it "
        "(counted, paused, outside_hours, holiday)."
    ),
    params_schema=STALLS_SCHEMA,
    compile=compile_stalls,
    unit="seconds",
    better="lower",
    example=(
        "- id: no-stalls\n"
        "  check: stalls\n"
        "  params:\n"
        "    activity: {actor: agent}\n"
        "    pause: {while: [awaiting_customer]}\n"
        "  thresholds: {desired: 4h, adequate: 1d}\n"
    ),
)
