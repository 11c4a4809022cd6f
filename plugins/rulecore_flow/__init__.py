"""Flow (流程): how the parts of the delivery system hand work to each other.

Martin's questions for flow, and the check that answers each:

* Are the steps of the service done, and in order?  ``required_steps``.
* Does anything happen out of turn (work on a closed case, resolved with no assignment)?
  ``forbidden_transitions``.
* Does escalation climb one level at a time?  ``escalation_levels``.
* How often does the case change hands, and bounce back?  ``handoffs`` and ``ping_pong``.
* How are blockages and stalls prevented?  ``stalls``, the longest idle gap.
* Does a resolution hold?  ``reopens``.
* How many times did a kind of event happen (transfers, escalations, chasers)?
  ``event_count``.

Each check compiles its selectors once per rule; per record it walks the timeline once or
twice and never raises on an odd record: events it needs that are missing make the finding
not_applicable, with a note that says which.
"""

from __future__ import annotations

from collections.abc import Callable

from rulecore import AnyCheck, hookimpl

from ._counts import EVENT_COUNT
from ._escalation import ESCALATION_LEVELS
from ._handoffs import HANDOFFS, PING_PONG
from ._reopens import REOPENS
from ._stalls import STALLS
from ._steps import REQUIRED_STEPS
from ._transitions import FORBIDDEN_TRANSITIONS

#: Every check this plugin provides, in the order ``rulecore plugins`` lists them.
CHECKS: tuple[AnyCheck, ...] = (
    ESCALATION_LEVELS,
    EVENT_COUNT,
    FORBIDDEN_TRANSITIONS,
    HANDOFFS,
    PING_PONG,
    REOPENS,
    REQUIRED_STEPS,
    STALLS,
)

__all__ = [
    "CHECKS",
    "ESCALATION_LEVELS",
    "EVENT_COUNT",
    "FORBIDDEN_TRANSITIONS",
    "HANDOFFS",
    "PING_PONG",
    "REOPENS",
    "REQUIRED_STEPS",
    "STALLS",
    "rulecore_register_checks",
]


@hookimpl
def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
    for check in CHECKS:
        register(check)
