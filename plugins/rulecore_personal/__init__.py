"""The personal side of service, read from what agents and customers wrote.

Martin's personal side (greeting, using the customer's name, empathy, a warm farewell) is harder
to observe than the procedural side.  Where records carry transcripts (message events with
text), these checks read it, in Chinese or English:

- Are the five steps of the service script said, in order?  ``service_script``.
- Is the customer addressed by name?  ``uses_customer_name``.
- When the customer complains, does the agent apologise or show empathy, and follow Listen,
  Share, Probe, Check, Act, Satisfy?  ``complaint_handling``.
- Are forbidden phrases never said?  ``forbidden_phrases``.

Matching is by phrase lists shipped per language (``phrases/zh.yaml``, ``phrases/en.yaml``), which
a standard extends or replaces; it is deterministic and offline.  A standard that declares
``side: personal`` places each team in Martin's four service types beside the procedural ones.
"""

from __future__ import annotations

from collections.abc import Callable

from rulecore import AnyCheck, hookimpl

from ._complaints import COMPLAINT_HANDLING
from ._forbidden import FORBIDDEN_PHRASES
from ._name import USES_CUSTOMER_NAME
from ._script import SERVICE_SCRIPT

CHECKS: tuple[AnyCheck, ...] = (
    SERVICE_SCRIPT,
    USES_CUSTOMER_NAME,
    COMPLAINT_HANDLING,
    FORBIDDEN_PHRASES,
)


@hookimpl
def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
    for check in CHECKS:
        register(check)
