"""The case clock: the one mechanism every timeliness check measures time with.

A :class:`CaseClock` is compiled once per rule from the clock keys the checks share
(``schedule``, ``timezone_attribute``, ``status``, ``pause``, ``reopen``; see
:data:`._params.CLOCK_PROPERTIES`).  Per record it reads, once, the facts a timeliness check
needs besides its own endpoints (:class:`CaseView`): the zone the clock runs in, the status
changes, the stretches paused on a status, and the reopens.  The checks then measure spans with
:meth:`CaseClock.measure`, which is :func:`rulecore.clock.measure`, and turn what it returns
into evidence with :func:`clock_evidence`.

Nothing here raises on an odd record: a record the clock cannot read (no time zone, an unknown
one) gives a :class:`~rulecore.Measurement` that says why, which the check returns as is.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rulecore import (
    CompileContext,
    Event,
    Evidence,
    Measurement,
    Record,
    compile_selector,
    format_duration,
)
from rulecore.clock import SEGMENT_KINDS, Measured, Schedule, measure

EventPredicate = Callable[[Event], bool]

DEFAULT_STATUS_FIELD = "status"
DEFAULT_REOPEN_EVENTS: Mapping[str, Any] = {"type": "reopened"}
DEFAULT_RESOLVED_STATUSES = ("resolved", "closed")


class StatusChange(NamedTuple):
    """An event that changed the case's status."""

    event: int  #: index of the event in the timeline
    status: str
    previous: str | None


class Pause(NamedTuple):
    """A stretch during which the case sat in a paused status."""

    start: datetime
    end: datetime | None  #: ``None``: still paused at the last event considered
    event: int  #: index of the event that paused the clock
    status: str


class CaseView(NamedTuple):
    """What the clock read from one record, as of a moment (or the whole timeline)."""

    events: tuple[Event, ...]
    considered: int  #: events considered: those at or before ``as_of``, else all of them
    zone: str | None  #: the zone to run a schedule without one in (from the record)
    display: tzinfo | None  #: the zone evidence is shown in; ``None``: the clock's own
    changes: tuple[StatusChange, ...]
    pauses: tuple[Pause, ...]
    reopens: tuple[int, ...]  #: indexes of the events that reopened the case


