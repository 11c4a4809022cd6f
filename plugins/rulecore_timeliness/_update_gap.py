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

from bisect import bisect_left, bisect_right
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
    TimelineIndex,
    compile_selector,
    describe_selector,
    format_duration,
    positions_of,
    selector_types,
    timeline_index,
)
from rulecore.caseclock import Wait
from rulecore.clock import Measured
from rulecore.i18n import _

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
    update_spec: Mapping[str, Any]
    update_words: str  #: "reply by agent"; "event" when the updates name no type
    update_types: frozenset[str] | None  #: set when updates are picked by type alone
    every_event_updates: bool  #: ``updates: {}``: every event is an update

    def __call__(self, record: Record, context: EvaluationContext) -> Measurement:
        view = self.clock.view(record, context.as_of)
        if isinstance(view, Measurement):
            return view
        opened = view.find(self.is_opening)
        if opened is None:
            return Measurement.not_applicable(_("no event opens the case"))
        periods = self.clock.open_periods(view, opened, self.is_closing)
        found = self._longest(record, view, periods, context.as_of)
        if found is None:
            return Measurement.not_applicable(
                _(
                    "the case is still open and has no {update} yet; audit it as of a "
                    "moment to judge the wait so far"
                ).format(update=self.update_words)
            )
        longest, seconds, count = found

        def evidence() -> tuple[Evidence, ...]:  # built only if the outcome is reported
            measured = self.clock.measure(view, longest.began, longest.ended, counted=seconds)
            return (
                *self._gap_evidence(view, longest, count, measured),
                *self.clock.evidence(view, measured, longest.began, longest.ended),
                *self._unjudged_wait(periods, context.as_of),
            )

        return Measurement(seconds, evidence, self._gap_words(view, longest))

    def _longest(
        self,
        record: Record,
        view: CaseView,
        periods: Sequence[OpenPeriod],
        as_of: datetime | None,
    ) -> tuple[_Gap, float, int] | None:
        """The wait with the most counted time (the earliest of equals, for a stable answer),
        its seconds, and how many waits were judged; ``None`` when none was.

        The last wait of a case still open runs to ``as_of``, or is not judged without one.
        Counted on epoch seconds; only the winner becomes datetimes, for its evidence.
        """
        index = timeline_index(record)
        times = index.times
        as_of_time = as_of.timestamp() if as_of is not None else None
        if (
            (as_of_time is None or not as_of_time % 1.0)
            and self.clock.counts_wall_time(view)
            and not any(moment % 1.0 for moment in times)  # whole seconds subtract exactly
        ):
            waits = self._waits(index, view, periods)
            found = _longest_wall_wait(times, waits, as_of_time)
            if found is None:
                return None
            (start, end), count = found
            seconds = self.clock.seconds(view, times[start], _ended(times, end, as_of_time))
            return self._gap(view, start, end, as_of), seconds, count
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
        return self._gap(view, best.start, best.end, as_of), best_seconds, count

    def _waits(
        self, index: TimelineIndex, view: CaseView, periods: Sequence[OpenPeriod]
    ) -> list[tuple[int, int | None]]:
        """What :meth:`CaseView.waits` gives, as ``(start, end)`` pairs, from the index when
        the updates are picked by type alone (or are every event)."""
        if self.update_types is None and not self.every_event_updates:
            return [(wait.start, wait.end) for wait in view.waits(periods, self.is_update)]
        waits: list[tuple[int, int | None]] = []
        updates = None if self.update_types is None else positions_of(index, self.update_types)
        for period in periods:
            stop = period.end if period.end is not None else view.considered
            if updates is None:
                inside: Sequence[int] = range(period.start + 1, stop)
            else:
                inside = updates[bisect_right(updates, period.start) : bisect_left(updates, stop)]
            waiting_since = period.start
            for position in inside:
                waits.append((waiting_since, position))
                waiting_since = position
            waits.append((waiting_since, period.end))
        return waits

    @staticmethod
    def _gap(view: CaseView, start: int, end: int | None, as_of: datetime | None) -> _Gap:
        events = view.events
        ended_at = events[end].at if end is not None else as_of
        assert ended_at is not None  # a wait without an end is judged only with as_of
        return _Gap(start, end, events[start].at, ended_at)

    def _gap_words(self, view: CaseView, gap: _Gap) -> str:
        began = self._event_words(view, gap.start)
        ended = self._event_words(view, gap.end) if gap.end is not None else _("the as_of moment")
        return _("longest wait: from {began} to {ended}").format(began=began, ended=ended)

    def _event_words(self, view: CaseView, index: int) -> str:
        event = view.events[index]
        if self.is_update(event):
            if "type" in self.update_spec:
                return _("the {event} at {moment}").format(
                    event=self.update_words, moment=event.at.isoformat()
                )
            # Any type is an update: say which one this was ("the event (note) at ...").
            named = describe_selector({**self.update_spec, "type": f"event ({event.type})"})
            return _("the {event} at {moment}").format(event=named, moment=event.at.isoformat())
        return _("the {type} event at {moment}").format(
            type=event.type, moment=event.at.isoformat()
        )

    def _gap_evidence(
        self, view: CaseView, gap: _Gap, count: int, measured: Measured
    ) -> tuple[Evidence, ...]:
        summary = Evidence(
            "note",
            "longest_gap",
            gap.began,
            gap.ended,
            detail=_("the longest of {count} waits while open: {longest}").format(
                count=count, longest=format_duration(measured.seconds)
            ),
        )
        began = event_evidence(view, "from", gap.start, self._event_words(view, gap.start))
        if gap.end is None:
            ended = Evidence("note", "as_of", gap.ended, detail=_("still open; no update since"))
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
                detail=_(
                    "the case is still open; the wait after its last event is not judged "
                    "without an as_of moment"
                ),
            ),
        )


def _ended(times: Sequence[float], end: int | None, as_of_time: float | None) -> float:
    if end is not None:
        return times[end]
    assert as_of_time is not None  # a wait without an end is judged only with as_of
    return as_of_time


def _longest_wall_wait(
    times: Sequence[float], waits: Sequence[tuple[int, int | None]], as_of_time: float | None
) -> tuple[tuple[int, int | None], int] | None:
    """The longest judged wait by wall-clock time (the earliest of equals), and how many
    waits were judged; for a clock that counts every second of them.

    Only for whole-second moments, which subtract exactly, so that ties are real ties.
    """
    best: tuple[int, int | None] | None = None
    best_seconds = -1.0
    count = 0
    for start, end in waits:
        if end is not None:
            ended = times[end]
        elif as_of_time is not None:
            ended = as_of_time
        else:
            continue
        count += 1
        seconds = ended - times[start]
        if seconds > best_seconds:
            best, best_seconds = (start, end), seconds
    return None if best is None else (best, count)


def compile_update_gap(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    """Compile one ``update_gap`` rule: selectors and schedule are read here, once."""
    updates = params.get("updates", DEFAULT_UPDATES)
    return _UpdateGap(
        is_opening=compile_selector(params.get("opened", DEFAULT_OPENED)),
        is_update=compile_selector(updates),
        is_closing=compile_selector(params.get("closed", DEFAULT_CLOSED)),
        clock=CaseClock.compile(params, context, reads_reopens=True),
        update_spec=updates,
        update_words=describe_selector(
            updates if "type" in updates else {**updates, "type": "event"}
        ),
        update_types=selector_types(updates),
        every_event_updates=not updates,
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
