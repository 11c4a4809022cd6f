"""Stalls: the longest stretch a case sat open with nobody working on it.

The case is *open* from its opening event until it is closed (a closing event, or a change into
one of the resolved statuses), and again from each reopen until the next close.  Inside those
periods every *activity* event (by default anything an agent does) ends one idle gap and starts
the next; the close ends the last one.  Each gap is measured with the shared clock
(:func:`rulecore.clock.measure`), in calendar or business time, less the time the case sat in a
paused status, so the measured value is the longest *counted* idle time and its evidence shows
the clock's segments.

The clock keys (``schedule``, ``timezone_attribute``, ``status``, ``pause``, ``reopen``) mean
what they mean for the timeliness checks, so a standard describes its clock one way.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rulecore import (
    Check,
    CompileContext,
    EvaluationContext,
    Evaluator,
    Event,
    Evidence,
    Measurement,
    Record,
    compile_selector,
    format_duration,
)
from rulecore.clock import COUNTED, SEGMENT_KINDS, Measured, Schedule, measure

from ._common import (
    REOPEN_SCHEMA,
    SELECTOR_DEFS,
    STATUS_SCHEMA,
    VALUES_SCHEMA,
    EventPredicate,
    ReopenRule,
    StatusChange,
    StatusReader,
    describe_event,
    event_evidence,
    reordered_note,
    selector,
    value_keys,
)

Pause = tuple[datetime, datetime]

DEFAULT_ACTIVITY: Mapping[str, Any] = {"actor": "agent"}
DEFAULT_OPENED: Mapping[str, Any] = {"type": "opened"}
DEFAULT_CLOSED: Mapping[str, Any] = {"type": ["resolved", "closed"]}

STALLS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "activity": selector(
            "Events that show someone working on the case; each ends an idle gap (default: "
            "any event by an agent)."
        ),
        "opened": selector(
            "The event that opens the case; the first one counts (default: type opened)."
        ),
        "closed": selector(
            "Events that close the case; the gap up to a close counts, time after it does not.  "
            "Entering one of reopen.resolved_statuses closes it too (default: type resolved or "
            "closed)."
        ),
        "schedule": {
            "type": "string",
            "minLength": 1,
            "description": "Name of a business schedule (a `kind: schedule` file beside the "
            "standards) to count business time in.  Absent: calendar time, every second counts.",
        },
        "timezone_attribute": {
            "type": "string",
            "minLength": 1,
            "description": "Record attribute holding an IANA time zone to run a schedule that "
            "names no zone of its own in.  A record without the attribute is not_applicable; "
            "one whose zone is unknown is an error.  Not allowed with a schedule that has its "
            "own zone.",
        },
        "status": STATUS_SCHEMA,
        "pause": {
            "type": "object",
            "additionalProperties": False,
            "required": ["while"],
            "description": "Stop the clock while the case is in one of these statuses, for "
            "example {while: [awaiting_customer]}: time waiting on someone else is not idle "
            "time.  It resumes when the status changes to any other.",
            "properties": {
                "while": {
                    **VALUES_SCHEMA,
                    "description": "The statuses during which the clock does not run.",
                }
            },
        },
        "reopen": REOPEN_SCHEMA,
    },
    "$defs": SELECTOR_DEFS,
}


class Settings(NamedTuple):
    """A compiled stalls rule."""

    is_activity: EventPredicate
    is_opening: EventPredicate
    is_closing: EventPredicate
    opened_words: str
    status: StatusReader
    reopen: ReopenRule
    paused_statuses: frozenset[str]
    schedule: Schedule | None
    timezone_attribute: str | None


class OpenPeriod(NamedTuple):
    start: int  #: the event that opened or reopened the case
    end: int | None  #: the event that closed it; ``None`` while still open


class Gap(NamedTuple):
    start: int  #: the event the idle stretch began at
    end: int | None  #: the event it ended at; ``None`` while the case is still open


def compile_stalls(params: Mapping[str, Any], context: CompileContext) -> Evaluator:
    schedule: Schedule | None = context.schedule(params.get("schedule"))
    timezone_attribute = params.get("timezone_attribute")
    if timezone_attribute is not None and schedule is not None and schedule.timezone:
        raise ValueError(
            f"schedule {schedule.name!r} has its own time zone ({schedule.timezone}); "
            "timezone_attribute only applies to a schedule that names none"
        )
    opened = params.get("opened", DEFAULT_OPENED)
    settings = Settings(
        is_activity=compile_selector(params.get("activity", DEFAULT_ACTIVITY)),
        is_opening=compile_selector(opened),
        is_closing=compile_selector(params.get("closed", DEFAULT_CLOSED)),
        opened_words=describe_event(opened),
        status=StatusReader.compile(params.get("status")),
        reopen=ReopenRule.compile(params.get("reopen")),
        paused_statuses=value_keys((params.get("pause") or {}).get("while", [])),
        schedule=schedule,
        timezone_attribute=timezone_attribute,
    )

    def stalls(record: Record, context: EvaluationContext) -> Measurement:
        return _longest_stall(record, context.as_of, settings)

    return stalls


def _longest_stall(record: Record, as_of: datetime | None, settings: Settings) -> Measurement:
    events = record.events
    # In flight: the case as it stood at as_of, so later events have not happened yet.
    known = len(events) if as_of is None else bisect_right(events, as_of, key=_event_time)
    if not known:
        return Measurement.not_applicable("the record has no events" + _by(as_of))
    zone = _record_zone(record, settings.timezone_attribute)
    if isinstance(zone, Measurement):
        return zone
    changes = settings.status.changes(record)[:known]
    periods = _open_periods(record, changes, settings)
    if not periods:
        return Measurement.not_applicable(f"no {settings.opened_words} event{_by(as_of)}")
    until = as_of if as_of is not None else events[known - 1].at
    pauses = _status_pauses(record, changes, settings.paused_statuses, until)
    gaps = _gaps(record, periods, known, settings.is_activity)
    ends = [
        (events[gap.start].at, events[gap.end].at if gap.end is not None else until) for gap in gaps
    ]
    if settings.schedule is None and not pauses:
        # Plain calendar time: every second counts, so the clock is needed only once, for
        # the segments of the longest gap.  Timestamps, not subtraction: two times in one
        # zone subtract by their wall clocks, which is wrong across a change of clocks.
        lengths = [end.timestamp() - start.timestamp() for start, end in ends]
    else:
        lengths = [
            measure(start, end, settings.schedule, pauses, zone).seconds for start, end in ends
        ]
    # max() keeps the first of equals: of equally long gaps the earliest is reported.
    position = max(range(len(gaps)), key=lengths.__getitem__)
    measured = measure(*ends[position], settings.schedule, pauses, zone)
    display = _display_zone(record, settings.schedule, zone)
    clock = _clock_words(settings.schedule, zone)
    return _measurement(
        record, gaps[position], measured, until=until, as_of=as_of, display=display, clock=clock
    )


def _by(as_of: datetime | None) -> str:
    return f" by {as_of.isoformat()}" if as_of is not None else ""


def _event_time(event: Event) -> datetime:
    return event.at


def _open_periods(
    record: Record, changes: list[StatusChange | None], settings: Settings
) -> list[OpenPeriod]:
    """When the case was open, among the events known (those ``changes`` covers)."""
    periods: list[OpenPeriod] = []
    opened_at: int | None = None
    resolved = settings.reopen.resolved
    for index, change in enumerate(changes):
        event = record.events[index]
        if opened_at is None:
            if _reopens(event, change, settings.reopen) if periods else settings.is_opening(event):
                opened_at = index
        elif settings.is_closing(event) or (change is not None and change.after in resolved):
            periods.append(OpenPeriod(opened_at, index))
            opened_at = None
    if opened_at is not None:
        periods.append(OpenPeriod(opened_at, None))
    return periods


def _reopens(event: Event, change: StatusChange | None, reopen: ReopenRule) -> bool:
    if reopen.is_reopen_event(event):
        return True
    return change is not None and reopen.by_status(change.before, change.after)


def _gaps(
    record: Record, periods: list[OpenPeriod], known: int, is_activity: EventPredicate
) -> list[Gap]:
    """The idle gaps inside the open periods, in time order."""
    gaps: list[Gap] = []
    for period in periods:
        stop = period.end if period.end is not None else known
        last_activity = period.start
        for index in range(period.start + 1, stop):
            if is_activity(record.events[index]):
                gaps.append(Gap(last_activity, index))
                last_activity = index
        gaps.append(Gap(last_activity, period.end))
    return gaps


def _status_pauses(
    record: Record,
    changes: list[StatusChange | None],
    paused_statuses: frozenset[str],
    until: datetime,
) -> list[Pause]:
    """Stretches spent in a paused status; one still running ends at ``until``."""
    pauses: list[Pause] = []
    paused_since: datetime | None = None
    for index, change in enumerate(changes):
        if change is None:
            continue
        at = record.events[index].at
        if change.after in paused_statuses:
            paused_since = paused_since or at
        elif paused_since is not None:
            pauses.append((paused_since, at))
            paused_since = None
    if paused_since is not None:
        pauses.append((paused_since, until))
    return pauses


def _record_zone(record: Record, attribute: str | None) -> str | Measurement | None:
    """The record's own time zone, when the rule reads one; a measurement when it cannot."""
    if attribute is None:
        return None
    value = record.attribute(attribute)
    if value is None or value == "":
        return Measurement.not_applicable(
            f"the record has no {attribute!r} attribute to take the schedule's time zone from"
        )
    if not isinstance(value, str) or not _is_known_zone(value):
        return Measurement(
            None,
            (Evidence("note", "timezone", detail=f"{attribute}={value!r}"),),
            f"the record's {attribute!r} attribute is {value!r}, not a known IANA time zone "
            "such as Europe/London",
            outcome="error",
        )
    return value


