"""Applying replayed events as the live consumer would (used by `omni_chassis.replay`).

- The projection's `apply(uow, envs)` is the live handler's shape. It runs in a `ReplayUnitOfWork` bound to
  the replay's transaction (whose search path is the shadow schema): its inbox claim admits everything (the
  replay dedupes by event id itself, as the inbox does), events it emits are counted and discarded (a
  replay never publishes), and what it parks is kept in memory.
- A batch that fails is applied event by event, each in a savepoint: an event that fails permanently is
  skipped and reported (the live consumer dead-lettered it); a transient failure aborts the replay; an event
  that waits for a fact (`WaitingFor`, `uow.park`) is held until a later event's use case releases that fact,
  and tried once more at the end of each phase (`settle`), as the live parking loop's recheck would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from omni_contracts import Envelope

from .failures import FailureClass, WaitingFor, classify, describe
from .logging import get_logger
from .replay_reader import Record, ReplayReport, Skipped
from .uow import UnitOfWork

log = get_logger("omni.replay")

Apply = Callable[[UnitOfWork[Any], list[Envelope[Any]]], Awaitable[object]]


class ReplayUnitOfWork(UnitOfWork[Any]):
    """A unit of work on a transaction the replay owns: commits nothing, publishes nothing."""

    def __init__(
        self, session: AsyncSession, repository: Callable[[AsyncSession], Any] | None = None
    ) -> None:
        super().__init__()
        self.session = session
        self.repo = repository(session) if repository else session
        self.discarded = 0
        self.parked_out: list[tuple[Envelope[Any], str]] = []
        self.released_out: set[str] = set()

    async def claim(self, consumer: str, events: Any) -> set[UUID]:
        return {eid for eid, _ in events}

    async def _begin(self) -> None:
        pass

    async def _write(self) -> None:
        self.discarded += len(self.events)
        self.parked_out += [(p.env, p.waits_for) for p in self.parks]
        self.released_out |= set(self.releases)

    async def _commit(self) -> None:
        pass

    async def _rollback(self) -> None:
        pass


def _waiting_key(exc: BaseException) -> str:
    e: BaseException | None = exc
    while e is not None and not isinstance(e, WaitingFor):
        e = e.__cause__ or e.__context__
    return e.key if isinstance(e, WaitingFor) else "?"


class Applier:
    def __init__(
        self,
        name: str,
        handler_for: Callable[[str], Apply],
        report: ReplayReport,
        repository: Callable[[AsyncSession], Any] | None = None,
        consumer: str | None = None,
    ) -> None:
        self.name, self.handler_for, self.report, self.repository = name, handler_for, report, repository
        self.consumer = consumer or f"replay-{name}"
        self.seen: set[UUID] = set()
        self.parked: dict[str, list[Record]] = {}
        self.released: set[str] = set()

    async def __call__(self, session: AsyncSession, records: list[Record]) -> None:
        fresh: list[Record] = []
        ids: set[UUID] = set()
        for r in records:
            if r.env.event_id in self.seen or r.env.event_id in ids:
                self.report.duplicates += 1
            else:
                ids.add(r.env.event_id)
                fresh.append(r)
        run: list[Record] = []
        for r in [*fresh, None]:  # consecutive events of one handler, applied together
            if run and (r is None or self._handler(r) is not self._handler(run[0])):
                await self._batch(session, run)
                await self._release(session)  # what the run released follows at once
                run = []
            if r is not None:
                run.append(r)

    def _handler(self, r: Record) -> Apply:
        return self.handler_for(r.env.event_type)

    async def _batch(self, session: AsyncSession, records: list[Record]) -> None:
        try:
            self._done(records, await self._run(session, records))
        except Exception as exc:
            if classify(exc) is FailureClass.TRANSIENT:
                raise
            for r in records:
                await self._one(session, r)

    async def settle(self, session: AsyncSession) -> None:
        """End of a phase: every held event once more; what still waits is reported (live, it is parked)."""
        held, self.parked = self.parked, {}
        for records in held.values():
            for r in records:
                await self._one(session, r)
        await self._release(session)
        for key, records in self.parked.items():
            for r in records:
                self._skip(r, f"still waiting for {key} (the live consumer keeps it parked)")
        self.parked = {}

    async def _run(self, session: AsyncSession, records: list[Record]) -> ReplayUnitOfWork:
        uow = ReplayUnitOfWork(session, self.repository)
        uow.consumer = self.consumer
        async with session.begin_nested():
            async with uow:
                await self._handler(records[0])(uow, [r.env for r in records])
        return uow

    async def _one(self, session: AsyncSession, r: Record) -> None:
        try:
            self._done([r], await self._run(session, [r]))
        except Exception as exc:
            kind = classify(exc)
            if kind is FailureClass.TRANSIENT:
                raise
            if kind is FailureClass.WAITING:
                self._hold(r, _waiting_key(exc))
            else:
                self._skip(r, describe(exc, 300))

    def _done(self, records: list[Record], uow: ReplayUnitOfWork) -> None:
        parked = {env.event_id: key for env, key in uow.parked_out}
        for r in records:
            if r.env.event_id in parked:
                self._hold(r, parked[r.env.event_id])
            else:
                self.seen.add(r.env.event_id)
                self.report.events += 1
        self.report.discarded_events += uow.discarded
        self.released |= uow.released_out

    def _hold(self, r: Record, key: str) -> None:
        self.parked.setdefault(key, []).append(r)
        self.seen.add(r.env.event_id)  # as the inbox claim of a parked event: a redelivery is a duplicate

    async def _release(self, session: AsyncSession) -> None:
        while self.released:
            key = self.released.pop()
            for r in self.parked.pop(key, []):
                self.seen.discard(r.env.event_id)
                await self._one(session, r)

    def _skip(self, r: Record, error: str) -> None:
        self.report.skipped_count += 1
        if len(self.report.skipped) < 100:
            self.report.skipped.append(Skipped(r.tp.topic, r.tp.partition, r.offset, r.env.event_type, error))
        log.warning(
            "replay skipped an event", projection=self.name, event_type=r.env.event_type,
            partition=r.tp.partition, offset=r.offset, error=error,
        )  # fmt: skip
