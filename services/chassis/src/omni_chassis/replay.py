"""Replay and rebuild a read model (a projection) from offset 0, compare it with the live one, swap it in.

A service declares its projections in `omni_<svc>/projections.py` as `PROJECTIONS: dict[str, Projection]`:
the tables that make up the read model, the (logical) topics and event types it reads, and the live
consumers' handlers, `handler(uow, envs)` (`Projection.of_consumers` takes all of it from their
`ConsumerSpec`s, so the replay runs the code the live model was built with). `omni replay <svc>
<projection>` then:

1. **Shadow schema.** Creates the schema `replay_<projection>` holding an empty copy (`LIKE … INCLUDING ALL`)
   of *every* table of the service's `public` schema, plus the rows of the projection's `copy` tables
   (reference data it reads). `apply` runs with `SET LOCAL search_path TO replay_<projection>, public`,
   which redirects Core tables (defined without a schema) and raw `text()` SQL alike, so whatever the
   handler writes (the read model, but also outbox rows, vouchers, anything) lands in the shadow schema and
   is thrown away with it: a replay never publishes an event or touches a live table before the swap.
2. **Rebuild.** A plain aiokafka consumer without a group (no committed offsets, nobody's partitions taken)
   is assigned every partition of the topics (under the deployment's `OMNI_TOPIC_PREFIX`), seeks to the
   beginning and reads up to the end offsets taken at the start. Events are applied in a merge of all
   partitions by `occurred_at` (ties by topic, partition, offset) that keeps each partition's order, which
   is also a causal order across topics (finance's shipment after its order). Batches of `batch_size`
   events, one transaction each; consecutive events of one handler (one live consumer group) go to it
   together, in a unit of work of their own that publishes nothing (replay_apply.py). As the live
   consumer does: an event id already applied is skipped (the inbox); a batch that fails is applied event
   by event and an event that still fails permanently (the live consumer dead-lettered it) is skipped and
   reported, as is an undecodable message; an event waiting for a fact is held in memory until a later
   event releases it (it is not in the shadow `parked` table: a handler that reads `parked` itself sees
   none); a transient error (connection lost, deadlock) aborts the replay (run it again).
3. **Compare** (always). Each table of the read model, live vs rebuilt, by primary key: row counts, rows
   only in one side, rows that differ (with the differing columns). `volatile` columns (set at apply time,
   e.g. `updated_at = now()`) are compared by presence (NULL or not) only. A dry run compares with a live
   model that keeps moving: a live consumer behind or ahead of the replay shows as differences (the swap's
   comparison, under the lock, is exact).
4. **Swap** (only with `swap=True`). One transaction: `LOCK TABLE <read model> IN ACCESS EXCLUSIVE MODE`
   (lock_timeout, retried), read the events that arrived since the first end offsets up to the end offsets
   taken *under the lock* and apply them (the live consumer cannot commit meanwhile, so every event it has
   applied is below those offsets: the rebuilt model is complete), compare again (exactly what the swap
   changes), keep the live rows in `replay_old_<projection>_<utc ts>` (unless `drop_old`), then
   `TRUNCATE` the live tables and `INSERT … SELECT` the rebuilt rows into them. Rows are copied back
   rather than tables moved (`SET SCHEMA`) because foreign keys (order's components -> sales products,
   finance's lines and shipments -> orders), grants, sequences and constraint names belong to the live
   tables and stay correct that way. Identity/serial sequences are moved past the copied values.
   The live consumer keeps running: it waits on the lock, then goes on; an event it handles again
   afterwards must change nothing, so projections must be idempotent (version/seq guarded or keyed).

Two replays of one projection at once are refused (an advisory lock).
"""

from __future__ import annotations

import asyncio
import importlib
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from .consumer import ConsumerSpec
from .db import Database
from .failures import describe
from .logging import get_logger
from .replay_apply import Applier, Apply, ReplayUnitOfWork
from .replay_compare import TableDiff, compare_tables, table_columns
from .replay_reader import EventReader, ReplayReport, Skipped

__all__ = [
    "Projection",
    "ReplayReport",
    "ReplayUnitOfWork",
    "Skipped",
    "TableDiff",
    "load_projections",
    "replay",
]

