"""The case clock: how long a case took, read from its own timeline.

:mod:`rulecore.clock` says how much business time passed between two moments under a
schedule, less pauses.  This module says what those moments and pauses are for one case: it
reads the case's *statuses* from its events, the stretches it sat in a *paused* status, the
events that *reopened* it, and the *open periods* between an opening and a close.  Every check
that measures time on a case, whatever its dimension, takes the same rule parameters for this
(:data:`CASE_CLOCK_PROPERTIES`), so one standard describes its clock one way.

Use it in two steps:

* per rule, :meth:`CaseClock.compile` reads the clock params (``schedule``,
  ``timezone_attribute``, ``status``, ``pause``, ``reopen``) once;
* per record, :meth:`CaseClock.view` reads the timeline once into a :class:`CaseView`; the
  check then finds its endpoints (:meth:`CaseView.find`), its open periods
  (:meth:`CaseClock.open_periods`) and waits (:meth:`CaseView.waits`), measures spans
  (:meth:`CaseClock.measure`) and shows its working (:meth:`CaseClock.evidence`).

:meth:`CaseClock.seconds` is the hot path: the counted seconds alone, for moments in epoch
seconds.  :meth:`CaseClock.measure` counts with it too and leaves its segments to be worked
out when the evidence is built.  Rules with the same clock keys share one compiled clock,
and a clock reads each record's statuses and pauses once for all of them.

Statuses are compared as keys (:func:`rulecore.field_key`): ``2``, ``2.0`` and ``"2"`` are
one status, text is stripped, and a blank status is no status.  Nothing here raises on an odd
record: a record the clock cannot read (no time zone, an unknown one) gives a
:class:`~rulecore.Measurement` that says why, which the check returns as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._checks import CompileContext, Evidence, Measurement, ParamError
from ._durations import format_duration
from ._i18n import _, evidence_label
from ._model import Event, Record, outside_plausible_range
from ._selectors import (
    SELECTOR_SCHEMA,
    EventPredicate,
    Patterns,
    compile_selector,
    matching_set,
)
from ._timeline import field_key, known_events
from .clock import (
    COUNTED,
    SEGMENT_KINDS,
    EpochSpan,
    Measured,
    Schedule,
    Segment,
    clock_for,
    tile_segments,
)

__all__ = [
    "CASE_CLOCK_PROPERTIES",
    "DEFAULT_REOPEN_EVENTS",
    "DEFAULT_RESOLVED_STATUSES",
    "DEFAULT_STATUS_FIELD",
    "CaseClock",
    "CaseView",
    "OpenPeriod",
    "Pause",
    "ReopenRule",
    "StatusChange",
    "StatusPatterns",
    "StatusRule",
    "Wait",
    "status_keys",
]

DEFAULT_STATUS_FIELD = "status"
DEFAULT_REOPEN_EVENTS: Mapping[str, Any] = {"type": "reopened"}
DEFAULT_RESOLVED_STATUSES = ("resolved", "closed")

# --- the params every case-clock check takes ---------------------------------------------------

# One status or a non-empty list of them.  Not a oneOf: a mistake inside a list is then
# worded as what it is ("should be non-empty"), not as "should be text, not a list".
_STATUS_VALUES: dict[str, Any] = {
    "type": ["string", "number", "array"],
    "items": {"type": ["string", "number"]},
    "minItems": 1,
}


def _selector(description: str) -> dict[str, Any]:
    return {**SELECTOR_SCHEMA, "description": description}


#: JSON-Schema ``properties`` for the clock keys, to splice into a check's params schema
#: (``{"properties": {**CASE_CLOCK_PROPERTIES, ...}, "$defs": SELECTOR_SCHEMA["$defs"]}``:
#: the selectors inside refer to those ``$defs``).  A check may take a subset, or replace a
#: key's ``description`` to say what the key does for it.
CASE_CLOCK_PROPERTIES: dict[str, Any] = {
    "schedule": {
        "type": "string",
        "minLength": 1,
        "description": (
            "Name of a business schedule (a `kind: schedule` file beside the standards) to "
            "count business time in: open hours in a time zone, less holidays.  Absent: "
            "calendar time, every second counts."
        ),
    },
    "schedule_attribute": {
        "type": "string",
        "minLength": 1,
        "description": (
            "Record attribute (such as region or team) whose value chooses the schedule, "
            "through `schedules`.  A record whose value is not listed, or that lacks the "
            "attribute, runs on `schedule`; without one it is not_applicable.  Needs "
            "`schedules`."
        ),
    },
    "schedules": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {"type": "string", "minLength": 1},
        "description": (
            "With schedule_attribute: the schedule for each value of the attribute, such as "
            "{emea: support-emea, apac: support-apac}.  Values compare as keys (2 = '2', "
            "spaces trimmed, letter case counts)."
        ),
    },
    "timezone_attribute": {
        "type": "string",
        "minLength": 1,
        "description": (
            "Record attribute holding an IANA time zone (such as Europe/London) to run a "
            "schedule that names no zone of its own in.  A record without the attribute is "
            "not_applicable; one whose zone is unknown is an error.  Needs a schedule, and "
            "one without a zone of its own."
        ),
    },
    "status": {
        "type": "object",
        "additionalProperties": False,
        "description": (
            "Where the case's status is read from: {field: status, events: SELECTOR}.  Each "
            "selected event that carries the field sets the status from its time on; "
            "repeating the current status is no change, and values written as numbers and as "
            "text are one status (2, 2.0 and '2').  Default: field `status`, any event "
            "carrying it."
        ),
        "properties": {
            "field": {
                "type": "string",
                "minLength": 1,
                "description": "The event field that carries the status (default: status).",
            },
            "events": _selector(
                "Which events set the status (default: any event carrying the field)."
            ),
        },
    },
    "pause": {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "description": (
            "Stop the clock while the case is in one of these statuses, for example "
            "{while: [awaiting_customer, pending]}; it resumes when the status changes to any "
            "other.  Paused time inside open hours shows in the evidence as `paused`.  A status "
            "with *, ? or [ is a pattern (fnmatch; letter case counts): Wait* pauses in "
            "every status starting with Wait.  With until_field, an event that carries "
            "that field also pauses the clock, from its time (or its from_field) to the "
            "moment the field holds; overlapping pauses count once."
        ),
        "properties": {
            "while": {
                **_STATUS_VALUES,
                "description": "The status, or statuses, during which the clock does not run.",
            },
            "until_field": {
                "type": "string",
                "minLength": 1,
                "description": (
                    "An event field holding the end of a pause the record states outright "
                    "(an RFC 3339 time with an offset, such as 2026-03-09T09:00:00Z): the "
                    "clock stops from the event's time until then."
                ),
            },
            "from_field": {
                "type": "string",
                "minLength": 1,
                "description": (
                    "With until_field: an event field holding the start of the pause, when it "
                    "is not the event's own time."
                ),
            },
        },
    },
    "reopen": {
        "type": "object",
        "additionalProperties": False,
        "description": (
            "What counts as a reopen: an event matching `events` (default: type reopened), or "
            "a change of status from one of `resolved_statuses` (default: resolved, closed) "
            "to a status outside that list."
        ),
        "properties": {
            "events": _selector("Events that reopen the case (default: {type: reopened})."),
            "resolved_statuses": {
                **_STATUS_VALUES,
                "description": (
                    "Statuses in which the case is resolved or closed.  Leaving one for a "
                    "status outside the list is a reopen, moving between them (resolved → "
                    "closed) is not, and entering one ends an open period (default: resolved, "
                    "closed).  Patterns such as Closed* match as in pause.while."
                ),
            },
        },
    },
}


def status_keys(values: Any) -> frozenset[str]:
    """Keys (:func:`rulecore.field_key`) for one status or a list of them, as a standard writes.

    A key with ``*``, ``?`` or ``[`` is a pattern with :func:`fnmatch.fnmatchcase` meaning
    (``Wait*``, ``awaiting_?``, ``[Pp]ending``; letter case counts), matched against a status's
    key, as everywhere a standard lists values (:mod:`rulecore._selectors`).  Without any
    pattern the result is a plain frozenset, so ``status in keys`` stays one hash look-up;
    with one it is a :class:`StatusPatterns`, whose ``in`` also tries them.
    """
    listed = values if isinstance(values, Sequence) and not isinstance(values, str) else [values]
    return matching_set(key for key in map(field_key, listed) if key is not None)


#: Statuses as a standard listed them, some of them patterns such as ``Wait*``: the
#: :class:`rulecore._selectors.Patterns` of every listed value.
StatusPatterns = Patterns


# --- statuses and reopens -----------------------------------------------------------------------


class StatusChange(NamedTuple):
    """An event that set the case's status to a value other than the one before it."""

    event: int  #: index of the event in the timeline
    status: str
    previous: str | None  #: ``None`` when this is the first status the timeline records


@dataclass(frozen=True)
class StatusRule:
    """Where a case's status is read from: the compiled ``status`` param."""

    field: str
    sets_status: EventPredicate

    @classmethod
    def compile(cls, spec: Mapping[str, Any] | None) -> StatusRule:
        """Compile a ``status`` param (``{field, events}``; ``None`` for the defaults)."""
        spec = spec or {}
        return cls(spec.get("field", DEFAULT_STATUS_FIELD), compile_selector(spec.get("events")))

    def status_of(self, event: Event) -> str | None:
        """The status ``event`` sets, as a key; ``None`` when it sets none."""
        raw = event.fields.get(self.field)
        if raw is None or not self.sets_status(event):
            return None
        return field_key(raw)

    def changes(
        self, events: Sequence[Event], count: int | None = None
    ) -> tuple[StatusChange, ...]:
        """Every change of status among the first ``count`` events (all when ``None``)."""
        # This runs for every record, so status_of is inlined here.
        field, sets_status = self.field, self.sets_status
        changes: list[StatusChange] = []
        current: str | None = None
        for index in range(len(events) if count is None else count):
            event = events[index]
            raw = event.fields.get(field)
            if raw is None or not sets_status(event):
                continue
            status = field_key(raw)
            if status is not None and status != current:
                changes.append(StatusChange(index, status, current))
                current = status
        return tuple(changes)


@dataclass(frozen=True)
class ReopenRule:
    """What counts as a reopen, and which statuses are resolved: the compiled ``reopen`` param."""

    is_reopen_event: EventPredicate
    resolved_statuses: frozenset[str]

    @classmethod
    def compile(cls, spec: Mapping[str, Any] | None) -> ReopenRule:
        """Compile a ``reopen`` param (``{events, resolved_statuses}``; ``None``: defaults)."""
        spec = spec or {}
        return cls(
            compile_selector(spec.get("events", DEFAULT_REOPEN_EVENTS)),
            status_keys(spec.get("resolved_statuses", DEFAULT_RESOLVED_STATUSES)),
        )

    def resolves(self, change: StatusChange) -> bool:
        """Whether ``change`` put the case into a resolved status."""
        return change.status in self.resolved_statuses

    def reopens(self, change: StatusChange) -> bool:
        """Whether ``change`` took the case out of the resolved statuses (resolved → active)."""
        return (
            change.previous in self.resolved_statuses
            and change.status not in self.resolved_statuses
        )

    def reopening_events(
        self, events: Sequence[Event], count: int, changes: Sequence[StatusChange]
    ) -> tuple[int, ...]:
        """Indexes of the events, among the first ``count``, that reopened the case, in order.

        An event that both matches ``events`` and leaves a resolved status is one reopen.
        """
        is_reopen_event = self.is_reopen_event
        considered = events[:count]
        by_event = [index for index, event in enumerate(considered) if is_reopen_event(event)]
        by_status = [change.event for change in changes if self.reopens(change)]
        if not by_status:
            return tuple(by_event)
        return tuple(sorted(set(by_event).union(by_status)))


# --- one record, read once ----------------------------------------------------------------------


class Pause(NamedTuple):
    """A stretch during which the case sat in a paused status."""

    start: datetime
    end: datetime | None  #: ``None``: still paused at the last event considered
    event: int  #: index of the event that paused the clock
    status: str  #: the paused status; for a stated pause, the field that stated it
    stated: bool = False  #: a pause the record stated outright (``pause.until_field``)


class OpenPeriod(NamedTuple):
    """A stretch the case was open: from its opening or a reopen to a close."""

    start: int  #: the event that opened or reopened the case
    end: int | None  #: the event that closed it; ``None`` while still open


class Wait(NamedTuple):
    """A stretch inside an open period between one event and the next that ends a wait."""

    start: int  #: the event the wait began at
    end: int | None  #: the event it ended at; ``None``: still waiting at the last event considered


class CaseView(NamedTuple):
    """What the clock read from one record, as of a moment (or the whole timeline)."""

    events: tuple[Event, ...]
    considered: int  #: events considered: those at or before ``as_of``, else all of them
    zone: str | None  #: the zone to run a schedule without one in (from the record)
    display: tzinfo | None  #: the zone evidence is shown in; ``None``: the clock's own
    changes: tuple[StatusChange, ...]
    pauses: tuple[Pause, ...]
    reopens: tuple[int, ...]  #: indexes of the events that reopened the case
    #: ``pauses`` in epoch seconds, ``(start, end or None)``, for :meth:`CaseClock.seconds`
    pause_times: tuple[tuple[float, float | None], ...] = ()
    #: the schedule this record runs on (``schedule_attribute`` may choose it); ``None``:
    #: calendar time
    schedule: Schedule | None = None

    def find(
        self, predicate: EventPredicate, occurrence: str = "first", after: int = -1
    ) -> int | None:
        """Index of the first (or ``last``) matching event after ``after`` that was considered."""
        events = self.events
        if occurrence == "last":
            for index in range(self.considered - 1, after, -1):
                if predicate(events[index]):
                    return index
            return None
        for index in range(after + 1, self.considered):
            if predicate(events[index]):
                return index
        return None

    def waits(self, periods: Sequence[OpenPeriod], ends_wait: EventPredicate) -> Iterator[Wait]:
        """The waits inside ``periods``, in time order.

        In each period a wait runs from its start to the first event ``ends_wait`` accepts,
        from that one to the next, and from the last to the period's close; in a period still
        open, the last wait has no end (``Wait.end`` is ``None``): the check decides whether
        it runs to an ``as_of`` moment, to the last event, or is not judged.
        """
        events = self.events
        for period in periods:
            waiting_since = period.start
            stop = period.end if period.end is not None else self.considered
            for index in range(period.start + 1, stop):
                if ends_wait(events[index]):
                    yield Wait(waiting_since, index)
                    waiting_since = index
            yield Wait(waiting_since, period.end)


# --- the clock ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseClock:
    """A rule's clock: which time counts, what stops it, and what reopens the case.

    Rules whose clock keys say the same thing share one :class:`CaseClock`
    (:meth:`compile` hands out the same object), and a clock remembers the view of the last
    record it read, so a record's statuses and pauses are read once for all of them.
    """

    schedule: Schedule | None
    timezone_attribute: str | None
    status: StatusRule
    paused_statuses: frozenset[str]
    reopen: ReopenRule
    reads_reopens: bool
    #: ``pause.until_field`` and ``pause.from_field``: the event fields of stated pauses
    pause_fields: tuple[str, str | None] | None = None
    #: the record attribute that chooses the schedule through :attr:`schedules`
    schedule_attribute: str | None = None
    #: the schedule for each value (as a key) of :attr:`schedule_attribute`
    schedules: Mapping[str, Schedule] = field(default_factory=dict, compare=False)
    #: (record, as_of, view) of the last :meth:`view`: every rule reads the record in turn
    _last_view: tuple[Record | None, datetime | None, CaseView | Measurement | None] = field(
        default=(None, None, None), init=False, repr=False, compare=False
    )

    @classmethod
    def compile(
        cls, params: Mapping[str, Any], context: CompileContext, *, reads_reopens: bool
    ) -> CaseClock:
        """Compile the clock keys of a rule's ``params`` (other keys are ignored).

        :param reads_reopens: whether the check needs reopens found, and so open periods
            (reading them costs a little per record, so a check that ignores reopens does not
            pay for it).
        :raises ValueError: for an unknown schedule, ``schedule_attribute`` and ``schedules``
            without each other, or a ``timezone_attribute`` without a schedule or beside one
            that has its own zone.
        """
        schedule: Schedule | None = context.schedule(params.get("schedule"))
        schedule_attribute, schedules = _chosen_schedules(params, context)
        timezone_attribute = params.get("timezone_attribute")
        same_clock = (
            schedule,
            schedule_attribute,
            tuple(sorted(schedules.items(), key=lambda item: item[0])),
            timezone_attribute,
            *(_spec_key(params.get(key)) for key in ("status", "pause", "reopen")),
            reads_reopens,
        )
        compiled = _COMPILED.get(same_clock)
        if compiled is not None:
            return compiled
        every_schedule = [*([schedule] if schedule else []), *schedules.values()]
        if timezone_attribute is not None and not every_schedule:
            raise ValueError(
                _(
                    "timezone_attribute chooses the zone a schedule runs in, and this rule names "
                    "no schedule: calendar time is the same in every zone"
                )
            )
        zoned = [chosen for chosen in every_schedule if chosen.timezone]
        if timezone_attribute is not None and zoned:
            raise ValueError(
                _(
                    "schedule {name!r} has its own time zone ({zone}); "
                    "timezone_attribute only applies to a schedule that names none"
                ).format(name=zoned[0].name, zone=zoned[0].timezone)
            )
        compiled = cls(
            schedule=schedule,
            schedule_attribute=schedule_attribute,
            schedules=schedules,
            timezone_attribute=timezone_attribute,
            status=StatusRule.compile(params.get("status")),
            paused_statuses=status_keys((params.get("pause") or {}).get("while", ())),
            pause_fields=_pause_fields(params.get("pause") or {}),
            reopen=ReopenRule.compile(params.get("reopen")),
            reads_reopens=reads_reopens,
        )
        if len(_COMPILED) >= _COMPILED_KEPT:
            _COMPILED.clear()
        return _COMPILED.setdefault(same_clock, compiled)

    def view(self, record: Record, as_of: datetime | None) -> CaseView | Measurement:
        """Read ``record`` as of ``as_of``; a :class:`Measurement` when it cannot be read.

        Only the events at or before ``as_of`` are considered (all of them when ``None``).
        Statuses are read only when the clock pauses or reads reopens, and only once per
        record however many rules share this clock.
        """
        last_record, last_as_of, last_view = self._last_view
        if last_record is record and last_as_of == as_of and last_view is not None:
            return last_view
        view = self._read(record, as_of)
        # One assignment of a whole tuple: a thread reading it sees the old entry or the new.
        object.__setattr__(self, "_last_view", (record, as_of, view))
        return view

    def _read(self, record: Record, as_of: datetime | None) -> CaseView | Measurement:
        events = record.events
        considered = known_events(record, as_of)
        zone = self._record_zone(record)
        if isinstance(zone, Measurement):
            return zone
        schedule = self.schedule_for(record)
        if isinstance(schedule, Measurement):
            return schedule
        if self.reads_reopens:
            changes, reopens = self._changes_and_reopens(events, considered)
        else:
            reopens = ()
            changes = self.status.changes(events, considered) if self.paused_statuses else ()
        pauses = self._pauses(events, changes) if self.paused_statuses else ()
        if self.pause_fields is not None:
            stated = _stated_pauses(events, considered, *self.pause_fields)
            if stated:
                pauses = tuple(sorted((*pauses, *stated), key=lambda pause: pause.start))
        # Without a zone of its own the clock runs in UTC; show evidence in the record's own
        # offset instead, so that its times read as the record wrote them.
        shows_own_zone = zone is not None or (schedule is not None and schedule.timezone)
        display = None if shows_own_zone or not events else events[0].at.tzinfo
        pause_times = tuple(map(_epoch_span, pauses)) if pauses else ()
        return CaseView(
            events, considered, zone, display, changes, pauses, reopens, pause_times, schedule
        )

    def schedule_for(self, record: Record) -> Schedule | Measurement | None:
        """The schedule ``record`` runs on: the one its ``schedule_attribute`` chooses, else the
        rule's ``schedule`` (``None``: calendar time).  A :class:`Measurement` to return as it
        is (not applicable, saying why) when the attribute chooses none and there is no
        fallback."""
        attribute = self.schedule_attribute
        if attribute is None:
            return self.schedule
        value = record.attribute(attribute)
        chosen = self.schedules.get(field_key(value) or "")
        if chosen is not None:
            return chosen
        if self.schedule is not None:
            return self.schedule
        known = ", ".join(sorted(self.schedules))
        if field_key(value) is None:
            return Measurement.not_applicable(
                _(
                    "the record has no {attribute!r} attribute to choose its schedule by, and "
                    "the rule names no schedule for the others"
                ).format(attribute=attribute)
            )
        return Measurement.not_applicable(
            _(
                "the record's {attribute!r} attribute is {value!r}, which chooses no schedule "
                "(schedules are listed for {known}), and the rule names no schedule for the others"
            ).format(attribute=attribute, value=value, known=known)
        )

    def _record_zone(self, record: Record) -> str | Measurement | None:
        if self.timezone_attribute is None:
            return None
        value = record.attribute(self.timezone_attribute)
        if value is None or value == "":
            return Measurement.not_applicable(
                _(
                    "the record has no {attribute!r} attribute to take the schedule's time zone "
                    "from"
                ).format(attribute=self.timezone_attribute)
            )
        if not isinstance(value, str) or not _is_known_zone(value):
            return Measurement(
                None,
                (Evidence("note", "timezone", detail=f"{self.timezone_attribute}={value!r}"),),
                _(
                    "the record's {attribute!r} attribute is {value!r}, not a known "
                    "IANA time zone such as Europe/London"
                ).format(attribute=self.timezone_attribute, value=value),
                outcome="error",
            )
        return value

    def _changes_and_reopens(
        self, events: Sequence[Event], considered: int
    ) -> tuple[tuple[StatusChange, ...], tuple[int, ...]]:
        """What :meth:`StatusRule.changes` and :meth:`ReopenRule.reopening_events` find, in
        one pass over the events: this runs for every record."""
        field, sets_status = self.status.field, self.status.sets_status
        is_reopen_event = self.reopen.is_reopen_event
        resolved = self.reopen.resolved_statuses
        changes: list[StatusChange] = []
        reopens: list[int] = []
        current: str | None = None
        for index in range(considered):
            event = events[index]
            reopened = is_reopen_event(event)
            raw = event.fields.get(field)
            status = None if raw is None or not sets_status(event) else field_key(raw)
            if status is not None and status != current:
                changes.append(StatusChange(index, status, current))
                # leaving the resolved statuses is a reopen, as ReopenRule.reopens says
                reopened = reopened or (current in resolved and status not in resolved)
                current = status
            if reopened:
                reopens.append(index)
        return tuple(changes), tuple(reopens)

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

    def resolves(self, view: CaseView) -> frozenset[int]:
        """Indexes of the events whose change of status put the case into a resolved status."""
        return frozenset(change.event for change in view.changes if self.reopen.resolves(change))

    def open_periods(
        self, view: CaseView, opened: int, is_closing: EventPredicate
    ) -> tuple[OpenPeriod, ...]:
        """When the case was open, from the event ``opened`` on, among the events considered.

        A period ends at the first event ``is_closing`` accepts or that puts the case into a
        resolved status; the next starts at the next reopen.  The last period has no end while
        the case is still open.

        :raises ValueError: when the clock was compiled without ``reads_reopens``.
        """
        if not self.reads_reopens:
            raise ValueError("open periods need a clock compiled with reads_reopens=True")
        resolving = self.resolves(view)
        reopens = frozenset(view.reopens)
        periods: list[OpenPeriod] = []
        start: int | None = opened
        for index in range(opened + 1, view.considered):
            if start is not None and (index in resolving or is_closing(view.events[index])):
                periods.append(OpenPeriod(start, index))
                start = None
            elif start is None and index in reopens:
                start = index
        if start is not None:
            periods.append(OpenPeriod(start, None))
        return tuple(periods)

    def measure(
        self,
        view: CaseView,
        start: datetime,
        end: datetime,
        extra_pauses: Sequence[tuple[datetime, datetime]] = (),
        *,
        counted: float | None = None,
    ) -> Measured:
        """Business (or calendar) seconds from ``start`` to ``end`` less every pause.

        Status pauses still open at the last event run to ``end``; ``extra_pauses`` are the
        check's own (such as resolved stretches a reopen undid).  ``start <= end`` is the
        caller's to ensure (timelines are in time order, so endpoints taken from them are).
        The seconds come from :meth:`seconds`, unless the caller already has them from it
        (``counted``, for evidence built after the fact); the segments (for :meth:`evidence`)
        are worked out only if they are read.
        """
        if counted is None:
            counted = self.seconds(
                view,
                start.timestamp(),
                end.timestamp(),
                [(lo.timestamp(), hi.timestamp()) for lo, hi in extra_pauses],
            )

        def segments() -> tuple[Segment, ...]:
            pauses = [(p.start, p.end or end) for p in view.pauses if p.start < end]
            pauses.extend(extra_pauses)
            return tile_segments(start, end, view.schedule, pauses, view.zone)

        return Measured(counted, tile=segments)

    def seconds(
        self,
        view: CaseView,
        start: float,
        end: float,
        extra_pauses: Sequence[EpochSpan] = (),
    ) -> float:
        """:meth:`measure`'s seconds alone, for moments in epoch seconds: the hot path.

        No datetime is made or read: the status pauses were turned into epoch seconds once,
        when the view was read, and the clock counts by bisection (see
        :func:`rulecore.clock.clock_for`).  Build the evidence with :meth:`measure` only for
        a finding that is written.
        """
        pauses: list[EpochSpan] = [
            (lo, end if hi is None else hi) for lo, hi in view.pause_times if lo < end
        ]
        if extra_pauses:
            pauses.extend(extra_pauses)
        return clock_for(view.schedule, view.zone).seconds(start, end, pauses)

    def counts_wall_time(self, view: CaseView) -> bool:
        """Whether this clock counts every second of ``view``: calendar time (or a schedule
        open around the clock) and no pause.  Then the longer of two spans is the one with
        more wall-clock time, and a check can compare spans without asking the clock."""
        if view.pause_times:
            return False
        return view.schedule is None or view.schedule._open_around_the_clock

    def describe(self, view: CaseView) -> str:
        """Which clock ran, in words: ``business time on support-hours (Europe/London)``."""
        schedule = view.schedule
        if schedule is None:
            return _("calendar time")
        zone = schedule.timezone or view.zone or "UTC"
        return _("business time on {schedule} ({zone})").format(schedule=schedule.name, zone=zone)

    def evidence(
        self,
        view: CaseView,
        measured: Measured,
        start: datetime,
        end: datetime,
        *,
        show_pauses: bool = True,
    ) -> tuple[Evidence, ...]:
        """The clock's working for one span: a summary note, its pauses, and its segments.

        The note (label ``clock``) reads like ``6h12m on the calendar, 4h counted (business
        time on support-hours (Europe/London)): 1h12m outside_hours, 1h paused``, so an
        auditor sees at once why the counted time differs from the wall-clock time.  With
        ``show_pauses``, each status pause that touched the span follows as an ``event``
        labelled ``pause``.  Then come the segments, in the record's own offset when the clock
        has no zone of its own.
        """
        evidence = [Evidence("note", "clock", start, end, detail=self._summary(view, measured))]
        if show_pauses:
            evidence.extend(_pause_evidence(view, start, end))
        display = view.display
        for segment in measured.segments:
            lo, hi = segment.start, segment.end
            if display is not None:
                lo, hi = lo.astimezone(display), hi.astimezone(display)
            evidence.append(
                Evidence("segment", segment.kind, lo, hi, detail=format_duration(segment.seconds))
            )
        return tuple(evidence)

    def _summary(self, view: CaseView, measured: Measured) -> str:
        by_kind = dict.fromkeys(SEGMENT_KINDS, 0.0)
        for segment in measured.segments:
            by_kind[segment.kind] += segment.seconds
        skipped = [
            _("{duration} {kind}").format(
                duration=format_duration(seconds), kind=evidence_label(kind)
            )
            for kind, seconds in by_kind.items()
            if seconds and kind != COUNTED
        ]
        summary = _("{calendar} on the calendar, {counted} counted ({clock})").format(
            calendar=format_duration(sum(by_kind.values())),
            counted=format_duration(measured.seconds),
            clock=self.describe(view),
        )
        return summary + (_(": {skipped}").format(skipped=", ".join(skipped)) if skipped else "")


def _chosen_schedules(
    params: Mapping[str, Any], context: CompileContext
) -> tuple[str | None, dict[str, Schedule]]:
    """The compiled ``schedule_attribute`` and ``schedules``: each value's schedule, by key."""
    attribute = params.get("schedule_attribute")
    listed = params.get("schedules")
    if attribute is None and listed is None:
        return None, {}
    if attribute is None:
        raise ParamError(
            _(
                "schedules lists a schedule for each value of an attribute, and this rule names "
                "no schedule_attribute to read the value from"
            ),
            ("schedules",),
        )
    if not listed:
        raise ParamError(
            _(
                "schedule_attribute {attribute!r} needs schedules: the schedule for each of its "
                "values, such as {{emea: support-emea, apac: support-apac}}"
            ).format(attribute=attribute),
            ("schedule_attribute",),
        )
    chosen: dict[str, Schedule] = {}
    for value, name in listed.items():
        key = field_key(value)
        if key is None:
            raise ParamError(
                _("schedules has a blank value {value!r}; name the attribute's value").format(
                    value=value
                ),
                ("schedules",),
            )
        if key in chosen:
            raise ParamError(
                _("schedules lists the value {value!r} twice").format(value=key),
                ("schedules", value),
            )
        try:
            chosen[key] = context.schedule(name)
        except ValueError as error:
            raise ParamError(f"schedules.{key}: {error}", ("schedules", value)) from None
    return attribute, chosen


def _pause_fields(spec: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """The compiled ``pause.until_field`` and ``pause.from_field``; ``None`` without them."""
    until_field, from_field = spec.get("until_field"), spec.get("from_field")
    if from_field is not None and until_field is None:
        raise ParamError(
            _(
                "pause.from_field names where a stated pause starts, and pause.until_field, "
                "where it ends, is missing"
            ),
            ("pause", "from_field"),
        )
    return None if until_field is None else (until_field, from_field)


def _stated_pauses(
    events: Sequence[Event], considered: int, until_field: str, from_field: str | None
) -> tuple[Pause, ...]:
    """The pauses the first ``considered`` events state outright, overlapping ones merged.

    A value that is not a time with an offset (from 1970 up to 2100), or an end not after the
    start, pauses nothing.
    """
    stated: list[Pause] = []
    for index in range(considered):
        event = events[index]
        fields = event.fields
        if fields.get(until_field) is None:
            continue
        until = _moment(fields[until_field])
        start = _moment(fields.get(from_field)) if from_field else event.at
        if until is None or start is None or until <= start:
            continue
        stated.append(Pause(start, until, index, until_field, stated=True))
    stated.sort(key=lambda pause: pause.start)
    merged: list[Pause] = []
    for pause in stated:
        last = merged[-1] if merged else None
        if last is not None and last.end is not None and pause.start <= last.end:
            if pause.end is not None and pause.end > last.end:
                merged[-1] = last._replace(end=pause.end)
        else:
            merged.append(pause)
    return tuple(merged)


def _moment(raw: Any) -> datetime | None:
    """An RFC 3339 time with an offset, within the years a record's events may fall in, as an
    aware datetime; ``None`` for anything else (the clock cannot count a year 1 or 9999)."""
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, str):
        text = raw.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if moment.utcoffset() is None or outside_plausible_range(moment):
        return None
    return moment


def _pause_evidence(view: CaseView, start: datetime, end: datetime) -> Iterator[Evidence]:
    for pause in view.pauses:
        until = pause.end or end
        if pause.start < end and until > start:
            still = "" if pause.end else _("; still paused at the end of the span")
            said = (
                _("stated by {status}").format(status=pause.status)
                if pause.stated
                else _("status {status}").format(status=pause.status)
            )
            yield Evidence(
                "event",
                "pause",
                pause.start,
                pause.end,
                event_index=pause.event,
                detail=f"{said}{still}",
            )


def _epoch_span(pause: Pause) -> tuple[float, float | None]:
    return pause.start.timestamp(), None if pause.end is None else pause.end.timestamp()


#: Compiled clocks by what their keys say, so rules with the same clock share one.
_COMPILED: dict[tuple[Any, ...], CaseClock] = {}
_COMPILED_KEPT = 1024


def _spec_key(spec: Any) -> str:
    """A param's value as text that is equal when the value is, whatever the key order."""
    return json.dumps(spec, sort_keys=True, default=repr)


@lru_cache(maxsize=256)
def _is_known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
