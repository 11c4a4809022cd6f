"""Evidence the timeliness checks share, beside the case clock's own.

The clock itself (statuses, pauses, reopens, open periods, measuring and its segments) is the
core's :mod:`rulecore.caseclock`, shared with every dimension; what stays here is how the
timeliness checks point at the events a measurement rests on.
"""

from __future__ import annotations

from collections.abc import Callable

from rulecore import CaseView, Event, Evidence

#: A compiled event selector.
EventPredicate = Callable[[Event], bool]


def event_evidence(view: CaseView, label: str, index: int, words: str) -> Evidence:
    """An event the measurement rests on, such as the ``from`` and ``to`` of a span."""
    return Evidence("event", label, view.events[index].at, event_index=index, detail=words)
