"""What a running service is told at start: its standards, how it reads, and its limits."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rulecore._i18n import _

#: The bearer token every request must carry when this variable is set (``/healthz`` and
#: ``/readyz`` excepted).
TOKEN_ENV = "RULECORE_TOKEN"  # noqa: S105 - the variable's name, not a secret
#: The largest request body accepted, in bytes, unless ``--max-body`` says otherwise.
DEFAULT_MAX_BODY = 10 * 1024 * 1024
#: Seconds a request may take, unless ``--request-timeout`` says otherwise.
DEFAULT_TIMEOUT = 30.0

_UNITS = {"": 1, "b": 1, "kb": 1024, "k": 1024, "mb": 1024**2, "m": 1024**2, "gb": 1024**3}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """``10MB``, ``512KB``, ``1.5mb`` or a number of bytes, as bytes (KB and MB are 1024-based).

    Raises :class:`ValueError` in words for anything else, or for zero.
    """
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(
            _("{text!r} is not a size; write it like 10MB, 512KB or 65536 (bytes)").format(
                text=text
            )
        )
    size = int(float(match.group(1)) * _UNITS[unit])
    if size < 1:
        raise ValueError(_("{text!r}: the size must be at least one byte").format(text=text))
    return size


class CannotListen(Exception):
    """The service cannot listen where it was asked to (a port in use, an unknown host)."""


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ServiceConfig:
    """How one service runs.

    :param standards: the standard files or folders, compiled at start and on each reload.
    :param reader: the reader for ``/v1/audit`` bodies (``jsonl`` unless a mapping is named).
    :param reader_options: what that reader is given (``{"mapping": path}`` for a mapping).
    :param token: when set, every request but ``/healthz`` and ``/readyz`` must carry
        ``Authorization: Bearer <token>``.
    :param max_body: the largest request body, in bytes (as received: compressed if gzip).
    :param request_timeout: seconds a request may take, reading its body included.
    :param threads: worker threads that evaluate, write reports and compile, at most at once.
    """

    standards: tuple[Path, ...]
    reader: str = "jsonl"
    reader_options: dict[str, Any] = field(default_factory=dict)
    token: str | None = None
    max_body: int = DEFAULT_MAX_BODY
    request_timeout: float = DEFAULT_TIMEOUT
    threads: int = field(default_factory=lambda: max(4, _cores()))
