"""The canonical interaction record: a case with attributes and a timeline of events.

Records are decoded straight into frozen ``msgspec`` structs.  That is the hot path: typed
decoding validates the shape while it parses, so a record is parsed once and its timestamps
are converted once, not once per rule.  The published JSON Schema
(``rulecore/schemas/record.schema.json``) is the contract; ``tests/test_records.py`` holds
this decoder to it on valid and invalid records, and the schema words the error when a record
is rejected.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

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


class _RecordInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A record as the input format has it: ``reordered`` is rulecore's note, not input."""

    id: _Id
    attributes: dict[str, Scalar] = msgspec.field(default_factory=dict)
    events: tuple[Event, ...] = ()


_record_decoder = msgspec.json.Decoder(_RecordInput)


def _as_record(given: _RecordInput) -> Record:
    return in_time_order(Record(given.id, given.attributes, given.events))


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