@dataclass(frozen=True)
class CaseClock:
    """A rule's clock: which time counts, and what stops and restarts it."""

    schedule: Schedule | None
    timezone_attribute: str | None
    status_field: str
    sets_status: EventPredicate
    paused_statuses: frozenset[str]
    is_reopen_event: EventPredicate
    resolved_statuses: frozenset[str]
    reads_reopens: bool

    @classmethod
    def compile(
        cls, params: Mapping[str, Any], context: CompileContext, *, reads_reopens: bool
    ) -> CaseClock:
        """Compile the shared clock keys of a rule's ``params``.

        :param reads_reopens: whether the check needs reopens found (reading them costs a
            little per record, so checks that ignore reopens do not pay for it).
        :raises ValueError: for an unknown schedule, or a ``timezone_attribute`` without a
            schedule or beside one that has its own zone.
        """
        schedule = context.schedule(params.get("schedule"))
        timezone_attribute = params.get("timezone_attribute")
        if timezone_attribute is not None and schedule is None:
            raise ValueError(
                "timezone_attribute chooses the zone a schedule runs in, and this rule names no "
                "schedule: calendar time is the same in every zone"
            )
        if timezone_attribute is not None and schedule.timezone:
            raise ValueError(
                f"schedule {schedule.name!r} has its own time zone ({schedule.timezone}); "
                "timezone_attribute only applies to a schedule that names none"
            )
        status = params.get("status") or {}
        reopen = params.get("reopen") or {}
        return cls(
            schedule=schedule,
            timezone_attribute=timezone_attribute,
            status_field=status.get("field", DEFAULT_STATUS_FIELD),
            sets_status=compile_selector(status.get("events")),
            paused_statuses=frozenset((params.get("pause") or {}).get("while", ())),
            is_reopen_event=compile_selector(reopen.get("events", DEFAULT_REOPEN_EVENTS)),
            resolved_statuses=frozenset(reopen.get("resolved_statuses", DEFAULT_RESOLVED_STATUSES)),
            reads_reopens=reads_reopens,
        )

    # --- reading a record -------------------------------------------------------------------

    def view(self, record: Record, as_of: datetime | None) -> CaseView | Measurement:
        """Read ``record`` as of ``as_of``; a :class:`Measurement` when it cannot be read."""
        events = record.events
        considered = len(events) if as_of is None else bisect_right(events, as_of, key=_event_time)
        zone = self._record_zone(record)
        if isinstance(zone, Measurement):
            return zone
        reads_statuses = bool(self.paused_statuses) or self.reads_reopens
        changes = self._status_changes(events, considered) if reads_statuses else ()
        pauses = self._pauses(events, changes) if self.paused_statuses else ()
        reopens = self._reopens(events, considered, changes) if self.reads_reopens else ()
        # Without a zone of its own the clock runs in UTC; show evidence in the record's own
        # offset instead, so that its times read as the record wrote them.
        shows_own_zone = zone is not None or (self.schedule is not None and self.schedule.timezone)
        display = None if shows_own_zone or not events else events[0].at.tzinfo
        return CaseView(events, considered, zone, display, changes, pauses, reopens)

    def _record_zone(self, record: Record) -> str | Measurement | None:
        if self.timezone_attribute is None:
            return None
        value = record.attribute(self.timezone_attribute)
        if value is None or value == "":
            return Measurement.not_applicable(
                f"the record has no {self.timezone_attribute!r} attribute to take the "
                "schedule's time zone from"
            )
        if not isinstance(value, str) or not _is_known_zone(value):
            return Measurement(
                None,
                (Evidence("note", "timezone", detail=f"{self.timezone_attribute}={value!r}"),),
                f"the record's {self.timezone_attribute!r} attribute is {value!r}, not a known "
                "IANA time zone such as Europe/London",
                outcome="error",
            )
        return value

    def _status_changes(self, events: Sequence[Event], count: int) -> tuple[StatusChange, ...]:
        changes: list[StatusChange] = []
        current: str | None = None
        for index in range(count):
            event = events[index]
            raw = event.fields.get(self.status_field)
            if raw is None or not self.sets_status(event):
                continue
            status = str(raw)
            if status != current:
                changes.append(StatusChange(index, status, current))
                current = status
        return tuple(changes)

    def _pauses(
        self, events: Sequence[Event], changes: Sequence[StatusChange]
    ) -> tuple[Pause, ...]:
        pauses: list[Pause] = []
        open_pause: Pause | None = None
        for change in changes:
            pausing = change.status in self.paused_statuses
            if open_pause is not None and not pausing:
                pauses.append(open_pause._replace(end=events[change.event].at))
                open_pause = None
            elif open_pause is None and pausing:
                open_pause = Pause(events[change.event].at, None, change.event, change.status)
        if open_pause is not None:
            pauses.append(open_pause)
        return tuple(pauses)

    def _reopens(
        self, events: Sequence[Event], count: int, changes: Sequence[StatusChange]
    ) -> tuple[int, ...]:
        by_event = {index for index in range(count) if self.is_reopen_event(events[index])}
        by_status = {
            change.event
            for change in changes
            if change.previous in self.resolved_statuses
            and change.status not in self.resolved_statuses
        }
        return tuple(sorted(by_event | by_status))

    def resolves(self, view: CaseView) -> frozenset[int]:
        """Indexes of the status changes that put the case into a resolved status."""
        return frozenset(
            change.event for change in view.changes if change.status in self.resolved_statuses
        )

    # --- measuring --------------------------------------------------------------------------

    def measure(
        self,
        view: CaseView,
        start: datetime,
        end: datetime,
        extra_pauses: Sequence[tuple[datetime, datetime]] = (),
    ) -> Measured:
        """Business (or calendar) seconds from ``start`` to ``end`` less every pause.

        Status pauses still open at the last event run to ``end``.  ``start <= end`` is the
        caller's to ensure (timelines are in time order, so endpoints taken from them are).
        """
        pauses = [(pause.start, pause.end or end) for pause in view.pauses if pause.start < end]
        pauses.extend(extra_pauses)
        return measure(start, end, self.schedule, pauses, view.zone)

    def describe(self, view: CaseView) -> str:
        """Which clock ran, in words: ``business time on support-hours (Europe/London)``."""
        if self.schedule is None:
            return "calendar time"
        zone = self.schedule.timezone or view.zone or "UTC"
        return f"business time on {self.schedule.name} ({zone})"


