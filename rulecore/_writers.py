"""Report writers: how an audit's findings, rejections and summary are written out.

A writer opens a :class:`~rulecore.ReportSink` on an output stream.  The engine streams
findings and rejections to the sink as it produces them and closes it with the summary, so a
writer never needs the whole audit in memory (the JSON writer spools to a temporary file).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Protocol

from ._findings import Finding
from ._readers import Rejection

if TYPE_CHECKING:
    from ._summary import Summary


class ReportSink(Protocol):
    """Where an audit's results go as they are produced (a writer, a collector, a tee).

    A sink that never shows findings' evidence may set ``needs_evidence = False``: findings
    then arrive with empty evidence, and checks' deferred evidence is never built.
    """

    def finding(self, finding: Finding) -> None: ...

    def rejection(self, rejection: Rejection) -> None: ...

    def close(self, summary: Summary) -> None: ...


OpenSink = Callable[[IO[Any], Mapping[str, Any]], ReportSink]


@dataclass(frozen=True)
class Writer:
    """An output format, as a plugin registers it.

    :param name: how ``--format`` names it (``json``, ``csv``).
    :param description: one line for ``rulecore plugins``.
    :param open: ``open(stream, options)`` returns the sink that writes the report to
        ``stream``.  ``options`` carries ``all_outcomes`` and, for terminals, ``color``.
    :param binary: ``True`` for a format that is bytes, not text (a workbook, an archive):
        ``stream`` is then a binary stream (``IO[bytes]``), and rulecore refuses to write it
        to a terminal.  Text writers, the default, receive an ``IO[str]``.
    """

    name: str
    description: str
    open: OpenSink
    binary: bool = False


def rejection_to_dict(rejection: Rejection, whole: bool = False) -> dict[str, Any]:
    """A rejection as JSON-ready builtins; ``whole`` keeps the raw input whole (rejects file)."""
    return {
        "source": rejection.source,
        "line": rejection.line,
        "reason": rejection.reason,
        "raw": rejection.raw if whole else rejection.excerpt(),
    }
