"""The service's state: the compiled standards it serves, and how they are replaced."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from rulecore._engine import Engine
from rulecore._plugins import Registry
from rulecore._standards import load_standards

from ._config import ServiceConfig

T = TypeVar("T")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Service:
    """The standards being served, and the worker threads that do the CPU work.

    ``engine`` is replaced whole by :meth:`reload`; a request reads it once, at its start, and
    keeps that engine to its end.
    """

    def __init__(self, config: ServiceConfig, registry: Registry, engine: Engine) -> None:
        self.config = config
        self.registry = registry
        self.engine = engine
        self.generation = 1
        self.loaded_at = _now()
        # Made when the event loop runs (anyio's primitives belong to one loop).
        self._limiter: anyio.CapacityLimiter | None = None
        self._reloading: anyio.Lock | None = None

    def start(self) -> None:
        """Called once the event loop runs, before the first request."""
        self._limiter = anyio.CapacityLimiter(self.config.threads)
        self._reloading = anyio.Lock()

    async def in_thread(
        self, work: Callable[..., T], *args: Any, abandon_on_cancel: bool = True
    ) -> T:
        """Run CPU-bound ``work`` in a worker thread, so the event loop stays free.

        ``abandon_on_cancel``: when the request's time is up, answer now and let the thread
        finish on its own (work that checks the deadline itself passes ``False``).
        """
        return await anyio.to_thread.run_sync(
            work, *args, abandon_on_cancel=abandon_on_cancel, limiter=self._limiter
        )

    def compile(self) -> Engine:
        """The standards compiled from their files as they are now (raises StandardsInvalid)."""
        return Engine(load_standards(self.config.standards, self.registry), self.registry)

    async def reload(self) -> Engine:
        """Compile the standards again and swap them in; raise StandardsInvalid and keep the
        old ones when the new ones are not valid.  One reload at a time."""
        assert self._reloading is not None, "start() runs before any request"
        async with self._reloading:
            engine = await self.in_thread(self.compile)
            # Only here, after the compile returned in this task, is anything swapped: a
            # reload cut by the time limit changes nothing.
            self.engine = engine
            self.generation += 1
            self.loaded_at = _now()
            return engine

    def describe(self) -> dict[str, Any]:
        """What ``/v1/reload`` and ``/readyz`` say about the standards being served."""
        engine = self.engine
        return {
            "generation": self.generation,
            "loaded_at": self.loaded_at,
            "standards": len(engine.standards),
            "rules": sum(len(standard.rules) for standard in engine.standards),
        }
