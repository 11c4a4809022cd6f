"""Steps in order: the most steps of a script that were said in the order the script gives.

Each step may have been said several times; its occurrences are places in the transcript,
``(event index, offset)``, so two steps said in one message are ordered by where in it they
come.  The steps kept are a longest chain with strictly increasing places, found as the
longest increasing subsequence is: for each chain length, the earliest place a chain of that
length can end, step by step.  Steps not kept were either never said (missing) or said only
where they cannot fit (out of order), so one step said too early costs one, not every step
after it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import TypeVar

from rulecore import Evidence, Measurement
from rulecore._i18n import _

#: Where a step was said: ``(event index, offset in the message)``.
Place = tuple[int, int]
T = TypeVar("T")


def steps_in_order(occurrences: Sequence[Sequence[tuple[Place, T]]]) -> dict[int, tuple[Place, T]]:
    """Step number → the ``(place, found)`` kept for it, for the most steps said in order.

    ``occurrences[s]`` lists step ``s``'s occurrences, ``(place, what the check keeps for
    evidence)``, sorted by place.  Of the chains of the greatest length, the one that ends
    earliest is kept, each step at its earliest fitting place.
    """
    # ends[length] = (place where the earliest chain of that length ends, the chain)
    ends: list[tuple[Place, tuple[tuple[int, tuple[Place, T]], ...]]] = [((-1, -1), ())]
    for step, found in enumerate(occurrences):
        if not found:
            continue
        places = [place for place, _ in found]
        longer = list(ends)
        for length, (end, chain) in enumerate(ends):
            at = bisect_right(places, end)
            if at == len(places):
                continue
            occurrence = found[at]
            candidate = (occurrence[0], (*chain, (step, occurrence)))
            if length + 1 == len(longer):
                longer.append(candidate)
            elif occurrence[0] < longer[length + 1][0]:
                longer[length + 1] = candidate
        ends = longer
    return dict(ends[-1][1])


def order_measurement(
    missing: Sequence[str],
    out_of_order: Sequence[str],
    evidence: Callable[[], tuple[Evidence, ...]],
) -> Measurement:
    """The count of steps missing or out of order, with a note naming them."""
    note = "; ".join(
        label.format(steps=", ".join(names))
        for label, names in (
            (_("missing: {steps}"), missing),
            (_("out of order: {steps}"), out_of_order),
        )
        if names
    ) or _("nothing missing or out of order")
    return Measurement(float(len(missing) + len(out_of_order)), evidence, note)
