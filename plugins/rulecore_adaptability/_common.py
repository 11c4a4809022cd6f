"""Small helpers the adaptability checks share: reading names, flags and owner changes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from rulecore import Event, Record

EventPredicate = Callable[[Event], bool]

#: Text that means "no" when a flag field arrives as a string from a CSV or form export.
_FALSE_WORDS = frozenset({"", "0", "false", "no", "n", "off", "none", "null"})


def normalised_name(value: Any) -> str | None:
    """A channel, key or reason as a comparable name: trimmed and case-folded; None if blank."""
    if value is None:
        return None
    text = str(value).strip().casefold()
    return text or None


def flag_set(value: Any) -> bool:
    """Whether a field value says "yes": true, a non-zero number or a non-negative word.

    Exports carry flags as booleans, numbers or words (``"true"``, ``"supervisor"``); a value
    such as ``"no"`` or ``0`` must not count as an offer made.
    """
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, (int, float)):
        return value != 0
    return str(value).strip().casefold() not in _FALSE_WORDS


class OwnerChange(NamedTuple):
    """One handoff: the event at ``event_index`` moved the case from ``before`` to ``after``."""

    event_index: int
    before: str
    after: str


def owner_changes(record: Record, field: str, carries: EventPredicate) -> Iterator[OwnerChange]:
    """Yield each change of the owner named by ``field`` along the timeline.

    The first event that names an owner is an assignment, not a handoff; each later event
    (among those ``carries`` accepts) that names a different owner is one.  This is the same
    reading of a handoff as the flow dimension's ``handoffs`` check.
    """
    owner: str | None = None
    for index, event in enumerate(record.events):
        value = event.fields.get(field)
        if value is None or not carries(event):
            continue
        named = str(value)
        if owner is not None and named != owner:
            yield OwnerChange(index, owner, named)
        owner = named