log = get_logger("omni.replay")

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")


@dataclass(frozen=True)
class Projection:
    """A read model a service rebuilds from events. `tables` parents before children (foreign keys).

    `apply(uow, envs)` handles every event type; or `handlers` maps event types to the handler of each (one
    per live consumer group): consecutive events of one handler are applied together, each run in a unit
    of work of its own, as the live consumers never share one."""

    name: str
    tables: tuple[str, ...]
    topics: tuple[str, ...]  # logical (without the deployment's topic prefix)
    event_types: frozenset[str]
    apply: Apply | None = None  # the live handler's shape: `await apply(uow, envs)`
    handlers: Mapping[str, Apply] = field(default_factory=dict)  # or: event type -> handler
    volatile: tuple[str, ...] = ("updated_at",)  # columns set at apply time: compared by presence only
    copy: tuple[str, ...] = ()  # reference tables whose rows `apply` reads (copied into the shadow schema)
    repository: Callable[[AsyncSession], Any] | None = None  # builds `uow.repo` from the session
    description: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"projection name {self.name!r}: lower-case letters, digits, - and _")
        if not self.tables or not self.topics or not self.event_types:
            raise ValueError(f"projection {self.name}: give tables, topics and event types")
        if self.apply is None and set(self.handlers) != set(self.event_types):
            raise ValueError(f"projection {self.name}: give `apply`, or a handler for every event type")

    @property
    def schema(self) -> str:
        return "replay_" + self.name.replace("-", "_")

    def handler_for(self, event_type: str) -> Apply:
        found = self.handlers.get(event_type, self.apply)
        if found is None:
            raise LookupError(f"projection {self.name}: no handler for {event_type}")
        return found

    @classmethod
    def of_consumers(cls, name: str, specs: Sequence[ConsumerSpec], **kw: Any) -> Projection:
        """The projection the live consumers `specs` build: their topics, event types and handlers."""
        handlers: dict[str, Apply] = {}
        for spec in specs:
            if not spec.event_types:
                raise ValueError(f"consumer {spec.group}: a projection needs its event types")
            handlers |= {t: _batch_handler(spec) for t in spec.event_types}
        topics = tuple(dict.fromkeys(str(t) for s in specs for t in s.topics))
        return cls(name=name, topics=topics, event_types=frozenset(handlers), handlers=handlers, **kw)


def _batch_handler(spec: ConsumerSpec) -> Apply:
    if spec.batch_handler is not None:
        return spec.batch_handler
    one = spec.handler
    assert one is not None

    async def each(uow: Any, envs: list[Any]) -> None:
        for env in envs:
            await one(uow, env)

    return each


def load_projections(service: str) -> dict[str, Projection]:
    """The projections `omni_<service>.projections` declares (imported by name: the chassis imports no
    service statically)."""
    module = f"omni_{service.replace('-', '_')}.projections"
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            raise LookupError(f"service {service!r} declares no projections (no module {module})") from None
        raise
    found = getattr(mod, "PROJECTIONS", None)
    if not isinstance(found, dict):
        raise LookupError(f"{module} has no PROJECTIONS dict")
    return found


def projection_for(service: str, name: str) -> Projection:
    found = load_projections(service)
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise LookupError(f"service {service!r} has no projection {name!r} (it has: {known})")
    return found[name]


