"""Anticipation (预见性): are needs met before the customer has to ask, or chase?

The questions an auditor asks, and the check that answers each:

- Did the agent update the customer before the customer had to chase?  ``follow_up``.
- Are promises of follow-up kept?  ``promises_kept``.
- Do customers have to come back about the same problem?  ``repeat_contact`` (across
  records) and ``first_contact_resolution`` (within one case).
"""

from __future__ import annotations

from collections.abc import Callable

from rulecore import AnyCheck, hookimpl

from ._first_contact import FIRST_CONTACT_RESOLUTION
from ._follow_up import FOLLOW_UP
from ._promises import PROMISES_KEPT
from ._repeat_contact import REPEAT_CONTACT

CHECKS: tuple[AnyCheck, ...] = (
    FOLLOW_UP,
    PROMISES_KEPT,
    REPEAT_CONTACT,
    FIRST_CONTACT_RESOLUTION,
)


@hookimpl
def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
    for check in CHECKS:
        register(check)
