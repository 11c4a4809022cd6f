"""Adaptability (适应性): how flexibly the service meets what this customer needs.

The questions an auditor asks, and the check that answers each:

- When the answer must be "no", is it said well, with a reason and an alternative?
  ``request_handling``.
- Is the system convenient for the customer: does it answer on the channel they prefer?
  ``channel_preference``.
- When policy refuses a request, is the customer offered a way to take it further?
  ``escalation_offered``.
- Is the system designed around the customer: after a handoff, do they have to give the same
  information again?  ``repeated_information``.
"""

from __future__ import annotations

from collections.abc import Callable

from rulecore import AnyCheck, hookimpl

from ._channels import CHANNEL_PREFERENCE
from ._escalation import ESCALATION_OFFERED
from ._repeated_info import REPEATED_INFORMATION
from ._requests import REQUEST_HANDLING

CHECKS: tuple[AnyCheck, ...] = (
    REQUEST_HANDLING,
    CHANNEL_PREFERENCE,
    ESCALATION_OFFERED,
    REPEATED_INFORMATION,
)


@hookimpl
def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
    for check in CHECKS:
        register(check)
