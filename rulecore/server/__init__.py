"""rulecore over HTTP: ``rulecore serve``, for systems that are not written in Python.

Install it with the ``server`` extra (``pip install 'rulecore[server]'``): Starlette for the
application, uvicorn for the server.  Nothing in the core imports this package, so the core
install does not need either.

The service compiles its standards once, at start, and then answers:

- ``POST /v1/evaluate``: one record, its outcomes with evidence;
- ``POST /v1/audit``: JSON lines (plain or gzip), the JSON report byte for byte as
  ``rulecore audit --format json`` writes it, or the JSON lines report as a stream;
- ``POST /v1/validate``: a standard's YAML, its located errors;
- ``GET /v1/standards``, ``GET /v1/checks``, ``GET /v1/checks/{name}``;
- ``POST /v1/reload`` (and SIGHUP): the standards compiled again, swapped in only when valid;
- ``GET /healthz``, ``GET /readyz`` and ``GET /openapi.json``.

Concurrency: one process, one event loop.  The loop only moves bytes (reading bodies, writing
answers, logging); everything that costs CPU (decoding and evaluating records, writing
reports, compiling standards) runs in worker threads (``anyio.to_thread``), at most
:attr:`ServiceConfig.threads` at once, so a long audit never stops ``/healthz`` or another
client's request from being read.  The compiled :class:`rulecore.Engine` is immutable and
shared by every thread; a reload builds a new one beside it and swaps the reference, so a
request runs from start to end on the standards it started with.  Python's GIL lets one thread
evaluate at a time: for more cores, run one service per core behind a reverse proxy
(docs/service.md).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._config import (
    DEFAULT_MAX_BODY,
    DEFAULT_TIMEOUT,
    TOKEN_ENV,
    CannotListen,
    ServiceConfig,
    parse_size,
)

if TYPE_CHECKING:
    from ._app import create_app
    from ._openapi import openapi_document
    from ._run import run_service

__all__ = [
    "DEFAULT_MAX_BODY",
    "DEFAULT_TIMEOUT",
    "TOKEN_ENV",
    "CannotListen",
    "ServiceConfig",
    "create_app",
    "openapi_document",
    "parse_size",
    "run_service",
]

#: What needs Starlette or uvicorn is imported when first used, so that the options of
#: ``rulecore serve`` can be read (and a missing extra reported) without them.
_LAZY = {"create_app": "._app", "openapi_document": "._openapi", "run_service": "._run"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
