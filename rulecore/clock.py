"""The business-hours clock that every time-based check shares.

:func:`measure` says how much business time passed between two moments under a
:class:`Schedule`, minus pauses, and returns the segments that show how it got there.
:func:`add_business_seconds` runs the same clock forwards to find a due moment.

The hot path is :func:`clock_for`: ``clock_for(schedule, tz).seconds(start, end, pauses)``
counts the same seconds for moments in epoch seconds, without a datetime.  Business time is
a monotone function B(t) there, kept per schedule and zone as cumulative seconds over sorted
open-period boundaries, so a span is B(end) - B(start) by two bisections and each pause one
more difference; calendar time (:data:`CALENDAR`) is plain arithmetic.  ``measure`` counts
with it too, and works out its segments only when they are first read.

The segments come from walking the schedule's *local* days, not minutes, so a span of months
costs a few hundred steps; B is built from the same days.  Each local wall-clock boundary
("opens 09:00") becomes a real instant in that day, so a 09:00-17:00 day is eight real hours
even when the clocks change, and a 24-hour day is 23 or 25 real hours on the days they do.
All arithmetic happens in UTC or epoch seconds: Python subtracts and compares two datetimes
that share a ``tzinfo`` by their wall clocks, which is wrong across a change.

A wall-clock boundary is placed at the *first instant the local clock reads that time or
later*:

* a time the clocks skip (02:30 on a spring-forward night in New York) becomes the moment the
  clocks jump, so a window can shrink but never runs backwards;
* a time the clocks repeat (01:30 on a fall-back night) is its first occurrence (``fold=0``).

The module is pure: no I/O and no work at import time.  The ``holidays`` package is imported
only when a schedule names a country.
"""

from __future__ import annotations

import math
import re
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._i18n import _

__all__ = [
    "CALENDAR",
    "COUNTED",
    "DEFAULT_HOLIDAY_YEARS",
    "HOLIDAY",
    "OUTSIDE_HOURS",
    "PAUSED",
    "SEGMENT_KINDS",
    "BusinessClock",
    "CalendarClock",
    "Clock",
    "EpochSpan",
    "Measured",
    "Schedule",
    "ScheduleError",
    "Segment",
    "add_business_seconds",
    "clock_for",
    "measure",
    "parse_schedule",
    "tile_segments",
]

COUNTED = "counted"
PAUSED = "paused"
OUTSIDE_HOURS = "outside_hours"
HOLIDAY = "holiday"
SEGMENT_KINDS = (COUNTED, PAUSED, OUTSIDE_HOURS, HOLIDAY)

#: Years whose public holidays a ``country`` brings in when the schedule gives no ``years``.
#: Fixed, not "around today", so that an audit gives the same answer whenever it runs.
DEFAULT_HOLIDAY_YEARS = tuple(range(2000, 2041))

MINUTES_PER_DAY = 1440
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_UTC = timezone.utc
_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)

Window = tuple[int, int]
"""Open hours within a local day: (first minute, minute it closes), 0 <= first < close <= 1440."""
DayHours = tuple[Window, ...]
WeeklyHours = tuple[DayHours, ...]

_ALL_DAY: DayHours = ((0, MINUTES_PER_DAY),)


class Segment(NamedTuple):
    """A stretch of the measured span and how the clock treated it.

    ``start`` and ``end`` are aware and expressed in the clock's time zone, so evidence reads
    in local business time.  Use :attr:`seconds` for the length: plain ``end - start``
    compares wall clocks when both ends share a zone, which is wrong across a clock change.
    """

    start: datetime
    end: datetime
    kind: str  #: one of :data:`SEGMENT_KINDS`

    @property
    def seconds(self) -> float:
        return (self.end.astimezone(_UTC) - self.start.astimezone(_UTC)).total_seconds()


class Measured:
    """What :func:`measure` found: the counted seconds, and the segments that show how.

    The segments are worked out the first time they are read, not when the span is
    measured: most measurements end in a finding nobody prints, and walking the days for
    evidence costs far more than the two bisections that give the seconds.  A value, like the
    ``NamedTuple`` it was: compared, hashed, indexed and unpacked (``seconds, segments =
    measured``) as ``(seconds, segments)``.
    """

    __slots__ = ("_segments", "_tile", "seconds")

    seconds: float  #: counted seconds only
    _segments: tuple[Segment, ...] | None
    _tile: Callable[[], tuple[Segment, ...]] | None

    def __init__(
        self,
        seconds: float,
        segments: tuple[Segment, ...] | None = None,
        *,
        tile: Callable[[], tuple[Segment, ...]] | None = None,
    ) -> None:
        if (segments is None) == (tile is None):
            raise TypeError("Measured needs either its segments or a way to tile them")
        object.__setattr__(self, "seconds", seconds)
        object.__setattr__(self, "_segments", segments)
        object.__setattr__(self, "_tile", tile)

    @property
    def segments(self) -> tuple[Segment, ...]:
        """Contiguous, covering [start, end] exactly, adjacent segments of one kind merged;
        empty when start == end."""
        if self._segments is None:
            assert self._tile is not None
            object.__setattr__(self, "_segments", self._tile())
            object.__setattr__(self, "_tile", None)
        assert self._segments is not None
        return self._segments

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Measured is immutable; cannot set {name}")

    def __iter__(self) -> Iterator[Any]:
        return iter((self.seconds, self.segments))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> Any:
        return (self.seconds, self.segments)[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Measured):
            return NotImplemented
        return self.seconds == other.seconds and self.segments == other.segments

    def __hash__(self) -> int:
        return hash((self.seconds, self.segments))

    def __repr__(self) -> str:
        return f"Measured(seconds={self.seconds!r}, segments={self.segments!r})"


class ScheduleError(ValueError):
    """A schedule that cannot be read, with ``path``: the keys that lead to the fault.

    ``path`` is what the standards loader locates the error at (``exceptions`` ->
    ``2025-01-26`` -> ``hours``); empty when the fault is the schedule as a whole.
    """

    def __init__(self, message: str, path: Sequence[str | int] = ()) -> None:
        super().__init__(message)
        self.path = tuple(path)


