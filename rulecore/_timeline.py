"""Reading a case's timeline: which events had happened by a moment, and who owned the case.

These are the small readings that checks of every dimension make of one record's events; the
case clock (:mod:`rulecore.caseclock`) builds on them.  Both run in one pass over the events
and never raise on an odd record.
"""

from __future__ import annotations

from bisect import bisect_right
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


#: The record whose event times were read last, and those times: every rule of a standard
#: reads the same record in turn.  One tuple, swapped whole, so threads see one or the other.
_last_times: tuple[Record | None, tuple[float, ...]] = (None, ())


def event_times(record: Record) -> tuple[float, ...]:
    """Each event's moment in epoch seconds, in timeline order: read once per record, however
    many rules ask (the checks' hot path compares and subtracts these, not datetimes)."""
    global _last_times  # noqa: PLW0603  # a one-record cache, replaced whole
    last, times = _last_times
    if last is record:
        return times
    times = tuple([event.at.timestamp() for event in record.events])
    _last_times = (record, times)
    return times


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
