"""``update_gap``: the longest the customer waited for an update while the case was open.

The case is open from its ``opened`` event until a ``closed`` event (or a change into a
resolved status), and again from each reopen until the next close.  Within each open stretch
the gaps run from its start to the first update, from update to update, and from the last
update to the close.  A stretch still open at the end of the timeline runs to the audit's
``as_of`` moment; without one, the wait after the last update is not judged.  Each gap is
measured on the case clock, so business hours, holidays and paused statuses count as they do
for ``elapsed``; the longest gap is the measurement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

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
    OpenPeriod,
    Record,
    compile_selector,
    describe_selector,
    event_times,
    format_duration,
)
from rulecore.caseclock import Wait
from rulecore.clock import Measured

from ._casetime import EventPredicate, event_evidence
from ._params import SELECTOR_DEFS, selector_schema

DEFAULT_OPENED: Mapping[str, Any] = {"type": "opened"}
DEFAULT_UPDATES: Mapping[str, Any] = {"type": "message", "actor": "agent"}
DEFAULT_CLOSED: Mapping[str, Any] = {"type": ["resolved", "closed"]}

UPDATE_GAP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "opened": selector_schema(
            "The event that opens the case; the first one counts (default: {type: opened})."
        ),
        "updates": selector_schema(
            "The events that update the customer (default: {type: message, actor: agent})."
        ),
        "closed": selector_schema(
            "The events that close the case, ending an open stretch; entering one of the "
            "reopen.resolved_statuses closes it too (default: {type: [resolved, closed]})."
        ),
        **CASE_CLOCK_PROPERTIES,
    },
    "$defs": SELECTOR_DEFS,
}


class _Gap(NamedTuple):
    """A wait between two moments while the case was open."""

    start: int  #: the event the wait began at
    end: int | None  #: the event it ended at; ``None``: it ran to the as_of moment
    began: datetime
    ended: datetime


#: A wall-clock span shorter than the longest count so far by more than this cannot beat it,
#: whatever rounding epoch floats carry (far below a millisecond for any real date).
_ROUNDING = 1e-3


@dataclass(frozen=True)
class _UpdateGap:
    """One compiled ``update_gap`` rule."""

    is_opening: EventPredicate
    is_update: EventPredicate
    is_closing: EventPredicate
    clock: CaseClock
    update_words: str

    def __call__(self, record: Record, context: EvaluationContext) -> Measurement:
        view = self.clock.view(record, context.as_of)
        if isinstance(view, Measurement):
            return view
        opened = view.find(self.is_opening)
        if opened is None:
            return Measurement.not_applicable("no event opens the case")
        periods = self.clock.open_periods(view, opened, self.is_closing)
        found = self._longest(view, event_times(record), periods, context.as_of)
        if found is None:
            return Measurement.not_applicable(
                f"the case is still open and has no {self.update_words} yet; audit it as of a "
                "moment to judge the wait so far"
            )
        longest, seconds, count = found

        def evidence() -> tuple[Evidence, ...]:  # built only if the outcome is reported
            measured = self.clock.measure(view, longest.began, longest.ended)
            return (
                *self._gap_evidence(view, longest, count, measured),
                *self.clock.evidence(view, measured, longest.began, longest.ended),
                *self._unjudged_wait(periods, context.as_of),
            )

        return Measurement(seconds, evidence, self._gap_words(view, longest))

    def _longest(
        self,
        view: CaseView,
        times: Sequence[float],
        periods: Sequence[OpenPeriod],
        as_of: datetime | None,
    ) -> tuple[_Gap, float, int] | None:
        """The wait with the most counted time (the earliest of equals, for a stable answer),
        its seconds, and how many waits were judged; ``None`` when none was.

        The last wait of a case still open runs to ``as_of``, or is not judged without one.
        Counted on epoch seconds; only the winner becomes datetimes, for its evidence.
        """
        as_of_time = as_of.timestamp() if as_of is not None else None
        best: Wait | None = None
        best_seconds = -1.0
        count = 0
        for wait in view.waits(periods, self.is_update):
            if wait.end is not None:
                ended = times[wait.end]
            elif as_of_time is not None:
                ended = as_of_time
            else:
                continue
            count += 1
            began = times[wait.start]
            # The clock never counts more than the wall-clock time, so a wait clearly shorter
            # than the best count so far cannot beat it: skip the clock for it.
            if ended - began < best_seconds - _ROUNDING:
                continue
            seconds = self.clock.seconds(view, began, ended)
            if seconds > best_seconds:
                best, best_seconds = wait, seconds
        if best is None:
            return None
        events = view.events
        ended_at = events[best.end].at if best.end is not None else as_of
        assert ended_at is not None  # a wait without an end is judged only with as_of
        return _Gap(best.start, best.end, events[best.start].at, ended_at), best_seconds, count

    def _gap_words(self, view: CaseView, gap: _Gap) -> str:
        began = self._event_words(view, gap.start)
        ended = self._event_words(view, gap.end) if gap.end is not None else "the as_of moment"
        return f"longest wait: from {began} to {ended}"

    def _event_words(self, view: CaseView, index: int) -> str:
        event = view.events[index]
        if self.is_update(event):
            return f"the {self.update_words} at {event.at.isoformat()}"
        return f"the {event.type} event at {event.at.isoformat()}"

    def _gap_evidence(
        self, view: CaseView, gap: _Gap, count: int, measured: Measured
    ) -> tuple[Evidence, ...]:
        summary = Evidence(
            "note",
            "longest_gap",
            gap.began,
            gap.ended,
            detail=f"the longest of {count} waits while open: {format_duration(measured.seconds)}",
        )
        began = event_evidence(view, "from", gap.start, self._event_words(view, gap.start))
        if gap.end is None:
            ended = Evidence("note", "as_of", gap.ended, detail="still open; no update since")
        else:
            ended = event_evidence(view, "to", gap.end, self._event_words(view, gap.end))
        return (summary, began, ended)

    def _unjudged_wait(
        self, periods: Sequence[OpenPeriod], as_of: datetime | None
    ) -> tuple[Evidence, ...]:
        if as_of is not None or not periods or periods[-1].end is not None:
            return ()
        return (
            Evidence(
                "note",
                "still_open",
                detail="the case is still open; the wait after its last event is not judged "
                "without an as_of moment",
            ),
        )


def compile_update_gap(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    """Compile one ``update_gap`` rule: selectors and schedule are read here, once."""
    updates = params.get("updates", DEFAULT_UPDATES)
    return _UpdateGap(
        is_opening=compile_selector(params.get("opened", DEFAULT_OPENED)),
        is_update=compile_selector(updates),
        is_closing=compile_selector(params.get("closed", DEFAULT_CLOSED)),
        clock=CaseClock.compile(params, context, reads_reopens=True),
        update_words=describe_selector(updates),
    )


UPDATE_GAP = Check(
    name="update_gap",
    dimension="timeliness",
    doc=(
        "Periodic update: the longest the customer waited for an update while the case was "
        "open.  The waits run from the opening to the first update, from each update to the "
        "next, and from the last update to the close; the case is open from its 'opened' "
        "event until a 'closed' event or a resolved status, and again from each reopen.  A "
        "case still open is judged up to the audit's --as-of moment; without one, the wait "
        "after its last event is not judged.  Measured on the same clock as 'elapsed': "
        "calendar time, or business time with 'schedule', less paused statuses.  Lower is "
        "better.  A record with no opening event, or still open with no update and no --as-of, "
        "is not_applicable.  Evidence names the longest wait (its from and to events) and "
        "shows the clock's segments for it."
    ),
    params_schema=UPDATE_GAP_SCHEMA,
    compile=compile_update_gap,
    unit="seconds",
    better="lower",
    example=(
        "- id: keep-the-customer-posted\n"
        "  check: update_gap\n"
        "  params:\n"
        "    updates: {type: message, actor: agent}\n"
        "    schedule: support-hours\n"
        "    pause: {while: [awaiting_customer]}\n"
        "  thresholds: {desired: 4h, adequate: 1d}\n"
    ),
)
