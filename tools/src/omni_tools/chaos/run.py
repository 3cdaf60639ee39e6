"""One chaos run: orders through the gateway while services are killed and the broker and database restart,
duplicates re-published; then every order, reservation, stock row, voucher, DLQ and consumer group checked."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import asyncpg
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from omni_contracts import Topic
from omni_contracts.events.channel import channel_order_key

from .. import bench
from ..client import gateway
from . import checks
from .faults import Fault, Plan, inject
from .stack import Stack, wait_all_ready
from .traffic import Sent, push, reproduce, tid_of

EXPECTED = "allocated"  # stock for every order: each one must end allocated, with its sale voucher


@dataclass
class Config:
    orders: int = 10_000
    seed: int | None = None
    kills_per_service: int = 3
    kafka_restarts: int = 2
    pg_restarts: int = 1
    duplicate_share: float = 0.10
    concurrency: int = 32
    lag_within: float = 60
    rate: float | None = None  # orders/s; None: slow enough that the faults fall while orders flow

    def send_rate(self) -> float:
        if self.rate is not None:
            return self.rate
        span = 30 + 50 * self.kafka_restarts + 20 * self.pg_restarts + 14 * self.kills_per_service
        return self.orders / max(self.orders / 40, span)

    api_key: str = "dev-admin-key"


@dataclass
class Result:
    seed: int
    plan: Plan
    sent: Sent
    checks: list[checks.Check] = field(default_factory=list)
    dlq_errors: Counter = field(default_factory=Counter)
    lag_seconds: float | None = None
    settle: str | None = None

    @property
    def totals(self) -> tuple[int, int, int]:
        return (
            sum(c.lost for c in self.checks),
            sum(c.duplicated for c in self.checks),
            sum(c.stuck for c in self.checks),
        )

    @property
    def ok(self) -> bool:
        failed = [f for f in self.plan.faults if f.outcome.startswith("FAILED")]
        return self.totals == (0, 0, 0) and not failed


async def run(stack: Stack, cfg: Config, console: Console | None = None) -> Result:
    console = console or Console()
    seed = cfg.seed if cfg.seed is not None else random.SystemRandom().randrange(2**32)
    rnd = random.Random(seed)
    tag = f"{random.SystemRandom().randrange(10**6):06d}"  # tids unique per run, even on a shared stack
    docs = bench.build_orders(cfg.orders, tag, seed=seed)
    tids = [tid_of(d) for d in docs]
    dups = rnd.sample(tids, k=round(len(tids) * cfg.duplicate_share))
    webhook_dups, kafka_dups = set(dups[::2]), set(dups[1::2])
    plan = Plan.make(rnd, cfg.kills_per_service, cfg.kafka_restarts, cfg.pg_restarts)
    console.print(
        f"[bold]omni chaos[/] seed [bold]{seed}[/] (CHAOS_SEED={seed} repeats the faults), run {tag}: "
        f"{cfg.orders:,} orders to {stack.gateway}, {len(plan.faults)} faults, {len(dups):,} duplicates"
    )
    dlq_before = await checks.dlq_offsets(stack)
    channel_topic = stack.topic_prefix + Topic.CHANNEL_ORDERS
    channel_start = {
        tp.partition: o for tp, o in (await checks._end_offsets(stack.bootstrap, [channel_topic])).items()
    }
    async with gateway(stack.gateway, cfg.api_key) as client:
        await bench.top_up(client, tag, bench.demand(docs))

    rate = cfg.send_rate()
    console.print(f"sending at {rate:.0f} orders/s" if rate else "sending as fast as possible")
    sent, sending = await push(stack.gateway, cfg.api_key, docs, webhook_dups, cfg.concurrency, rate=rate)

    def said(f: Fault) -> None:
        console.print(f"  fault at {f.at:4.0%} of the orders: {f.kind} {f.target}: {escape(f.outcome)}")

    injector = asyncio.create_task(inject(plan, stack, rnd, lambda: sent.started / len(docs), said))
    await sending
    pushed_at = time.monotonic()
    console.print(
        f"sent {len(docs):,} orders in {sent.seconds:.0f}s: {len(sent.accepted):,} accepted, "
        f"{sum(sent.refused.values()):,} refused, {sum(sent.retries.values()):,} retries, "
        f"{sent.webhook_duplicates:,} webhooks sent twice"
    )
    keys = {channel_order_key("tmall", t).encode() for t in kafka_dups if t in set(sent.accepted)}
    for _ in range(10):  # the broker may be restarting
        try:
            sent.kafka_duplicates = await reproduce(stack.bootstrap, channel_topic, channel_start, keys, 120)
            break
        except Exception as exc:
            console.print(f"  [yellow]re-publishing duplicates: {type(exc).__name__}: {exc}; again[/]")
            await asyncio.sleep(3)
    duplicated_at = time.monotonic()  # re-publishing is a fault too
    console.print(f"re-produced {sent.kafka_duplicates:,} channel.order.received records verbatim")
    await injector
    since = max(plan.last_done or 0.0, pushed_at, duplicated_at)
    if not await wait_all_ready(stack, 180):
        console.print(f"[red]not every service is ready 180 s after the last fault: {stack.processes()}[/]")

    result = Result(seed, plan, sent)
    lag_task = asyncio.create_task(checks.lag_drains(stack, since, cfg.lag_within))
    order_db = await checks._connect(stack.db_url("order"))
    finance_db = await checks._connect(stack.db_url("finance"))
    try:
        _, result.settle = await bench.watch(
            order_db, finance_db, sent.accepted, within=120 + 0.05 * len(docs)
        )
    except (OSError, asyncpg.PostgresError) as exc:
        result.settle = f"watch failed: {exc}"
    finally:
        await order_db.close()
        await finance_db.close()
    lag_check, result.lag_seconds = await lag_task

    edge = checks.Check("orders accepted by the webhook", checked=len(docs))
    edge.lost = len(docs) - len(set(sent.accepted))
    edge.duplicated = len(sent.accepted) - len(set(sent.accepted))
    edge.notes = [f"{n}× {w}" for w, n in sent.refused.most_common(3)]
    order_check, order_ids = await checks.orders(stack, tids, EXPECTED)
    ids = list(order_ids.values())
    voucher_check, balance = await checks.vouchers(stack, ids)
    dlq_check, result.dlq_errors = await checks.dead_letters(stack, dlq_before)
    result.checks = [
        edge,
        order_check,
        await checks.reservations(stack, ids),
        await checks.stock(stack),
        voucher_check,
        balance,
        dlq_check,
        lag_check,
    ]
    return result


def fault_table(plan: Plan) -> Table:
    t = Table(title="faults injected", title_justify="left")
    for col in ("fault", "target", "count", "outcomes"):
        t.add_column(col, justify="right" if col == "count" else "left")
    groups: dict[tuple[str, str], list[Fault]] = {}
    for f in plan.faults:
        groups.setdefault((f.kind, f.target), []).append(f)
    names = {"kill": "kill -9", "kafka": "Kafka broker restart", "postgres": "PostgreSQL restart"}
    for (kind, target), fs in groups.items():
        outcomes = "; ".join(f"{f.at:.0%}: {f.outcome}" for f in fs)
        bad = any(f.outcome.startswith("FAILED") for f in fs)
        t.add_row(
            names[kind], target, str(len(fs)), f"[red]{escape(outcomes)}[/]" if bad else escape(outcomes)
        )
    return t


def check_table(result: Result) -> Table:
    lost, dup, stuck = result.totals
    t = Table(
        title=f"checks (seed {result.seed}): lost {lost}, duplicated {dup}, stuck {stuck}"
        + ("" if result.ok else "  [red]FAILED[/]"),
        title_justify="left",
    )
    for col in ("check", "checked", "lost", "duplicated", "stuck", "notes"):
        t.add_column(col, justify="left" if col in ("check", "notes") else "right")

    def n(v: int) -> str:
        return f"[red]{v:,}[/]" if v else "0"

    for c in result.checks:
        t.add_row(
            c.name, f"{c.checked:,}", n(c.lost), n(c.duplicated), n(c.stuck), escape("; ".join(c.notes))
        )
    lag = "—" if result.lag_seconds is None else f"{result.lag_seconds:.0f}s"
    t.caption = (
        f"lag drained {lag} after the last fault or last order sent; "
        f"duplicates: {result.sent.webhook_duplicates:,} webhooks, "
        f"{result.sent.kafka_duplicates:,} Kafka records"
        + (f"; settling: {result.settle}" if result.settle else "")
    )
    return t


def print_report(result: Result, console: Console) -> None:
    console.print(fault_table(result.plan))
    console.print(check_table(result))
    if result.dlq_errors:
        t = Table(
            title="dead letters written during the run (x-dlq-consumer: x-dlq-error)", title_justify="left"
        )
        t.add_column("count", justify="right")
        t.add_column("consumer: error")
        for e, k in result.dlq_errors.most_common(15):
            t.add_row(f"{k:,}", escape(e))
        console.print(t)
