"""Group commit: many concurrent requests share one transaction; each is answered after that commit.

    group = GroupCommit(new_uow, clean=(Unauthorized, InvalidTrade))
    receipt = await group.submit(lambda uow: service.receive(uow, ...))   # in a route

A request's work is a use case that takes a unit of work (and opens it, `async with uow:`, as every use case
does; the group's unit of work is already open, so it joins it). The group's flusher runs the works queued
so far one after another in ONE unit of work, each in the context (correlation id, trace, log bindings) of
the request that submitted it, then commits once. Batches form by themselves: while one group commits,
the next requests queue, so a quiet service commits each request at once and a busy one commits hundreds
per transaction (at most `max_items`); no timer delays a request.

Failure rules (nothing is half-applied, nothing is lost):
- a work that raises one of the `clean` exception types must do so BEFORE it writes SQL (checks first, then
  writes): only that request gets the error, and what it staged in the unit of work (events, deferred writes,
  parks) is dropped; the others go on;
- any other exception, or a failing commit, rolls the whole group back, and every work of that group is then
  run again ALONE in a unit of work of its own, so each request gets its own outcome (the poison one its own
  error, the others their result).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from prometheus_client import Counter, Histogram

from .logging import get_logger
from .uow import UnitOfWork

T = TypeVar("T")
Work = Callable[[UnitOfWork[Any]], Awaitable[T]]
log = get_logger("omni.groupcommit")

GROUP_SIZE = Histogram(
    "omni_group_commit_size",
    "Requests committed per group transaction",
    ["group"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
GROUP_FALLBACKS = Counter(
    "omni_group_commit_fallbacks_total", "Groups rolled back and run again one request at a time", ["group"]
)


@dataclass
class _Item(Generic[T]):
    work: Work[T]
    ctx: contextvars.Context
    future: asyncio.Future[T] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCommit:
    def __init__(
        self,
        new_uow: Callable[[], UnitOfWork[Any]],
        *,
        name: str = "default",
        clean: tuple[type[BaseException], ...] = (),
        max_items: int = 256,
        flushers: int = 2,
    ) -> None:
        if max_items < 1 or flushers < 1:
            raise ValueError("max_items and flushers must be at least 1")
        self.new_uow = new_uow
        self.name = name
        self.clean = clean
        self.max_items = max_items
        self.flushers = flushers
        self._queue: list[_Item[Any]] = []
        self._ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    async def submit(self, work: Work[T]) -> T:
        """Run `work` in the next group's unit of work; returns its result once that group has committed."""
        if self._closed:
            raise RuntimeError(f"group commit {self.name} is closed")
        self._start()
        item: _Item[T] = _Item(work, contextvars.copy_context())
        self._queue.append(item)
        self._ready.set()
        return await item.future

    def _start(self) -> None:
        self._tasks = [t for t in self._tasks if not t.done()]
        while len(self._tasks) < self.flushers:
            self._tasks.append(asyncio.create_task(self._flusher(), name=f"group-commit-{self.name}"))

    async def close(self) -> None:
        """Stop the flushers after the queued requests have been committed."""
        self._closed = True
        self._ready.set()
        tasks, self._tasks = self._tasks, []
        for t in tasks:  # each ends once the queue is empty and its group has committed
            with contextlib.suppress(asyncio.CancelledError):
                await t

    async def _flusher(self) -> None:
        while True:
            if not self._queue:
                if self._closed:
                    return
                self._ready.clear()
                await self._ready.wait()
                continue
            batch, self._queue = self._queue[: self.max_items], self._queue[self.max_items :]
            try:
                await self._flush(batch)
            except asyncio.CancelledError:
                for item in batch:
                    item.future.cancel()
                raise
            except BaseException as exc:  # never leave a request waiting
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(exc)

    async def _flush(self, batch: list[_Item[Any]]) -> None:
        results: dict[int, tuple[bool, Any]] = {}
        uow = self.new_uow()
        try:
            async with uow:
                for i, item in enumerate(batch):
                    mark = (len(uow.events), len(uow.deferred), len(uow.parks), len(uow.releases))
                    try:
                        results[i] = (True, await _in_context(item, uow))
                    except self.clean as exc:
                        _truncate(uow, mark)
                        results[i] = (False, exc)
        except Exception as exc:
            GROUP_FALLBACKS.labels(self.name).inc()
            log.warning(
                "group commit failed; running its requests one by one",
                group=self.name,
                size=len(batch),
                error_class=type(exc).__name__,
            )
            await self._one_by_one(batch)
            return
        GROUP_SIZE.labels(self.name).observe(len(batch))
        for i, item in enumerate(batch):
            ok, value = results[i]
            _settle(item, ok, value)

    async def _one_by_one(self, batch: list[_Item[Any]]) -> None:
        for item in batch:
            uow = self.new_uow()
            try:
                async with uow:
                    value = await _in_context(item, uow)
            except Exception as exc:
                _settle(item, False, exc)
            else:
                _settle(item, True, value)


async def _in_context(item: _Item[Any], uow: UnitOfWork[Any]) -> Any:
    """The work, run in the submitting request's context (its correlation id, trace and log bindings)."""
    return await asyncio.create_task(item.work(uow), context=item.ctx)  # type: ignore[call-arg]


def _truncate(uow: UnitOfWork[Any], mark: tuple[int, int, int, int]) -> None:
    events, deferred, parks, releases = mark
    del uow.events[events:], uow.deferred[deferred:], uow.parks[parks:], uow.releases[releases:]


def _settle(item: _Item[Any], ok: bool, value: Any) -> None:
    if item.future.done():  # the request went away (client disconnected): nothing to answer
        return
    if ok:
        item.future.set_result(value)
    else:
        item.future.set_exception(value)
