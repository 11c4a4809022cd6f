"""Timeliness (时限): is the customer served within the time standard, and not too rushed?

The checks here measure on the core's case clock, :class:`rulecore.CaseClock`, built on
:mod:`rulecore.clock`: calendar or business time on a named schedule, in the schedule's zone or
the record's, stopped while the case waits in a paused status, restarted or continued on a
reopen.  Each check documents itself in ``docs/checks/<name>.md`` and ``rulecore explain``.

* ``elapsed``: the time between two events (first reply, resolution, a step's own limit),
  with a lower bound for "too rushed" and in-flight judgement of open cases.
* ``update_gap``: the longest wait for an update while the case was open.
"""

from __future__ import annotations

from collections.abc import Callable

from rulecore import AnyCheck, hookimpl

from ._elapsed import ELAPSED, compile_elapsed
from ._update_gap import UPDATE_GAP, compile_update_gap

__all__ = ["ELAPSED", "UPDATE_GAP", "compile_elapsed", "compile_update_gap"]


@hookimpl
def rulecore_register_checks(register: Callable[[AnyCheck], None]) -> None:
    """Register ``elapsed`` and ``update_gap``."""
    register(ELAPSED)
    register(UPDATE_GAP)
