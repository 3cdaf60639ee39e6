"""Supervised background tasks: restarted after any error or unexpected end, visible in health and metrics.

sup = Supervisor()
sup.start("outbox-relay", relay.run)
...
sup.state()   # {"outbox-relay": {"running": True, "restarts": 0, "last_error": None}}
await sup.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from . import metrics
from .failures import describe
from .logging import get_logger

log = get_logger("omni.supervise")


@dataclass
class Supervised:
    name: str
    factory: Callable[[], Awaitable[Any]]
    backoff_first_s: float = 0.5
    backoff_max_s: float = 30.0
    running: bool = False
    restarts: int = 0
    last_error: str | None = None
    last_end: float | None = None
    task: asyncio.Task[Any] | None = field(default=None, repr=False)
    stopping: bool = False

    async def loop(self) -> None:
        failures = 0
        while not self.stopping:
            started = time.monotonic()
            self.running = True
            metrics.TASK_UP.labels(self.name).set(1)
            try:
                await self.factory()
                self.last_error = "ended by itself"
                log.error("supervised task ended; restarting it", task=self.name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_error = describe(exc, 500)
                log.error(
                    "supervised task failed; restarting it",
                    task=self.name,
                    error_class=type(exc).__name__,
                    error=self.last_error,
                )
            finally:
                self.running = False
                self.last_end = time.monotonic()
                metrics.TASK_UP.labels(self.name).set(0)
            if self.stopping:  # a cancellation can be lost in a wait_for race: stopping ends the loop anyway
                return
            failures = 1 if time.monotonic() - started > 60 else failures + 1
            self.restarts += 1
            metrics.TASK_RESTARTS.labels(self.name).inc()
            await asyncio.sleep(min(self.backoff_first_s * 2 ** (failures - 1), self.backoff_max_s))


class Supervisor:
    def __init__(self) -> None:
        self.tasks: dict[str, Supervised] = {}

    def start(self, name: str, factory: Callable[[], Awaitable[Any]], **kw: Any) -> Supervised:
        s = Supervised(name, factory, **kw)
        s.task = asyncio.create_task(s.loop(), name=name)
        self.tasks[name] = s
        return s

    def state(self) -> dict[str, dict[str, Any]]:
        return {
            n: {"running": s.running, "restarts": s.restarts, "last_error": s.last_error}
            for n, s in self.tasks.items()
        }

    def down(self) -> list[str]:
        return [n for n, s in self.tasks.items() if not s.running]

    async def stop(self, timeout_s: float = 10.0) -> None:
        for s in self.tasks.values():
            s.stopping = True
            if s.task is not None:
                s.task.cancel()
        for s in self.tasks.values():
            if s.task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(asyncio.shield(s.task), timeout_s)
                if not s.task.done():
                    log.error("supervised task did not stop in time", task=s.name)