@dataclass(frozen=True)
class Schedule:
    """When the clock runs: weekly open hours in a time zone, minus whole-day holidays,
    with per-date exceptions.

    ``timezone`` is an IANA name; ``None`` means "the zone the caller passes as ``tz``",
    and UTC when the caller passes none either.  ``weekly`` holds seven days, Monday first,
    each a sorted tuple of non-overlapping ``(first_minute, close_minute)`` windows.
    ``exceptions`` gives single local dates hours of their own, in the same form: a
    make-up working day (调休) on a Saturday, a half day, or ``()`` for a day closed.  An
    exception wins over both the weekly hours and a holiday on its date.
    """

    name: str
    timezone: str | None
    weekly: WeeklyHours
    holidays: frozenset[date] = frozenset()
    #: Not hashed (a mapping is not hashable); compared, so two schedules that differ only
    #: here are not equal.
    exceptions: Mapping[date, DayHours] = field(default_factory=dict, hash=False)
    _open_around_the_clock: bool = field(init=False, repr=False, compare=False)
    _ever_open: bool = field(init=False, repr=False, compare=False)
    #: this schedule's :class:`BusinessClock` per zone name, made by :func:`clock_for`
    _clocks: dict[str, BusinessClock] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.timezone is not None:
            _load_zone(self.timezone, owner=_("schedule {name!r}").format(name=self.name))
        _check_weekly(self.name, self.weekly)
        _check_holiday_dates(self.name, self.holidays)
        exceptions = _checked_exceptions(self.name, self.exceptions)
        object.__setattr__(self, "exceptions", exceptions)
        # Precomputed so measure() can skip the day walk for a plain 24x7 clock.
        around_the_clock = (
            all(day == _ALL_DAY for day in self.weekly) and not self.holidays and not exceptions
        )
        object.__setattr__(self, "_open_around_the_clock", around_the_clock)
        ever_open = any(self.weekly) or any(exceptions.values())
        object.__setattr__(self, "_ever_open", ever_open)
        object.__setattr__(self, "_clocks", {})

    @classmethod
    def calendar(cls, timezone: str | None = None, name: str = "calendar") -> Schedule:
        """A 24x7 schedule with no holidays: business time is elapsed time."""
        return cls(name, timezone, (_ALL_DAY,) * 7, frozenset())


# --- measuring ------------------------------------------------------------------------------


def measure(
    start: datetime,
    end: datetime,
    schedule: Schedule | None = None,
    pauses: Sequence[tuple[datetime, datetime]] = (),
    tz: str | None = None,
) -> Measured:
    """Count the business seconds from ``start`` to ``end``, less ``pauses``.

    ``schedule=None`` counts calendar time.  ``tz`` is the zone for a schedule that names
    none (for example the record's own zone).  Pauses may overlap, be unsorted or reach
    outside the span.  Time that is paused *and* outside hours (or on a holiday) is reported as
    outside hours (or holiday), so a pause over a weekend does not overstate the pause.

    The seconds come from the clock as a function (:func:`clock_for`); the segments are
    worked out only when first read.

    :raises ValueError: if ``end`` is before ``start``, a datetime is naive, a pause ends
        before it starts, or a time zone is unknown.
    """
    started, ended = _epoch(start, "start"), _epoch(end, "end")
    if ended < started:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    pauses = tuple(pauses)
    paused = [_pause_epochs(paused_from, paused_until) for paused_from, paused_until in pauses]
    seconds = clock_for(schedule, tz).seconds(started, ended, paused)
    return Measured(seconds, tile=lambda: tile_segments(start, end, schedule, pauses, tz))


def _epoch(moment: datetime, role: str) -> float:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{role} {moment.isoformat()} has no time zone; the clock needs aware times"
        )
    return moment.timestamp()


def _pause_epochs(paused_from: datetime, paused_until: datetime) -> tuple[float, float]:
    pause = _epoch(paused_from, "pause start"), _epoch(paused_until, "pause end")
    if pause[1] < pause[0]:
        raise ValueError(_pause_backwards(paused_from, paused_until))
    return pause


def _pause_backwards(paused_from: object, paused_until: object) -> str:
    def shown(moment: object) -> str:
        return moment.isoformat() if isinstance(moment, datetime) else repr(moment)

    return f"pause ends at {shown(paused_until)}, before it starts at {shown(paused_from)}"


def tile_segments(
    start: datetime,
    end: datetime,
    schedule: Schedule | None,
    pauses: Sequence[tuple[datetime, datetime]],
    tz: str | None,
) -> tuple[Segment, ...]:
    """The segments of a span, by walking its local days: the evidence behind the seconds.

    What :func:`measure`'s ``segments`` hold, for a caller that has the seconds already.
    """
    span_start, span_end = _as_utc(start, "start"), _as_utc(end, "end")
    zone = _clock_zone(schedule, tz)
    if span_start == span_end:
        return ()
    around_the_clock = schedule is None or schedule._open_around_the_clock
    if around_the_clock and not pauses:  # the common case: one counted stretch
        return (Segment(span_start.astimezone(zone), span_end.astimezone(zone), COUNTED),)
    paused = _normalise_pauses(pauses, span_start, span_end)
    if schedule is None or schedule._open_around_the_clock:
        timeline: Iterable[Segment] = [Segment(span_start, span_end, COUNTED)]
    else:
        timeline = _schedule_timeline(schedule, zone, span_start, span_end)
    return tuple(
        Segment(segment.start.astimezone(zone), segment.end.astimezone(zone), segment.kind)
        for segment in _merge_adjacent(_apply_pauses(timeline, paused))
    )


def add_business_seconds(
    start: datetime,
    seconds: float,
    schedule: Schedule | None = None,
    tz: str | None = None,
) -> datetime:
    """The earliest moment by which ``seconds`` of business time have passed since ``start``.

    This is the inverse of :func:`measure` without pauses: ``measure(start, due).seconds``
    equals ``seconds``.  A due time that lands exactly on a closing time is that closing time,
    not the next opening.  The result is expressed in the clock's time zone.

    :raises ValueError: if ``seconds`` is negative or not finite, ``start`` is naive, a time
        zone is unknown, or the schedule is never open.
    """
    origin = _as_utc(start, "start")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"business seconds to add must be a finite number >= 0, not {seconds!r}")
    zone = _clock_zone(schedule, tz)
    remaining = timedelta(seconds=seconds)
    if schedule is None or schedule._open_around_the_clock or not remaining:
        return (origin + remaining).astimezone(zone)
    if not schedule._ever_open:
        raise ValueError(f"schedule {schedule.name!r} is never open, so no due time exists")
    for opens, closes in _open_periods_from(schedule, zone, origin):
        if remaining <= closes - opens:
            return (opens + remaining).astimezone(zone)
        remaining -= closes - opens
    raise ValueError(
        _(
            "schedule {name!r} is open only on its exception dates, and they run out before "
            "{seconds!r} business seconds have passed since {start}"
        ).format(name=schedule.name, seconds=seconds, start=start.isoformat())
    )


def _clock_zone(schedule: Schedule | None, tz: str | None) -> ZoneInfo:
    if schedule is not None and schedule.timezone is not None:
        return _load_zone(
            schedule.timezone, owner=_("schedule {name!r}").format(name=schedule.name)
        )
    return _load_zone(tz or "UTC", owner="tz")


def _load_zone(key: str, owner: str) -> ZoneInfo:
    if not isinstance(key, str):
        raise ValueError(
            _("{owner}: the time zone must be an IANA name, not {key!r}").format(
                owner=owner, key=key
            )
        )
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            _(
                "{owner}: {key!r} is not a known time zone; use an IANA name such as Europe/London"
            ).format(owner=owner, key=key)
        ) from error


def _as_utc(moment: datetime, role: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{role} {moment.isoformat()} has no time zone; the clock needs aware times"
        )
    return moment.astimezone(_UTC)


