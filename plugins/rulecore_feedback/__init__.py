"""Customer feedback (顾客反馈): does the service ask, listen and act on what it hears?

The questions an auditor asks, and the check that answers each:

- Is the customer asked how it went once the case is resolved?  ``survey_follows``.
- How satisfied were they, against the zone of tolerance: desired service, adequate service,
  and the zone between?  ``satisfaction_score`` (CSAT or NPS).
- Is a complaint acknowledged and carried through its handling steps?  ``complaint_flow``.
"""

from __future__ import annotations

from collections.abc import Callable

from rulecore import AnyCheck, hookimpl

from ._complaints import COMPLAINT_HANDLING
from ._scores import SATISFACTION_SCORE
from ._surveys import SURVEY_FOLLOWS

CHECKS: tuple[AnyCheck, ...] = (SURVEY_FOLLOWS, SATISFACTION_SCORE, COMPLAINT_HANDLING)


@hookimpl
def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
    for check in CHECKS:
        register(check)