def _sqlstate(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE of a (wrapped) driver error, or None."""
    for e in (getattr(exc, "orig", None), getattr(getattr(exc, "orig", None), "__cause__", None), exc):
        code = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _search_path(session: AsyncSession, schema: str) -> None:
    await session.execute(text(f"SET LOCAL search_path TO {_q(schema)}, public"))


async def _create_shadow(db: Database, p: Projection) -> None:
    async with db.transaction() as s:
        public = {
            r[0]
            for r in await s.execute(
                text(
                    "SELECT tablename FROM pg_tables "
                    "WHERE schemaname = 'public' AND tablename NOT LIKE 'alembic%'"
                )
            )
        }
        missing = [t for t in (*p.tables, *p.copy) if t not in public]
        if missing:
            raise LookupError(
                f"projection {p.name}: no table(s) {', '.join(missing)} (database not migrated?)"
            )
        await s.execute(text(f"DROP SCHEMA IF EXISTS {_q(p.schema)} CASCADE"))
        await s.execute(text(f"CREATE SCHEMA {_q(p.schema)}"))
        for t in sorted(public):
            await s.execute(text(f"CREATE TABLE {_q(p.schema)}.{_q(t)} (LIKE public.{_q(t)} INCLUDING ALL)"))
        for t in p.copy:
            await s.execute(text(f"INSERT INTO {_q(p.schema)}.{_q(t)} SELECT * FROM public.{_q(t)}"))


async def _copy_back(s: AsyncSession, p: Projection, old: str | None) -> None:
    """Under the lock: keep the live rows in `old`, then replace them with the rebuilt ones."""
    if old:
        await s.execute(text(f"CREATE SCHEMA {_q(old)}"))
        for t in p.tables:
            await s.execute(text(f"CREATE TABLE {_q(old)}.{_q(t)} AS TABLE public.{_q(t)}"))
    await s.execute(text("TRUNCATE " + ", ".join(f"public.{_q(t)}" for t in p.tables)))
    for t in p.tables:
        cols = await table_columns(s, t)
        names = ", ".join(_q(c.name) for c in cols if not c.generated)
        override = " OVERRIDING SYSTEM VALUE" if any(c.identity for c in cols) else ""
        await s.execute(
            text(f"INSERT INTO public.{_q(t)} ({names}){override} SELECT {names} FROM {_q(p.schema)}.{_q(t)}")
        )
        for c in cols:
            if c.sequence is not None:  # next values past the copied ones
                await s.execute(
                    text(
                        f"SELECT setval(:seq, GREATEST((SELECT max({_q(c.name)}) FROM public.{_q(t)}), "
                        f"(SELECT last_value FROM {c.sequence})))"
                    ),
                    {"seq": c.sequence},
                )


async def replay(
    db: Database,
    projection: Projection,
    *,
    bootstrap: str,
    topic_prefix: str = "",
    swap: bool = False,
    drop_old: bool = False,
    batch_size: int = 500,
    lock_timeout_s: float = 5.0,
    lock_attempts: int = 6,
    before_swap: Callable[[], Awaitable[None]] | None = None,
) -> ReplayReport:
    """Rebuild `projection` in its shadow schema from offset 0, compare with the live model; with `swap`,
    put the rebuilt rows in place of the live ones (see the module docstring). `before_swap` runs between
    the rebuild and the lock (tests use it to produce events that only the locked phase can see)."""
    p = projection
    report = ReplayReport(p.name)
    t0 = time.perf_counter()
    apply = Applier(p.name, p.handler_for, report, p.repository)
    async with db.engine.connect() as guard:
        key = f"omni.replay.{p.name}"
        if not (await guard.execute(text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": key})).scalar():
            raise RuntimeError(f"a replay of {p.name} is already running on this database")
        await guard.commit()  # the advisory lock is the session's; no transaction stays open
        reader = EventReader(bootstrap, [topic_prefix + t for t in p.topics], p.event_types, report)
        try:
            await _create_shadow(db, p)
            await reader.start()
            ends = await reader.end_offsets()
            async for batch in reader.batches(ends, batch_size):
                async with db.transaction() as s:
                    await _search_path(s, p.schema)
                    await apply(s, batch)
            async with db.transaction() as s:
                await _search_path(s, p.schema)
                await apply.settle(s)
            log.info(
                "projection rebuilt", projection=p.name, events=report.events, skipped=report.skipped_count
            )
            if not swap:
                async with db.transaction() as s:
                    report.tables = await compare_tables(s, p.tables, p.schema, p.volatile)
            else:
                if before_swap is not None:
                    await before_swap()
                await _swap(db, p, reader, apply, report, drop_old, batch_size, lock_timeout_s, lock_attempts)
        finally:  # best effort: an error here must not hide the one that got us here
            try:
                await reader.stop()
                async with db.transaction() as s:
                    await s.execute(text(f"DROP SCHEMA IF EXISTS {_q(p.schema)} CASCADE"))
                await guard.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})
                await guard.commit()
            except Exception as exc:  # the advisory lock goes with the connection anyway
                log.warning("replay cleanup failed", projection=p.name, error=describe(exc, 300))
    report.seconds = time.perf_counter() - t0
    return report


async def _swap(
    db: Database, p: Projection, reader: EventReader, apply: Applier, report: ReplayReport,
    drop_old: bool, batch_size: int, lock_timeout_s: float, lock_attempts: int,
) -> None:  # fmt: skip
    tables = ", ".join(f"public.{_q(t)}" for t in p.tables)
    for attempt in range(1, lock_attempts + 1):
        locked: float | None = None
        try:
            async with db.transaction() as s:
                await s.execute(text(f"SET LOCAL lock_timeout = '{int(lock_timeout_s * 1000)}ms'"))
                await s.execute(text(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE"))
                locked = time.perf_counter()
                await s.execute(text("SET LOCAL lock_timeout = 0"))  # nothing else here waits on locks
                ends = await reader.end_offsets()
                await _search_path(s, p.schema)
                before = report.events
                async for batch in reader.batches(ends, batch_size):
                    await apply(s, batch)
                await apply.settle(s)
                report.delta_events = report.events - before
                report.tables = await compare_tables(s, p.tables, p.schema, p.volatile)
                stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
                report.old_schema = None if drop_old else f"replay_old_{p.name.replace('-', '_')}_{stamp}"
                await _copy_back(s, p, report.old_schema)
            report.lock_ms = (time.perf_counter() - (locked or 0.0)) * 1000
            report.swapped = True
            log.info("projection swapped", projection=p.name, lock_ms=round(report.lock_ms, 1),
                     delta_events=report.delta_events, old_schema=report.old_schema)  # fmt: skip
            return
        except DBAPIError as exc:
            # only the LOCK itself is retried (55P03 lock_not_available): past it, the delta was read
            if locked is not None or _sqlstate(exc) != "55P03" or attempt == lock_attempts:
                raise
            log.warning(
                "replay could not lock the live tables yet; retrying", projection=p.name, attempt=attempt
            )
            await asyncio.sleep(0.5 * attempt)


def print_report(report: ReplayReport, console: Any, service: str = "") -> None:
    """What `omni replay` prints: what was read, the comparison table, samples of differences, the outcome."""
    from rich.table import Table

    r = report
    console.print(
        f"{service + '/' if service else ''}{r.projection}: {r.events} event(s) applied, {r.duplicates} "
        f"duplicate(s), {r.skipped_count} skipped, {r.discarded_events} emitted event(s) discarded, "
        f"in {r.seconds:.1f}s"
    )
    table = Table(title="live vs rebuilt (volatile columns compared by presence)")
    for col in ("table", "live rows", "rebuilt rows", "only live", "only rebuilt", "differing"):
        table.add_column(col, justify="left" if col == "table" else "right")
    for t in r.tables:
        counts = (t.live_rows, t.rebuilt_rows, t.live_only, t.rebuilt_only, t.differing)
        table.add_row(t.table, *(str(n) for n in counts))
    console.print(table)
    for t in r.tables:
        for x in t.samples:
            what = x.get("columns") or x.get("row")
            console.print(f"  {t.table} {x['kind']} {x['key']}: {what}", markup=False, overflow="fold")
    for s in r.skipped[:10]:
        at = f"{s.topic}[{s.partition}]@{s.offset}"
        console.print(f"  skipped {at} {s.event_type}: {s.error}", markup=False)
    if r.swapped:
        kept = f"; the live rows before it are in schema {r.old_schema}" if r.old_schema else ""
        console.print(
            f"[green]swapped[/]: {r.delta_events} event(s) applied under the lock, tables locked "
            f"{r.lock_ms or 0:.0f} ms{kept}"
        )
    elif r.identical:
        console.print("[green]identical[/]: the rebuilt model equals the live one (nothing swapped)")
    else:
        n = sum(t.live_only + t.rebuilt_only + t.differing for t in r.tables)
        console.print(f"[yellow]{n} row(s) differ[/]: run again with --swap to replace the live model")