def _normalise_pauses(
    pauses: Sequence[tuple[datetime, datetime]], span_start: datetime, span_end: datetime
) -> list[tuple[datetime, datetime]]:
    """Pauses clipped to the span, sorted, with overlapping or touching ones merged."""
    clipped = []
    for paused_from, paused_until in pauses:
        lo = _as_utc(paused_from, "pause start")
        hi = _as_utc(paused_until, "pause end")
        if hi < lo:
            raise ValueError(
                f"pause ends at {paused_until.isoformat()}, before it starts at "
                f"{paused_from.isoformat()}"
            )
        lo, hi = max(lo, span_start), min(hi, span_end)
        if lo < hi:
            clipped.append((lo, hi))
    clipped.sort()
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in clipped:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _schedule_timeline(
    schedule: Schedule, zone: ZoneInfo, span_start: datetime, span_end: datetime
) -> Iterator[Segment]:
    """Open, outside-hours and holiday pieces (UTC) that tile [span_start, span_end]."""
    day = span_start.astimezone(zone).date()
    while True:
        pieces, day_end = _day_pieces(schedule, zone, day)
        for piece in pieces:
            lo, hi = max(piece.start, span_start), min(piece.end, span_end)
            if lo < hi:
                yield Segment(lo, hi, piece.kind)
        # Stop on instants, not on the end's local date: where clocks go back across
        # midnight, a local date can run past the instant its next day starts.
        if day_end >= span_end:
            return
        day += _ONE_DAY


