"""Reading a case's timeline: which events had happened by a moment, and who owned the case.

These are the small readings that checks of every dimension make of one record's events; the
case clock (:mod:`rulecore.caseclock`) builds on them.  Both run in one pass over the events
and never raise on an odd record.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, NamedTuple

from ._model import Event, Record

EventPredicate = Callable[[Event], bool]


def known_events(record: Record, as_of: datetime | None) -> int:
    """How many of ``record``'s events had happened by ``as_of``: all of them when ``None``.

    Audited in flight, an event stamped after the audit's moment has not happened yet, so a
    check looks only at ``record.events[:known_events(record, as_of)]``.  An event stamped
    exactly at ``as_of`` has happened.
    """
    if as_of is None:
        return len(record.events)
    return bisect_right(record.events, as_of, key=_event_time)


def _event_time(event: Event) -> datetime:
    return event.at


class TimelineIndex(NamedTuple):
    """What every rule asks of a record's timeline, read in one pass and shared by all.

    ``times`` holds each event's moment in epoch seconds; ``by_type`` the positions of the
    events of each type, in timeline order.
    """

    times: tuple[float, ...]
    by_type: dict[str, list[int]]


#: The record indexed last, and its index: every rule of a standard reads the same record in
#: turn.  One tuple, swapped whole, so that threads see one entry or the other.
_last_index: tuple[Record | None, TimelineIndex | None] = (None, None)


def timeline_index(record: Record) -> TimelineIndex:
    """The record's :class:`TimelineIndex`, built once per record however many rules ask."""
    global _last_index  # noqa: PLW0603  # a one-record cache, replaced whole
    last, index = _last_index
    if last is record and index is not None:
        return index
    events = record.events
    times = tuple([event.at.timestamp() for event in events])
    by_type: dict[str, list[int]] = {}
    for position, event in enumerate(events):
        kind = event.type
        if kind in by_type:
            by_type[kind].append(position)
        else:
            by_type[kind] = [position]
    index = TimelineIndex(times, by_type)
    _last_index = (record, index)
    return index


def event_times(record: Record) -> tuple[float, ...]:
    """Each event's moment in epoch seconds, in timeline order: read once per record, however
    many rules ask (the checks' hot path compares and subtracts these, not datetimes)."""
    return timeline_index(record).times


def positions_of(index: TimelineIndex, types: frozenset[str]) -> list[int]:
    """The positions of the events of any of ``types``, in timeline order."""
    if len(types) == 1:
        for kind in types:
            return index.by_type.get(kind, _NONE)
    found = [position for kind in types for position in index.by_type.get(kind, _NONE)]
    found.sort()
    return found


_NONE: list[int] = []


def find_position(
    positions: list[int], occurrence: str = "first", after: int = -1, before: int | None = None
) -> int | None:
    """The first (or ``last``) of ``positions`` after ``after`` and before ``before``: what
    :func:`rulecore.find_event` finds, by bisection over an index instead of a walk."""
    if occurrence == "last":
        end = len(positions) if before is None else bisect_left(positions, before)
        if end and positions[end - 1] > after:
            return positions[end - 1]
        return None
    start = bisect_right(positions, after)
    if start < len(positions) and (before is None or positions[start] < before):
        return positions[start]
    return None


def field_key(value: Any) -> str | None:
    """A field value as a comparable key, so ``2``, ``2.0`` and ``"2"`` are one value.

    Exports disagree on whether a status, level or team id is a number or text (a CSV read
    through a data frame turns ``2`` into ``2.0``); a standard should not have to know which.
    Text is stripped; booleans read ``true``/``false``.  ``None`` means the field names
    nothing: it is absent, ``null`` or blank.  Letter case is kept: ``Billing`` and
    ``billing`` are two values.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


class OwnerChange(NamedTuple):
    """A change of owner: the event at ``event_index`` moved the case from ``before`` to ``after``.

    The first change of a timeline is its first assignment, with ``before`` ``None``; every
    later one is a handoff (:attr:`is_handoff`).  Owners are keys (:func:`field_key`).
    """

    event_index: int
    before: str | None
    after: str

    @property
    def is_handoff(self) -> bool:
        """Whether the case passed from one owner to another (not its first assignment)."""
        return self.before is not None


def owner_changes(
    record: Record, field: str, carries: EventPredicate | None = None
) -> Iterator[OwnerChange]:
    """Yield each change of the owner that the event field ``field`` names, in time order.

    Only events that ``carries`` accepts (every event when ``None``) and whose ``field`` names
    an owner are read.  The first such event yields the first assignment (``before`` is
    ``None``); each later one that names a different owner yields a handoff.  Naming the owner
    the case already has is no change, so ``A, A, B, A`` yields ``None → A``, ``A → B`` and
    ``B → A``.  Values compare as :func:`field_key` keys: ``2``, ``2.0`` and ``"2"`` are one
    owner, and a blank names none.
    """
    owner: str | None = None
    for index, event in enumerate(record.events):
        raw = event.fields.get(field)
        if raw is None or (carries is not None and not carries(event)):
            continue
        named = field_key(raw)
        if named is None or named == owner:
            continue
        yield OwnerChange(index, owner, named)
        owner = named
