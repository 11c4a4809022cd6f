"""Organisation and supervision (组织和监督): is the service watched over as it runs?

The questions an auditor asks, and the check that answers each:

- Does quality assurance look at every agent's work, not only some agents'?  ``qa_coverage``
  (across records: the share of each agent's cases that got a QA review).
- Are the decisions that need a supervisor (escalations, refusals) signed off by one?
  ``supervisor_signoff``.
"""

from __future__ import annotations

from collections.abc import Callable

from rulecore import AnyCheck, hookimpl

from ._coverage import QA_COVERAGE
from ._signoff import SUPERVISOR_SIGNOFF

CHECKS: tuple[AnyCheck, ...] = (QA_COVERAGE, SUPERVISOR_SIGNOFF)


@hookimpl
def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
    for check in CHECKS:
        register(check)