@lru_cache(maxsize=256)
def _is_known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _display_zone(record: Record, schedule: Schedule | None, zone: str | None) -> tzinfo | None:
    """The zone to show segments in: the clock's own when it has one, else the record's offset.

    Without a zone the clock runs in UTC; showing its segments in the offset the record's own
    times carry keeps them readable beside the events.
    """
    if zone is not None or (schedule is not None and schedule.timezone):
        return None
    return record.events[0].at.tzinfo


def _clock_words(schedule: Schedule | None, zone: str | None) -> str:
    """Which clock ran: ``calendar time`` or ``business time on support-hours (Europe/London)``."""
    if schedule is None:
        return "calendar time"
    return f"business time on {schedule.name} ({schedule.timezone or zone or 'UTC'})"


def _clock_summary(measured: Measured, clock: str) -> str:
    """``3d1h on the calendar, 4h30m counted (calendar time): 5h15m paused``: why the wall
    time and the counted time differ, at a glance."""
    by_kind = dict.fromkeys(SEGMENT_KINDS, 0.0)
    for segment in measured.segments:
        by_kind[segment.kind] += segment.seconds
    skipped = [
        f"{format_duration(seconds)} {kind}"
        for kind, seconds in by_kind.items()
        if seconds and kind != COUNTED
    ]
    summary = (
        f"{format_duration(sum(by_kind.values()))} on the calendar, "
        f"{format_duration(measured.seconds)} counted ({clock})"
    )
    return summary + (": " + ", ".join(skipped) if skipped else "")


