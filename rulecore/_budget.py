"""A time budget for each check on each record (``rulecore audit --rule-timeout``).

A check that runs longer than the budget on one record is stopped and becomes an ``error``
outcome for that rule and record; the audit goes on.  The budget costs the hot path nothing
measurable: no timer is armed per rule or per record.  Instead, for the span of an audit, a
periodic ``SIGALRM`` (``setitimer(ITIMER_REAL)``) ticks ten times a budget.  At each tick the
handler, running in the main thread between two bytecodes of whatever is running there, looks
up the engine's frame and reads which rule it is checking on which record (a local variable,
``checking``, that the engine sets around the call).  When the same check on the same record
has been seen running for a whole budget, the handler raises :class:`RuleOverran` inside it,
which unwinds the check (its ``finally`` blocks run) back to the engine.

A budget is time the check had: wall time less the time the process waited for a processor
that other processes held (Linux's ``schedstat``), so a busy machine does not stop a check
that would finish in time on a quiet one, while a check that sleeps or waits on anything else
is still stopped.  Where ``schedstat`` cannot be read, it is wall time.

What it stops: pure-Python loops, ``time.sleep`` and other waits that Python retries after a
signal.  What it cannot stop: C code that holds the GIL and does not return (a catastrophic
regular expression, say), since Python runs signal handlers only between bytecodes, and a
check that catches ``BaseException`` and carries on.  It works where signals do: on POSIX,
in the main thread of a process (the ``rulecore`` command, and each ``--jobs`` worker);
elsewhere (Windows, an embedding host's worker thread) the audit runs without a budget, as it
does when the host has an interval timer of its own running.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from types import CodeType, FrameType, TracebackType
from typing import Any

from ._i18n import _

__all__ = ["DEFAULT_RULE_TIMEOUT", "RuleBudget", "RuleOverran", "parse_rule_timeout"]

#: Seconds a check may run on one record before it is stopped (``--rule-timeout``).
DEFAULT_RULE_TIMEOUT = 5.0
#: Ticks per budget: a check is stopped between one budget and 1.1 budgets after it started.
TICKS_PER_BUDGET = 10


class RuleOverran(BaseException):
    """Raised inside a check that ran past its budget.

    A ``BaseException``, so that a check's own ``except Exception`` does not swallow it.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def parse_rule_timeout(value: str | float | None) -> float | None:
    """``--rule-timeout`` as seconds; ``None`` when the budget is off (``0`` or ``none``).

    Raises ``ValueError`` for anything but a finite number of seconds, zero or more.
    """
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("none", "off"):
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(
            _(
                "{value!r} is not a number of seconds; give one such as 5 or 0.5, or 0 for none"
            ).format(value=value)
        )
    return seconds or None


#: The engine's frames that run a check, and the local holding each one's record.
_WATCHED: dict[CodeType, str] = {}


def watch(code: CodeType, record_local: str) -> None:
    """Say that frames running ``code`` hold the rule being checked in the local ``checking``
    (``None`` between checks) and the record in ``record_local``."""
    _WATCHED[code] = record_local


class RuleBudget:
    """For the span of a ``with`` block: stop any watched check that runs longer than
    ``seconds`` on one record.  ``None`` (or a block outside the main thread) does nothing."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.armed = False
        self._seen: tuple[Any, Any, float] | None = None
        self._previous: Any = None

    def __enter__(self) -> RuleBudget:
        if self.seconds is None or not _can_arm():
            return self
        self._previous = signal.signal(signal.SIGALRM, self._tick)
        signal.siginterrupt(signal.SIGALRM, False)  # other system calls just carry on
        tick = self.seconds / TICKS_PER_BUDGET
        signal.setitimer(signal.ITIMER_REAL, tick, tick)
        self.armed = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if not self.armed:
            return
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._previous)
        self.armed = False
        self._seen = None

    def _tick(self, signum: int, frame: FrameType | None) -> None:
        while frame is not None and frame.f_code not in _WATCHED:
            frame = frame.f_back
        if frame is None:
            self._seen = None
            return
        names = frame.f_locals
        checking = names.get("checking")
        if checking is None:
            self._seen = None
            return
        record = names.get(_WATCHED[frame.f_code])
        now = _time_had()
        seen = self._seen
        if seen is None or seen[0] is not record or seen[1] is not checking:
            # Held, not only compared by id: a record freed and another made at its address
            # must not look like the same check still running.
            self._seen = (record, checking, now)
            return
        if now - seen[2] >= self.seconds:  # type: ignore[operator]
            raise RuleOverran(self.seconds)  # type: ignore[arg-type]


_SCHEDSTAT = "/proc/thread-self/schedstat"


def _time_had() -> float:
    """Seconds on a monotonic clock that stands still while this thread waits for a processor
    (runnable, but others hold every core); wall time where Linux does not say."""
    now = time.monotonic()
    try:
        with open(_SCHEDSTAT, "rb") as stat:
            waited = int(stat.read().split()[1])
    except (OSError, ValueError, IndexError):
        return now
    return now - waited / 1e9


def _can_arm() -> bool:
    """Whether this thread may take SIGALRM, and no one else's interval timer is running."""
    if not hasattr(signal, "setitimer"):
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    return signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