@lru_cache(maxsize=256)
def _is_known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _event_time(event: Event) -> datetime:
    return event.at


# --- finding events ----------------------------------------------------------------------------


def find_between(
    view: CaseView, predicate: EventPredicate, occurrence: str = "first", after: int = -1
) -> int | None:
    """Index of the first or last matching event after ``after`` among the events considered."""
    events = view.events
    if occurrence == "last":
        for index in range(view.considered - 1, after, -1):
            if predicate(events[index]):
                return index
        return None
    for index in range(after + 1, view.considered):
        if predicate(events[index]):
            return index
    return None


# --- evidence ----------------------------------------------------------------------------------


def clock_evidence(
    clock: CaseClock, view: CaseView, measured: Measured, start: datetime, end: datetime
) -> tuple[Evidence, ...]:
    """The clock's working: a summary note, the pauses that touched the span, and its segments.

    The note reads like ``6h12m on the calendar, 4h counted (business time on support-hours
    (Europe/London)): 1h12m outside_hours, 1h paused``, so an auditor sees at once why the
    measured time differs from the wall-clock time.
    """
    evidence = [Evidence("note", "clock", start, end, detail=_clock_summary(clock, view, measured))]
    for pause in view.pauses:
        until = pause.end or end
        if pause.start < end and until > start:
            evidence.append(
                Evidence(
                    "event",
                    "pause",
                    pause.start,
                    pause.end,
                    event_index=pause.event,
                    detail=f"status {pause.status}"
                    + ("" if pause.end else "; still paused at the end of the span"),
                )
            )
    display = view.display
    for segment in measured.segments:
        lo, hi = segment.start, segment.end
        if display is not None:
            lo, hi = lo.astimezone(display), hi.astimezone(display)
        evidence.append(
            Evidence("segment", segment.kind, lo, hi, detail=format_duration(segment.seconds))
        )
    return tuple(evidence)


def _clock_summary(clock: CaseClock, view: CaseView, measured: Measured) -> str:
    by_kind = dict.fromkeys(SEGMENT_KINDS, 0.0)
    for segment in measured.segments:
        by_kind[segment.kind] += segment.seconds
    wall = sum(by_kind.values())
    skipped = [
        f"{format_duration(seconds)} {kind}"
        for kind, seconds in by_kind.items()
        if seconds and kind != "counted"
    ]
    summary = (
        f"{format_duration(wall)} on the calendar, {format_duration(measured.seconds)} counted "
        f"({clock.describe(view)})"
    )
    return summary + (": " + ", ".join(skipped) if skipped else "")


def event_evidence(view: CaseView, label: str, index: int, words: str) -> Evidence:
    """An event the measurement rests on, such as the ``from`` and ``to`` of a span."""
    return Evidence("event", label, view.events[index].at, event_index=index, detail=words)


def reordered_note(record: Record) -> tuple[Evidence, ...]:
    """A note when the source listed the events out of time order (the reader sorted them)."""
    if record.reordered:
        return (Evidence("note", "reordered", detail="events were sorted by time"),)
    return ()