def _measurement(
    record: Record,
    gap: Gap,
    measured: Measured,
    until: datetime,
    as_of: datetime | None,
    display: tzinfo | None,
    clock: str,
) -> Measurement:
    began = record.events[gap.start]
    evidence = [event_evidence(record, gap.start, "idle_from", f"{began.type} by {began.actor}")]
    if gap.end is not None:
        ended = record.events[gap.end]
        evidence.append(
            event_evidence(record, gap.end, "idle_until", f"{ended.type} by {ended.actor}")
        )
        where = f"from event {gap.start} to event {gap.end}"
    else:
        moment = f"as of {as_of.isoformat()}" if as_of is not None else "at its last event"
        evidence.append(
            Evidence("note", "idle_until", until, detail=f"the case is still open {moment}")
        )
        where = f"from event {gap.start}; still open {moment}"
    gap_start = began.at
    gap_end = record.events[gap.end].at if gap.end is not None else until
    evidence.append(
        Evidence("note", "clock", gap_start, gap_end, detail=_clock_summary(measured, clock))
    )
    for segment in measured.segments:
        start, end = segment.start, segment.end
        if display is not None:
            start, end = start.astimezone(display), end.astimezone(display)
        evidence.append(
            Evidence("segment", segment.kind, start, end, detail=format_duration(segment.seconds))
        )
    note = f"longest idle gap {format_duration(measured.seconds)} counted, {where}"
    return Measurement(measured.seconds, tuple(evidence) + reordered_note(record), note)


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