def _open_periods_from(
    schedule: Schedule, zone: ZoneInfo, origin: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Open periods (UTC) from ``origin`` onwards: without end, unless the schedule is open
    on its exception dates only, when they end with the last of them."""
    day = origin.astimezone(zone).date()
    last_day = None if any(schedule.weekly) else max(schedule.exceptions)
    while last_day is None or day <= last_day:
        pieces, _day_end = _day_pieces(schedule, zone, day)
        for piece in pieces:
            if piece.kind == COUNTED and piece.end > origin:
                yield max(piece.start, origin), piece.end
        day += _ONE_DAY


@lru_cache(maxsize=16384)
def _day_pieces(
    schedule: Schedule, zone: ZoneInfo, day: date
) -> tuple[tuple[Segment, ...], datetime]:
    """One local day's pieces (UTC) and the instant the next day starts.

    Cached: an audit's records fall on the same few hundred days, and working a day out
    (offsets, windows, holidays) costs far more than looking it up.  Bounded, and thread-safe.
    """
    day_start = _start_of_day(day, zone)
    day_end = _start_of_day(day + _ONE_DAY, zone)
    return tuple(_day_timeline(schedule, zone, day, day_start, day_end)), day_end


def _day_timeline(
    schedule: Schedule, zone: ZoneInfo, day: date, day_start: datetime, day_end: datetime
) -> Iterator[Segment]:
    """Tile one local day: open hours are ``counted`` until pauses are applied."""
    windows = _hours_on(schedule, day)
    if windows is None:
        # The whole local day, closed hours included: the evidence then says "holiday" once.
        yield Segment(day_start, day_end, HOLIDAY)
        return
    cursor = day_start
    for opens, closes in _open_instants(windows, day, zone, day_start, day_end):
        if cursor < opens:
            yield Segment(cursor, opens, OUTSIDE_HOURS)
        yield Segment(opens, closes, COUNTED)
        cursor = closes
    if cursor < day_end:
        yield Segment(cursor, day_end, OUTSIDE_HOURS)


def _hours_on(schedule: Schedule, day: date) -> DayHours | None:
    """A local day's open windows: its exception's, else ``None`` on a holiday (a day
    closed by an exception is one too), else the weekday's."""
    exception = schedule.exceptions.get(day)
    if exception is not None:
        return exception or None
    if day in schedule.holidays:
        return None
    return schedule.weekly[day.weekday()]


def _open_instants(
    windows: DayHours, day: date, zone: ZoneInfo, day_start: datetime, day_end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The instants (UTC) whose local clock reading falls inside one of the day's windows.

    Within a stretch of steady UTC offset the local clock only moves forwards, so each window
    is one interval there.  A window that straddles the hour the clocks skip loses it; one
    that holds the hour they repeat gets it twice, as two intervals.
    """
    midnight = datetime.combine(day, time())
    for stretch_start, stretch_end, offset in _steady_offset_stretches(zone, day_start, day_end):
        for first_minute, close_minute in windows:
            opens = _as_utc_wall(midnight + timedelta(minutes=first_minute) - offset)
            closes = _as_utc_wall(midnight + timedelta(minutes=close_minute) - offset)
            opens, closes = max(opens, stretch_start), min(closes, stretch_end)
            if opens < closes:
                yield opens, closes


def _steady_offset_stretches(
    zone: ZoneInfo, day_start: datetime, day_end: datetime
) -> Iterator[tuple[datetime, datetime, timedelta]]:
    """Split a day where the zone's UTC offset changes (at most once a day, in practice)."""
    offset_at_start = _offset_at(day_start, zone)
    offset_at_end = _offset_at(day_end - _ONE_MICROSECOND, zone)
    if offset_at_start == offset_at_end:
        yield day_start, day_end, offset_at_start
        return
    # Bisect to the second: zone transitions fall on whole seconds.
    before, after = int(day_start.timestamp()), int(day_end.timestamp())
    while after - before > 1:
        middle = (before + after) // 2
        if _offset_at(datetime.fromtimestamp(middle, _UTC), zone) == offset_at_start:
            before = middle
        else:
            after = middle
    change = datetime.fromtimestamp(after, _UTC)
    yield day_start, change, offset_at_start
    yield change, day_end, offset_at_end


def _offset_at(instant: datetime, zone: ZoneInfo) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    if offset is None:  # pragma: no cover - a ZoneInfo always has an offset
        raise AssertionError(f"time zone {zone} gave no UTC offset")
    return offset


def _as_utc_wall(naive_utc: datetime) -> datetime:
    return naive_utc.replace(tzinfo=_UTC)


def _start_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the local clock reads ``day`` 00:00 or later.

    Midnight is read at its first occurrence (``fold=0``) where the clocks repeat it, and as
    the moment of the jump where they skip it.
    """
    midnight = datetime.combine(day, time())
    first_reading = midnight.replace(tzinfo=zone).astimezone(_UTC)
    if first_reading.astimezone(zone).replace(tzinfo=None) == midnight:
        return first_reading
    return _end_of_gap(midnight, zone)


def _end_of_gap(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant the clocks jump over ``wall``, a local time that does not exist.

    Reading the missing time with the offset after the jump gives an instant before it, and with
    the offset before the jump an instant after it; bisect between them to the second.
    """
    before = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    after = int(wall.replace(tzinfo=zone, fold=0).timestamp())
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, _UTC)


def _apply_pauses(
    timeline: Iterable[Segment], pauses: Sequence[tuple[datetime, datetime]]
) -> Iterator[Segment]:
    """Split open pieces by the (sorted, disjoint) pauses; other kinds win over a pause."""
    first_relevant = 0
    for piece in timeline:
        if piece.kind != COUNTED or not pauses:
            yield piece
            continue
        while first_relevant < len(pauses) and pauses[first_relevant][1] <= piece.start:
            first_relevant += 1
        cursor = piece.start
        index = first_relevant
        while index < len(pauses) and pauses[index][0] < piece.end:
            paused_from = max(pauses[index][0], piece.start)
            paused_until = min(pauses[index][1], piece.end)
            if cursor < paused_from:
                yield Segment(cursor, paused_from, COUNTED)
            yield Segment(paused_from, paused_until, PAUSED)
            cursor = paused_until
            index += 1
        if cursor < piece.end:
            yield Segment(cursor, piece.end, COUNTED)


def _merge_adjacent(pieces: Iterable[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for piece in pieces:
        if merged and merged[-1].kind == piece.kind and merged[-1].end == piece.start:
            merged[-1] = merged[-1]._replace(end=piece.end)
        else:
            merged.append(piece)
    return merged


# --- the clock as a function ------------------------------------------------------------------
#
# Business time is a monotone function B(t): the counted seconds from an origin to the instant
# t.  A span is then B(end) - B(start), and each pause one more such difference.  B is kept
# over whole local years, as their open periods flattened into sorted epoch seconds (open,
# close, open, close, ...) beside the counted seconds before each of them, so one value of B
# is one bisection.  A year is worked out from the same local days the segments are walked
# from, so the two agree to the microsecond.
#
# Every boundary is a whole second (zone changes and window edges are), so for whole-second
# inputs the float arithmetic below works on integers and is exact.  A count that may be off
# by a fraction of a second (see _may_hide_a_fraction) is counted again in integer
# microseconds, the resolution of a datetime, so the result is the one timedelta arithmetic
# would give.

EpochSpan = tuple[float, float]
"""A pause in epoch seconds: (paused from, paused until)."""

_MICROSECONDS = 1_000_000
#: Beyond 2**32 s (the year 2106) an epoch float may no longer round to the microsecond it
#: was made from.
_EXACT_EPOCH_LIMIT = 2.0**32
#: Years one clock joins into its table: a year is up to about 1,500 floats (two windows a
#: day), so the table stays under about 5 MB.
_YEARS_JOINED = 40
#: Tables of single years kept for spans that reach beyond the joined years.
_FAR_YEARS_KEPT = 8
#: Whole-year totals kept per clock (one float each), for spans that cross many years.
_YEAR_TOTALS_KEPT = 20_000


class Clock(Protocol):
    """Counts the seconds between two instants given as epoch seconds, less pauses."""

    def seconds(self, start: float, end: float, pauses: Sequence[EpochSpan] = ()) -> float:
        """Counted seconds from ``start`` to ``end`` less ``pauses`` (any order, may overlap
        or reach outside the span).

        :raises ValueError: if ``end`` is before ``start`` or a pause ends before it starts.
        """
        ...


def clock_for(schedule: Schedule | None, tz: str | None = None) -> Clock:
    """The clock that :func:`measure` counts seconds with, for epoch-second inputs.

    ``schedule=None`` (or a 24x7 schedule) gives :data:`CALENDAR`, plain epoch arithmetic
    that never looks at a time zone.  A schedule gives its :class:`BusinessClock` in its own
    zone, or else in ``tz`` (UTC without one); the schedule keeps it, so asking again is a
    dictionary look-up.  Get the clock once (per rule, or per record zone), then call
    :meth:`Clock.seconds` per span.

    :raises ValueError: if the time zone is unknown.
    """
    if schedule is None or schedule._open_around_the_clock:
        if tz is not None:
            _load_zone(tz, owner="tz")
        return CALENDAR
    key = schedule.timezone or tz or "UTC"
    clock = schedule._clocks.get(key)
    if clock is None:
        clock = schedule._clocks.setdefault(key, BusinessClock(schedule, _clock_zone(schedule, tz)))
    return clock


class CalendarClock:
    """Calendar time: every second counts, less pauses.  No time zone is ever consulted."""

    __slots__ = ()

    def seconds(self, start: float, end: float, pauses: Sequence[EpochSpan] = ()) -> float:
        if end < start:
            raise ValueError(_span_backwards(start, end))
        merged = _merged_pauses(pauses, start, end) if pauses else ()
        counted = end - start
        for paused_from, paused_until in merged:
            counted -= paused_until - paused_from
        if counted % 1.0 or _may_hide_a_fraction(start, end, merged):
            return _exact(self._microseconds, start, end, merged, counted)
        return counted

    @staticmethod
    def _microseconds(start: int, end: int, _start: float, _end: float) -> int:
        return end - start


#: The one :class:`CalendarClock`; it holds no state.
CALENDAR = CalendarClock()


class _Table:
    """B(t) over a run of whole local years: see the section comment above.

    ``bounds`` holds the open periods as epoch seconds, open, close, open, close..., and
    ``before[i]`` the counted seconds from ``start`` to ``bounds[i]`` (one more entry: the
    total).  Never changed once made, so threads can read it without a lock.
    """

    __slots__ = ("before", "bounds", "end", "first_year", "last_year", "start", "total")

    def __init__(
        self, years: tuple[int, int], start: float, end: float, bounds: list[float]
    ) -> None:
        self.first_year, self.last_year = years
        self.start, self.end, self.bounds = start, end, bounds
        before = [0.0]
        for index in range(1, len(bounds)):
            # counted time grows over an open period (odd index) and stands still after it
            before.append(before[-1] + (bounds[index] - bounds[index - 1] if index & 1 else 0.0))
        before.append(before[-1])
        self.before = before
        self.total = before[-1]

    def counted_until(self, moment: float) -> float:
        """B(moment) - B(start), for start <= moment <= end."""
        index = bisect_right(self.bounds, moment)
        if index & 1:
            return self.before[index - 1] + (moment - self.bounds[index - 1])
        return self.before[index]

    def microseconds_until(self, moment: int) -> int:
        """:meth:`counted_until` in integer microseconds, for a moment given in them."""
        index = bisect_right(self.bounds, moment / _MICROSECONDS)
        if index & 1:
            opened = int(self.bounds[index - 1]) * _MICROSECONDS
            return int(self.before[index - 1]) * _MICROSECONDS + (moment - opened)
        return int(self.before[index]) * _MICROSECONDS

    def joined(self, later: _Table) -> _Table:
        """This run of years followed by the ``later`` one that starts where it ends."""
        bounds = self.bounds + later.bounds
        seam = len(self.bounds)
        if 0 < seam < len(bounds) and bounds[seam - 1] == bounds[seam]:
            del bounds[seam - 1 : seam + 1]  # open across New Year: one period
        return _Table((self.first_year, later.last_year), self.start, later.end, bounds)


#: No years yet: nothing falls inside it.
_NO_YEARS = _Table((0, -1), math.inf, -math.inf, [])


class BusinessClock:
    """Business time under one schedule in one zone, as the monotone function B(t).

    The clock keeps one table over the run of years its spans have reached, grown a year at
    a time as spans reach further, up to :data:`_YEARS_JOINED` years.  A span beyond that
    (a typo'd year, a far-future as-of moment) is counted year by year instead: whole years
    by their totals (kept, one float a year, up to :data:`_YEAR_TOTALS_KEPT`), and the two
    ends from year tables of which the last :data:`_FAR_YEARS_KEPT` are kept.  Memory is so
    bounded near a few megabytes per clock, however far apart the spans.  Safe to share
    between threads: tables are made under a lock and never changed.
    """

    __slots__ = ("_far_years", "_lock", "_near", "_totals", "schedule", "zone")

    def __init__(self, schedule: Schedule, zone: ZoneInfo) -> None:
        self.schedule, self.zone = schedule, zone
        self._near = _NO_YEARS
        self._far_years: OrderedDict[int, _Table] = OrderedDict()
        self._totals: dict[int, float] = {}
        self._lock = threading.Lock()

    def seconds(self, start: float, end: float, pauses: Sequence[EpochSpan] = ()) -> float:
        if end < start:
            raise ValueError(_span_backwards(start, end))
        merged = _merged_pauses(pauses, start, end) if pauses else ()
        table = self._near
        if not (table.start <= start and end <= table.end):
            reached = self._reach(start, end)
            if reached is None:
                return self._seconds_far(start, end, merged)
            table = reached
        counted_until = table.counted_until
        counted = counted_until(end) - counted_until(start)
        for paused_from, paused_until in merged:
            counted -= counted_until(paused_until) - counted_until(paused_from)
        if counted % 1.0 or _may_hide_a_fraction(start, end, merged):
            return _exact(self._microseconds, start, end, merged, counted)
        return counted

    def _reach(self, start: float, end: float) -> _Table | None:
        """The near table grown to hold [start, end]; ``None`` if that would be too many years."""
        with self._lock:
            table = self._near
            if table.start <= start and end <= table.end:
                return table  # another thread grew it meanwhile
            first, last = self._year_number(start), self._year_number(end)
            if table is not _NO_YEARS:
                first, last = min(first, table.first_year), max(last, table.last_year)
            if last - first + 1 > _YEARS_JOINED:
                return None
            if table is _NO_YEARS:
                table = _year_table(self.schedule, self.zone, first)
            for number in range(table.first_year - 1, first - 1, -1):
                table = _year_table(self.schedule, self.zone, number).joined(table)
            for number in range(table.last_year + 1, last + 1):
                table = table.joined(_year_table(self.schedule, self.zone, number))
            self._near = table
            return table

    def _year_number(self, moment: float) -> int:
        """The local year ``moment`` falls in."""
        # A local year starts within a day of the UTC one, so the UTC year is a good guess.
        number = datetime.fromtimestamp(moment, _UTC).year
        if moment < _start_of_day(date(number, 1, 1), self.zone).timestamp():
            return number - 1
        if moment >= self._year_end(number):
            return number + 1
        return number

    def _seconds_far(self, start: float, end: float, merged: Sequence[EpochSpan]) -> float:
        counted = self._between(start, end)
        for paused_from, paused_until in merged:
            counted -= self._between(paused_from, paused_until)
        if counted % 1.0 or _may_hide_a_fraction(start, end, merged):
            return _exact(self._microseconds, start, end, merged, counted)
        return counted

    def _between(self, start: float, end: float) -> float:
        """Counted seconds in [start, end], year by year."""
        first = self._far_year(self._year_number(start))
        if end <= first.end:
            return first.counted_until(end) - first.counted_until(start)
        counted = first.total - first.counted_until(start)
        number = first.last_year + 1
        while end > self._year_end(number):
            counted += self._year_total(number)
            number += 1
        return counted + self._far_year(number).counted_until(end)

    def _microseconds(self, start: int, end: int, start_s: float, end_s: float) -> int:
        table = self._near
        if table.start <= start_s and end_s <= table.end:
            return table.microseconds_until(end) - table.microseconds_until(start)
        first = self._far_year(self._year_number(start_s))
        if end_s <= first.end:
            return first.microseconds_until(end) - first.microseconds_until(start)
        counted = int(first.total) * _MICROSECONDS - first.microseconds_until(start)
        number = first.last_year + 1
        while end_s > self._year_end(number):
            counted += int(self._year_total(number)) * _MICROSECONDS
            number += 1
        return counted + self._far_year(number).microseconds_until(end)

    def _far_year(self, number: int) -> _Table:
        with self._lock:
            table = self._far_years.get(number)
            if table is None:
                table = _year_table(self.schedule, self.zone, number)
                self._far_years[number] = table
                if len(self._far_years) > _FAR_YEARS_KEPT:
                    self._far_years.popitem(last=False)
            self._far_years.move_to_end(number)
            return table

    def _year_end(self, number: int) -> float:
        return _start_of_day(date(number + 1, 1, 1), self.zone).timestamp()

    def _year_total(self, number: int) -> float:
        total = self._totals.get(number)
        if total is None:
            total = _year_total(self.schedule, self.zone, number)
            with self._lock:
                if len(self._totals) >= _YEAR_TOTALS_KEPT:
                    self._totals.clear()
                self._totals[number] = total
        return total


def _year_table(schedule: Schedule, zone: ZoneInfo, number: int) -> _Table:
    """B over one local year, from the same day pieces the segments are walked from."""
    day = date(number, 1, 1)
    start = _start_of_day(day, zone)
    bounds: list[float] = []
    while day.year == number:
        pieces, day_end = _day_pieces(schedule, zone, day)
        for piece in pieces:
            if piece.kind != COUNTED:
                continue
            opens, closes = piece.start.timestamp(), piece.end.timestamp()
            if bounds and bounds[-1] == opens:  # open across midnight: one period
                bounds[-1] = closes
            else:
                bounds += (opens, closes)
        day += _ONE_DAY
    return _Table((number, number), start.timestamp(), day_end.timestamp(), bounds)


def _year_total(schedule: Schedule, zone: ZoneInfo, number: int) -> float:
    """The counted seconds of one local year: what its table would hold, built faster.

    A day on which the zone keeps one UTC offset from midnight to midnight counts its
    windows (its exception's, if it has one) in full, so only the days the offset changes
    need working out.
    The offset is read at each midnight (both readings of a repeated one) and noon, which
    finds every change unless a zone changed its clocks twice within half a day.
    """
    in_full = [sum(close - first for first, close in windows) * 60 for windows in schedule.weekly]
    total = 0.0
    day = date(number, 1, 1)
    offsets_at_midnight = _offsets_at_midnight(day, zone)
    while day.year == number:
        next_day = day + _ONE_DAY
        offsets_at_next_midnight = _offsets_at_midnight(next_day, zone)
        noon = zone.utcoffset(datetime.combine(day, _NOON))
        steady = offsets_at_midnight == offsets_at_next_midnight == (noon, noon)
        windows = _hours_on(schedule, day)
        if windows is None:
            pass
        elif steady:
            total += (
                in_full[day.weekday()]
                if day not in schedule.exceptions
                else sum(close - first for first, close in windows) * 60
            )
        else:
            pieces, _day_end = _day_pieces(schedule, zone, day)
            total += sum(piece.seconds for piece in pieces if piece.kind == COUNTED)
        day, offsets_at_midnight = next_day, offsets_at_next_midnight
    return total


_NOON = time(12)


def _offsets_at_midnight(day: date, zone: ZoneInfo) -> tuple[timedelta | None, timedelta | None]:
    midnight = datetime.combine(day, time())
    return zone.utcoffset(midnight), zone.utcoffset(midnight.replace(fold=1))


def _merged_pauses(pauses: Sequence[EpochSpan], start: float, end: float) -> list[EpochSpan]:
    """Pauses clipped to the span, sorted, with overlapping or touching ones merged."""
    clipped = []
    for paused_from, paused_until in pauses:
        if paused_until < paused_from:
            raise ValueError(_pause_backwards(paused_from, paused_until))
        lo = paused_from if paused_from > start else start
        hi = paused_until if paused_until < end else end
        if lo < hi:
            clipped.append((lo, hi))
    if len(clipped) < 2:
        return clipped
    clipped.sort()
    merged = [clipped[0]]
    for lo, hi in clipped[1:]:
        if lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def _may_hide_a_fraction(start: float, end: float, merged: Sequence[EpochSpan]) -> bool:
    """Whether a whole-second count could still be off by a fraction of a second.

    Between 2004 and 2038 every input is a float of one binade (2**30 to 2**31 s), so each
    subtraction and sum above is exact for the floats given, and B moves no faster than
    time: the count is off from the microseconds the caller meant by at most half a float
    step (0.12 µs) per input.  Up to eight inputs (three pauses) stay under the 1 µs that
    would make a whole count of a fractional one, so a whole count is the true one.
    Elsewhere, or with more pauses, look at the inputs themselves: whole seconds are exact
    everywhere.
    """
    if len(merged) <= 3 and start >= _TWO_TO_30 and end < _TWO_TO_31:
        return False
    return bool(start % 1.0 or end % 1.0 or any(lo % 1.0 or hi % 1.0 for lo, hi in merged))


#: 2004-01-10 and 2038-01-19, in epoch seconds
_TWO_TO_30, _TWO_TO_31 = 2.0**30, 2.0**31


def _exact(
    microseconds: Callable[[int, int, float, float], int],
    start: float,
    end: float,
    merged: Sequence[EpochSpan],
    counted: float,
) -> float:
    """``counted`` again in integer microseconds, for inputs with a fraction of a second.

    ``microseconds(start_us, end_us, start, end)`` counts one stretch.  Dividing the total
    once, as ``timedelta.total_seconds`` does, gives the float a datetime walk gives.
    """
    if abs(start) >= _EXACT_EPOCH_LIMIT or abs(end) >= _EXACT_EPOCH_LIMIT:
        return counted  # the floats no longer hold microseconds: nothing finer to recover
    total = microseconds(_us(start), _us(end), start, end)
    for paused_from, paused_until in merged:
        total -= microseconds(_us(paused_from), _us(paused_until), paused_from, paused_until)
    return total / _MICROSECONDS


def _us(moment: float) -> int:
    return round(moment * _MICROSECONDS)


def _span_backwards(start: float, end: float) -> str:
    def shown(moment: float) -> str:
        return datetime.fromtimestamp(moment, _UTC).isoformat()

    return f"end {shown(end)} is before start {shown(start)}"


# --- checking a Schedule built in code --------------------------------------------------------


def _check_weekly(name: str, weekly: WeeklyHours) -> None:
    if len(weekly) != 7:
        raise ValueError(
            _("schedule {name!r}: weekly hours need 7 days (Mon..Sun), not {count}").format(
                name=name, count=len(weekly)
            )
        )
    for day_name, windows in zip(DAY_NAMES, weekly, strict=True):
        _check_windows(name, day_name, windows)


def _check_windows(name: str, day_name: str, windows: DayHours) -> None:
    previous_close = 0
    for first_minute, close_minute in windows:
        if not 0 <= first_minute < close_minute <= MINUTES_PER_DAY:
            raise ValueError(
                _(
                    "schedule {name!r}: {day} window ({first}, {close}) must open before it "
                    "closes, within minutes 0..{last}"
                ).format(
                    name=name,
                    day=day_name,
                    first=first_minute,
                    close=close_minute,
                    last=MINUTES_PER_DAY,
                )
            )
        if first_minute < previous_close:
            raise ValueError(
                _("schedule {name!r}: {day} windows must be sorted and must not overlap").format(
                    name=name, day=day_name
                )
            )
        previous_close = close_minute


def _check_holiday_dates(name: str, holidays: frozenset[date]) -> None:
    for day in holidays:
        if isinstance(day, datetime) or not isinstance(day, date):
            raise ValueError(
                _("schedule {name!r}: holiday {day!r} must be a date").format(name=name, day=day)
            )


def _checked_exceptions(name: str, exceptions: Mapping[date, DayHours]) -> Mapping[date, DayHours]:
    """``exceptions`` checked, as a read-only mapping sorted by date (windows as tuples)."""
    if not isinstance(exceptions, Mapping):
        raise ValueError(
            _("schedule {name!r}: exceptions must map dates to windows, not {given!r}").format(
                name=name, given=exceptions
            )
        )
    checked: dict[date, DayHours] = {}
    for day in sorted(exceptions):
        if isinstance(day, datetime) or not isinstance(day, date):
            raise ValueError(
                _("schedule {name!r}: exception {day!r} must be a date").format(name=name, day=day)
            )
        windows = tuple(tuple(window) for window in exceptions[day])
        _check_windows(name, day.isoformat(), windows)  # type: ignore[arg-type]
        checked[day] = windows  # type: ignore[assignment]
    return _DayExceptions(checked)


class _DayExceptions(Mapping[date, DayHours]):
    """A schedule's exceptions: read-only, and picklable (unlike a ``MappingProxyType``)."""

    __slots__ = ("_days",)

    def __init__(self, days: Mapping[date, DayHours]) -> None:
        self._days = dict(days)

    def __getitem__(self, day: date) -> DayHours:
        return self._days[day]

    def get(self, day: date, default: Any = None) -> Any:  # the hot path: one dict lookup
        return self._days.get(day, default)

    def __iter__(self) -> Iterator[date]:
        return iter(self._days)

    def __len__(self) -> int:
        return len(self._days)

    def __contains__(self, day: object) -> bool:
        return day in self._days

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._days == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._days!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._days,))


# --- reading a schedule from YAML -------------------------------------------------------------

_SCHEDULE_KEYS = ("timezone", "hours", "holidays", "exceptions", "description")
_HOLIDAY_KEYS = ("dates", "country", "subdivision", "years", "make_up_days", "make_up_hours")
_EXCEPTION_KEYS = ("hours", "note")
_RANGE = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")
_CLOSED = "closed"


def parse_schedule(name: str, data: Mapping[str, Any]) -> Schedule:
    """Build a :class:`Schedule` from its YAML mapping (see ``docs/clock.md``).

    :raises ValueError: naming the schedule and the offending key or value in plain words.
    """
    if not isinstance(data, Mapping):
        raise ValueError(
            _(
                "schedule {name!r} must be a mapping with timezone, hours and holidays, not {type}"
            ).format(name=name, type=type(data).__name__)
        )
    _reject_unknown_keys(_("schedule {name!r}").format(name=name), data, _SCHEDULE_KEYS, [])
    timezone_name = data.get("timezone")
    if timezone_name is not None and not isinstance(timezone_name, str):
        raise ScheduleError(
            _(
                "schedule {name!r}: timezone must be an IANA name such as Europe/London, "
                "not {given!r}"
            ).format(name=name, given=timezone_name),
            ["timezone"],
        )
    if timezone_name is not None:
        try:
            _load_zone(timezone_name, owner=_("schedule {name!r}").format(name=name))
        except ValueError as error:
            raise ScheduleError(str(error), ["timezone"]) from error
    hours = data.get("hours")
    weekly = (_ALL_DAY,) * 7 if hours is None else _parse_hours(name, hours)
    holidays, make_up_days = _parse_holidays(name, data.get("holidays"), weekly)
    exceptions = {**make_up_days, **_parse_exceptions(name, data.get("exceptions"))}
    schedule = Schedule(name, timezone_name, weekly, holidays, exceptions)
    if not schedule._ever_open:
        raise ScheduleError(
            _("schedule {name!r} is closed every day; give it some hours").format(name=name),
            ["hours"] if "hours" in data else [],
        )
    return schedule


def _parse_exceptions(name: str, exceptions: Any) -> dict[date, DayHours]:
    """The ``exceptions`` key: dates with hours of their own, or ``closed``."""
    if exceptions is None:
        return {}
    if not isinstance(exceptions, Mapping):
        raise ScheduleError(
            _(
                "schedule {name!r}: exceptions must map dates to hours, like "
                '"2025-01-26": "09:00-18:00" or "2025-02-03": closed, not {given!r}'
            ).format(name=name, given=exceptions),
            ["exceptions"],
        )
    parsed: dict[date, DayHours] = {}
    for key, value in exceptions.items():
        where: list[str | int] = ["exceptions", key if isinstance(key, str) else str(key)]
        day = _parse_exception_date(name, key, where)
        if day in parsed:
            raise ScheduleError(
                _("schedule {name!r}: exception {day} is given twice").format(name=name, day=day),
                where,
            )
        parsed[day] = _parse_exception_hours(name, key, value, where)
    return parsed


def _parse_exception_date(name: str, key: Any, where: Sequence[str | int]) -> date:
    if isinstance(key, date) and not isinstance(key, datetime):
        return key
    if isinstance(key, str):
        try:
            return date.fromisoformat(key.strip())
        except ValueError:
            pass
    raise ScheduleError(
        _("schedule {name!r}: exception {key!r} is not a date; write it as YYYY-MM-DD").format(
            name=name, key=key
        ),
        where,
    )


def _parse_exception_hours(name: str, key: Any, value: Any, where: Sequence[str | int]) -> DayHours:
    label = _("exception {day}").format(day=key)
    if isinstance(value, Mapping):
        unknown = sorted(str(part) for part in value if part not in _EXCEPTION_KEYS)
        if unknown:
            raise ScheduleError(
                _(
                    "schedule {name!r}: {label} has unknown key {key!r}; expected hours and, "
                    "optionally, note"
                ).format(name=name, label=label, key=unknown[0]),
                [*where, unknown[0]],
            )
        if "hours" not in value:
            raise ScheduleError(
                _('schedule {name!r}: {label} needs hours, like "09:00-12:00" or closed').format(
                    name=name, label=label
                ),
                where,
            )
        note = value.get("note")
        if note is not None and not isinstance(note, str):
            raise ScheduleError(
                _("schedule {name!r}: {label} note must be text, not {note!r}").format(
                    name=name, label=label, note=note
                ),
                [*where, "note"],
            )
        where, value = [*where, "hours"], value["hours"]
    return _merge_windows(_parse_day_hours(name, label, value, where))


def _reject_unknown_keys(
    owner: str, data: Mapping[Any, Any], known: Sequence[str], where: Sequence[str | int]
) -> None:
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ScheduleError(
            _("{owner}: unknown key {key!r}; expected one of {known}").format(
                owner=owner, key=unknown[0], known=", ".join(known)
            ),
            [*where, unknown[0]],
        )


def _parse_hours(name: str, hours: Any) -> WeeklyHours:
    if not isinstance(hours, Mapping):
        raise ScheduleError(
            _(
                'schedule {name!r}: hours must map days to ranges, like mon-fri: "09:00-17:30", '
                "not {given!r}"
            ).format(name=name, given=hours),
            ["hours"],
        )
    windows_by_day: list[list[Window]] = [[] for _ in DAY_NAMES]
    opened_by: dict[int, str] = {}
    closed_by: dict[int, str] = {}
    for key, value in hours.items():
        where: list[str | int] = ["hours", str(key)]
        windows = _parse_day_hours(name, key, value, where)
        for day in _parse_day_key(name, key, where):
            windows_by_day[day].extend(windows)
            (opened_by if windows else closed_by).setdefault(day, str(key))
            if day in opened_by and day in closed_by:
                raise ScheduleError(
                    _(
                        "schedule {name!r}: {day} is closed under {closed!r} but has hours "
                        "under {opened!r}; give each day its hours once"
                    ).format(
                        name=name, day=DAY_NAMES[day], closed=closed_by[day], opened=opened_by[day]
                    ),
                    where,
                )
    return tuple(_merge_windows(windows) for windows in windows_by_day)


def _parse_day_key(name: str, key: Any, where: Sequence[str | int]) -> tuple[int, ...]:
    text = str(key).strip().lower()
    if text == "daily":
        return tuple(range(7))
    ends = text.split("-")
    if len(ends) <= 2 and all(end.strip() in DAY_NAMES for end in ends):
        first = DAY_NAMES.index(ends[0].strip())
        last = DAY_NAMES.index(ends[-1].strip())
        # A range may wrap past Sunday (fri-mon), as people say it.
        return tuple((first + offset) % 7 for offset in range((last - first) % 7 + 1))
    raise ScheduleError(
        _(
            "schedule {name!r}: hours key {key!r} is not a day; use mon, tue, wed, thu, fri, "
            "sat or sun, a range such as mon-fri, or daily"
        ).format(name=name, key=key),
        where,
    )


def _parse_day_hours(name: str, key: Any, value: Any, where: Sequence[str | int] = ()) -> DayHours:
    """One day's hours; a fault raises :class:`ScheduleError` at ``where`` (the value's keys),
    or at the list item that holds it."""
    if isinstance(value, str) and value.strip().lower() == _CLOSED:
        return ()
    if isinstance(value, str):
        return (_parse_range(name, key, value, where),)
    if isinstance(value, Sequence) and value:
        return tuple(
            _parse_range(name, key, item, [*where, index]) for index, item in enumerate(value)
        )
    raise ScheduleError(
        _(
            'schedule {name!r}: hours for {key!r} must be a range like "09:00-17:30", '
            'a list of such ranges, or "closed", not {given!r}'
        ).format(name=name, key=key, given=value),
        where,
    )


def _parse_range(name: str, key: Any, text: Any, where: Sequence[str | int] = ()) -> Window:
    match = _RANGE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ScheduleError(
            _(
                "schedule {name!r}: hours for {key!r} has {text!r}, which is not a range "
                'like "09:00-17:30"'
            ).format(name=name, key=key, text=text),
            where,
        )
    opens = _minute_of_day(name, key, text, int(match[1]), int(match[2]), where)
    closes = _minute_of_day(name, key, text, int(match[3]), int(match[4]), where)
    if closes <= opens:
        raise ScheduleError(
            _(
                "schedule {name!r}: hours for {key!r} has {text!r}, which ends before it starts; "
                "split a range that crosses midnight into one that ends at 24:00 and one that "
                "starts at 00:00 the next day"
            ).format(name=name, key=key, text=text),
            where,
        )
    return opens, closes


def _minute_of_day(
    name: str, key: Any, text: str, hour: int, minute: int, where: Sequence[str | int]
) -> int:
    if minute >= 60 or hour > 24 or (hour == 24 and minute != 0):
        raise ScheduleError(
            _(
                "schedule {name!r}: hours for {key!r} has {text!r}, which holds a time that does "
                "not exist; times run from 00:00 to 24:00"
            ).format(name=name, key=key, text=text),
            where,
        )
    return hour * 60 + minute


def _merge_windows(windows: Iterable[Window]) -> DayHours:
    merged: list[Window] = []
    for opens, closes in sorted(windows):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return tuple(merged)


def _parse_holidays(
    name: str, holidays: Any, weekly: WeeklyHours
) -> tuple[frozenset[date], dict[date, DayHours]]:
    """The days off, and the country's make-up working days (调休) with their hours."""
    if holidays is None:
        return frozenset(), {}
    if not isinstance(holidays, Mapping):
        raise ScheduleError(
            _(
                "schedule {name!r}: holidays must be a mapping with dates, country, subdivision "
                "and years, not {given!r}"
            ).format(name=name, given=holidays),
            ["holidays"],
        )
    _reject_unknown_keys(
        _("schedule {name!r}: holidays").format(name=name), holidays, _HOLIDAY_KEYS, ["holidays"]
    )
    listed = _parse_holiday_dates(name, holidays.get("dates"))
    country = holidays.get("country")
    if country is None:
        for needs_country in ("subdivision", "years", "make_up_days", "make_up_hours"):
            if holidays.get(needs_country) is not None:
                raise ScheduleError(
                    _("schedule {name!r}: holidays {key} is only used with a country").format(
                        name=name, key=needs_country
                    ),
                    ["holidays", needs_country],
                )
        return listed, {}
    subdivision = holidays.get("subdivision")
    years = _parse_years(name, holidays.get("years"))
    days_off, make_up_days = _country_holidays(name, country, subdivision, years)
    wanted = holidays.get("make_up_days", True)
    if not isinstance(wanted, bool):
        raise ScheduleError(
            _(
                "schedule {name!r}: holidays make_up_days must be true or false, not {given!r}"
            ).format(name=name, given=wanted),
            ["holidays", "make_up_days"],
        )
    if not wanted:
        if holidays.get("make_up_hours") is not None:
            raise ScheduleError(
                _(
                    "schedule {name!r}: holidays make_up_hours is only used with make_up_days"
                ).format(name=name),
                ["holidays", "make_up_hours"],
            )
        return listed | days_off, {}
    hours = _make_up_hours(name, holidays.get("make_up_hours"), weekly)
    return listed | days_off, dict.fromkeys(sorted(make_up_days), hours)


def _make_up_hours(name: str, given: Any, weekly: WeeklyHours) -> DayHours:
    """The hours a make-up working day keeps: ``given``, else a usual weekday's.

    A usual weekday's hours are those most of Monday to Friday keep (the earliest such day's
    on a tie), the ordinary working day a make-up day stands in for.
    """
    if given is not None:
        where = ["holidays", "make_up_hours"]
        return _merge_windows(_parse_day_hours(name, "make_up_hours", given, where))
    weekdays = weekly[:5]
    return max(weekdays, key=lambda hours: (weekdays.count(hours), -weekdays.index(hours)))


def _parse_holiday_dates(name: str, dates: Any) -> frozenset[date]:
    if dates is None:
        return frozenset()
    if isinstance(dates, str) or not isinstance(dates, Sequence):
        raise ScheduleError(
            _("schedule {name!r}: holidays dates must be a list of dates, not {given!r}").format(
                name=name, given=dates
            ),
            ["holidays", "dates"],
        )
    return frozenset(
        _parse_holiday_date(name, item, ["holidays", "dates", index])
        for index, item in enumerate(dates)
    )


def _parse_holiday_date(name: str, item: Any, where: Sequence[str | int]) -> date:
    if isinstance(item, date) and not isinstance(item, datetime):
        return item
    if isinstance(item, str):
        try:
            return date.fromisoformat(item.strip())
        except ValueError:
            pass
    raise ScheduleError(
        _("schedule {name!r}: holiday date {item!r} is not a date; write it as YYYY-MM-DD").format(
            name=name, item=item
        ),
        where,
    )


def _parse_years(name: str, years: Any) -> tuple[int, ...]:
    if years is None:
        return DEFAULT_HOLIDAY_YEARS
    if (
        isinstance(years, Sequence)
        and not isinstance(years, str)
        and years
        and all(isinstance(year, int) and not isinstance(year, bool) for year in years)
        and all(1 <= year <= 9999 for year in years)
    ):
        return tuple(sorted(set(years)))
    raise ScheduleError(
        _(
            "schedule {name!r}: holidays years must be a list of years such as [2025, 2026], "
            "not {given!r}"
        ).format(name=name, given=years),
        ["holidays", "years"],
    )


def _country_holidays(
    name: str, country: Any, subdivision: Any, years: tuple[int, ...]
) -> tuple[frozenset[date], frozenset[date]]:
    """The country's public holidays in ``years``, and its make-up working days there.

    Make-up working days (weekend days worked in exchange for a longer holiday, as China's
    调休) come from the calendar's ``weekend_workdays`` where the installed ``holidays``
    package has them; an older package gives none.
    """
    if not isinstance(country, str) or (
        subdivision is not None and not isinstance(subdivision, str)
    ):
        raise ScheduleError(
            _(
                "schedule {name!r}: holidays country and subdivision must be codes such as GB "
                "and ENG, not {country!r} and {subdivision!r}"
            ).format(name=name, country=country, subdivision=subdivision),
            ["holidays", "country" if not isinstance(country, str) else "subdivision"],
        )
    import holidays as holiday_calendars  # only schedules that name a country pay for it

    country_code = country.strip().upper()
    try:
        calendar = holiday_calendars.country_holidays(country_code, subdiv=subdivision, years=years)
    except NotImplementedError as error:
        known = holiday_calendars.list_supported_countries()
        if country_code in known:
            raise ScheduleError(
                _(
                    "schedule {name!r}: holidays subdivision {subdivision!r} is not a subdivision "
                    "of {country} that the holidays package knows; known: {known}"
                ).format(
                    name=name,
                    subdivision=subdivision,
                    country=country_code,
                    known=", ".join(known[country_code]),
                ),
                ["holidays", "subdivision"],
            ) from error
        raise ScheduleError(
            _(
                "schedule {name!r}: holidays country {country!r} is not a country the holidays "
                "package knows; use an ISO 3166 code such as GB or US"
            ).format(name=name, country=country),
            ["holidays", "country"],
        ) from error
    days_off = frozenset(calendar.keys())
    # The set may hold days of years not asked for (the package fills it by year rules).
    wanted_years = set(years)
    workdays = getattr(calendar, "weekend_workdays", ())
    make_up_days = frozenset(
        day for day in workdays if day.year in wanted_years and day not in days_off
    )
    return days_off, make_up_days
