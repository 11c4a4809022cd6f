"""Communication (沟通): is the customer kept informed, on the channel they use?

Martin's procedural list puts communication beside timeliness and flow: a service that does
the right things in the right time still fails the customer who is left to wonder.  The
questions an auditor asks, and the check that answers each:

- Is the customer told at each change of status, and before a promised time passes?
  ``keeps_informed``.
- Does the agent answer on the channel the customer used?  ``same_channel``.
"""

from __future__ import annotations

from collections.abc import Callable

from rulecore import AnyCheck, hookimpl

from ._channel import SAME_CHANNEL
from ._informed import KEEPS_INFORMED

CHECKS: tuple[AnyCheck, ...] = (KEEPS_INFORMED, SAME_CHANNEL)


@hookimpl
def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
    for check in CHECKS:
        register(check)
