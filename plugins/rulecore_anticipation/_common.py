"""Small helpers the anticipation checks share."""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime

from rulecore import Record


def known_events(record: Record, as_of: datetime | None) -> int:
    """How many of the record's events had happened by ``as_of`` (all of them when None).

    In-flight, an event stamped after the audit's moment has not happened yet as far as the
    audit is concerned, so checks look only at ``record.events[:known_events(...)]``.
    """
    if as_of is None:
        return len(record.events)
    return bisect_right(record.events, as_of, key=lambda event: event.at)
