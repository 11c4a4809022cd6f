"""The canonical interaction record: a case with attributes and a timeline of events.

Records are decoded straight into frozen ``msgspec`` structs.  That is the hot path: typed
decoding validates the shape while it parses, so a record is parsed once and its timestamps
are converted once, not once per rule.  The published JSON Schema
(``rulecore/schemas/record.schema.json``) is the contract; ``tests/test_records.py`` holds
this decoder to it on valid and invalid records, and the schema words the error when a record
is rejected.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

import msgspec

from ._i18n import _

Scalar = str | int | float | bool | None

#: Ids and names are short strings; bounding them keeps a hostile input from costing memory
#: downstream (fingerprints, reports).
_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
_Name = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
_Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]


class Event(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One thing that happened in a case: who did what, and when."""

    at: _Timestamp
    type: _Name
    actor: _Name = "system"
    fields: dict[str, Any] = msgspec.field(default_factory=dict)


class Record(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One interaction: a ticket, chat, call, service request or incident.

    ``events`` is always in time order.  When the source listed them out of order the reader
    sorts them (stably) and sets ``reordered`` so the evidence can say so.
    """

    id: _Id
    attributes: dict[str, Scalar] = msgspec.field(default_factory=dict)
    events: tuple[Event, ...] = ()
    reordered: bool = False

    def attribute(self, name: str) -> Scalar:
        """Return an attribute, or ``id`` for the record id; ``None`` when absent."""
        if name == "id":
            return self.id
        return self.attributes.get(name)


def in_time_order(record: Record) -> Record:
    """Return ``record`` with its events sorted by time, noting when they were not."""
    events = record.events
    if all(events[i].at <= events[i + 1].at for i in range(len(events) - 1)):
        return record
    ordered = tuple(sorted(events, key=lambda event: event.at))
    return msgspec.structs.replace(record, events=ordered, reordered=True)


#: Every event of a record must fall in these years (``EARLIEST`` included, ``LATEST`` not):
#: wide for any service record, and narrow enough that every clock computation (UTC offsets,
#: the working days of a schedule, ``--as-of``) stays within what ``datetime`` can count and
#: within a bounded amount of work.  A year 1 or 9999 is a placeholder or a typo, not a date.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
PLAUSIBLE_RANGE = "from 1970-01-01T00:00:00Z up to (not including) 2100-01-01T00:00:00Z"


_EARLIEST_SECONDS = EARLIEST.timestamp()
_LATEST_SECONDS = LATEST.timestamp()


def outside_plausible_range(moment: datetime) -> bool:
    """Whether ``moment`` (with a UTC offset) is outside :data:`PLAUSIBLE_RANGE`."""
    try:
        # In epoch seconds: comparing datetimes of different zones costs ten times as much,
        # and this runs for every record read.
        return not _EARLIEST_SECONDS <= moment.timestamp() < _LATEST_SECONDS
    except (OverflowError, ValueError, OSError):  # beyond what a datetime can convert
        return True


class BadMoment(ValueError):
    """Why a text is not a moment to audit as of: ``reason`` says which rule it breaks."""

    def __init__(self, reason: Literal["not_iso", "no_offset", "out_of_range"]) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_moment(text: str) -> datetime:
    """The moment ``--as-of`` and ``?as_of=`` name: ISO 8601, ``Z`` allowed, with a UTC offset.

    Raises :class:`BadMoment` when ``text`` is not ISO 8601, has no UTC offset, or is outside
    :data:`PLAUSIBLE_RANGE` (the in-flight clock works its way to the moment: centuries away
    would take minutes); each caller words the refusal for its own parameter.
    """
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadMoment("not_iso") from None
    if moment.tzinfo is None:
        raise BadMoment("no_offset")
    if outside_plausible_range(moment):
        raise BadMoment("out_of_range")
    return moment


def time_range_problem(record: Record) -> str | None:
    """Why ``record`` cannot be audited for its timestamps, or ``None`` when it can.

    Its events are in time order, so the first and the last one are the ones to check.
    """
    events = record.events
    if not events:
        return None
    first, last = events[0].at, events[-1].at
    if not outside_plausible_range(first) and not outside_plausible_range(last):
        return None
    wrong = first if outside_plausible_range(first) else last
    return _(
        "an event at {moment} is outside the dates rulecore audits, {range}; correct the "
        "timestamp, or leave the event out if its date is a placeholder"
    ).format(moment=wrong.isoformat(), range=PLAUSIBLE_RANGE)


class _RecordInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A record as the input format has it: ``reordered`` is rulecore's note, not input."""

    id: _Id
    attributes: dict[str, Scalar] = msgspec.field(default_factory=dict)
    events: tuple[Event, ...] = ()


_record_decoder = msgspec.json.Decoder(_RecordInput)


def _as_record(given: _RecordInput) -> Record:
    record = in_time_order(Record(given.id, given.attributes, given.events))
    problem = time_range_problem(record)
    if problem is not None:
        raise msgspec.ValidationError(problem)
    return record


def decode_record(line: bytes | str) -> Record:
    """Decode one JSON document into a :class:`Record` (raises ``msgspec.DecodeError``)."""
    return _as_record(_record_decoder.decode(line))


def record_from_mapping(data: Any) -> Record:
    """Build a :class:`Record` from already-parsed data, such as a YAML fixture or a mapping."""
    return _as_record(msgspec.convert(data, _RecordInput, strict=True))


def record_to_builtins(record: Record) -> dict[str, Any]:
    """The record as JSON-ready builtins, in the canonical shape (``reordered`` left out)."""
    data: dict[str, Any] = msgspec.to_builtins(record)
    data.pop("reordered", None)
    return data
