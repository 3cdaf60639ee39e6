"""`make bench`: every performance target in one run, one table. The phases, in this order:

1. idle     the whole stack's CPU with no traffic (before this bench sends anything);
2. bus      the bus baseline (omni_chassis.bench_bus);
3. hot      hot SKU: N reservations on one (node, material) against N on N materials; oversold;
4. kafka    orders straight onto omni.channel.orders → allocated;
5. webhook  signed webhooks through the gateway as fast as possible for `seconds` (or `orders`) → voucher;
6. paced    webhooks paced at half the sustained maximum of (5): latency to allocated, the webhook's answer;
7. rules    the Kafka load of (4) twice: no strategy, then a 50-rule strategy on the shop; orders/s and ratio;
8. rss      every service's RSS after the load.

Every request of a load phase is built and signed before the phase starts. It asserts nothing: it prints.
"""

from __future__ import annotations

import asyncio
import os
import platform
import random
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.console import Console

from ..client import check, gateway
from .bus import run_bus
from .hot import run_hot
from .orders import kafka_pool, signed_pool, top_up
from .procs import idle_cpu, own_cpu, rss_of_services
from .push import publish, push_webhook
from .rules_phase import run_rules
from .stats import MAX_PHASE_SECONDS, half_rate, pool_size, sign_at
from .table import Results, render
from .watch import follow

console = Console()
PHASES = ("idle", "bus", "hot", "kafka", "webhook", "paced", "rules", "rss")
FIRST = {"kafka": 0, "webhook": 1_000_000_000, "paced": 2_000_000_000}  # each phase's own tids


def select_phases(spec: str = "all", bus: bool = True, via: str | None = None) -> list[str]:
    """The phases to run, always in their fixed order. `spec`: all, or names separated by commas;
    `bus=False` leaves the baseline out; `via` webhook or kafka keeps only that load path (rules: Kafka's)."""
    names = set(PHASES) if spec.strip() in ("", "all") else {p.strip() for p in spec.split(",") if p.strip()}
    unknown = names - set(PHASES)
    if unknown:
        raise ValueError(f"unknown phase(s) {', '.join(sorted(unknown))}; choose from {', '.join(PHASES)}")
    if not bus:
        names.discard("bus")
    if via == "kafka":
        names -= {"webhook", "paced"}
    elif via == "webhook":
        names -= {"kafka", "rules"}
    elif via is not None:
        raise ValueError("via is webhook or kafka")
    return [p for p in PHASES if p in names]


@dataclass
class Config:
    url: str
    api_key: str
    seconds: float = 60  # the webhook maximum phase
    orders: int = 0  # instead of seconds: exactly this many orders (half as many paced, all if paced alone)
    kafka_orders: int = 10_000
    hot_orders: int = 1_000
    rules_orders: int = 5_000  # the rules phase: this many orders without, and as many with, the 50 rules
    paced_seconds: float = 0  # 0: min(seconds, 60)
    rate: float = 0  # paced rate; 0: half the measured maximum
    idle_seconds: float = 20
    bus_events: int = 20_000
    max_rate: float = 1_250  # pool of the webhook maximum phase: max_rate × seconds requests
    concurrency: int = 64
    phases: list[str] = field(default_factory=lambda: list(PHASES))

    def __post_init__(self) -> None:
        for what, s in (("seconds", self.seconds), ("paced seconds", self.paced_seconds)):
            if s > MAX_PHASE_SECONDS:
                raise ValueError(f"{what} at most {MAX_PHASE_SECONDS:,} (the webhook's ±10 min timestamps)")


def machine() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores, load {load} (1/5/15 min), {platform.machine()}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def bootstrap() -> str:
    from omni_chassis.settings import CommonSettings

    return CommonSettings().kafka_bootstrap_servers


async def _webhook_phase(cfg: Config, tag: str, phase: str, n: int, seconds: float | None, rate: float = 0):
    t0, built = time.perf_counter(), datetime.now(UTC)
    duration = seconds if seconds is not None else min(n / (rate or 50), MAX_PHASE_SECONDS)  # a guess
    reqs, need = signed_pool(n, tag, int(tag) + len(phase), FIRST[phase], cfg.url, sign_at(built, duration))
    console.print(f"  {n:,} webhook requests built and signed in {time.perf_counter() - t0:,.1f} s")
    async with gateway(cfg.url, cfg.api_key) as client:
        await top_up(client, tag, need, phase)
    pushed = await push_webhook(reqs, cfg.concurrency, seconds, rate)
    del reqs
    console.print(f"  {len(pushed.tids):,} accepted in {pushed.seconds:,.1f} s; following them …")
    return await follow(pushed, rate=rate)


async def _phase(res: Results, cfg: Config, tag: str, phase: str) -> None:
    if phase in ("hot", "kafka", "webhook", "paced", "rules"):
        with own_cpu() as clock:  # the load generator over the whole phase: building, sending, following
            await _load(res, cfg, tag, phase)
        if getattr(res, phase) is not None:
            res.client_phase[phase] = clock.share
    elif phase == "idle":
        res.idle = await idle_cpu(cfg.idle_seconds)
        res.rss_idle = await asyncio.to_thread(rss_of_services)
    elif phase == "bus":
        res.bus = await run_bus(cfg.bus_events)
    elif phase == "rss":
        res.rss = await asyncio.to_thread(rss_of_services)


async def _load(res: Results, cfg: Config, tag: str, phase: str) -> None:
    if phase == "hot":
        async with gateway(cfg.url, cfg.api_key) as client:
            res.hot = await run_hot(client, tag, cfg.hot_orders, bootstrap())
    elif phase == "kafka":
        from omni_contracts import Topic

        records, need = kafka_pool(cfg.kafka_orders, tag, int(tag) + 1, FIRST["kafka"], datetime.now(UTC))
        async with gateway(cfg.url, cfg.api_key) as client:
            await top_up(client, tag, need, "kafka")
        pushed = await publish(records, Topic.CHANNEL_ORDERS, bootstrap())
        del records
        res.kafka = await follow(pushed, since=pushed.started_at)
    elif phase == "webhook":
        n = cfg.orders or pool_size(cfg.seconds, cfg.max_rate)
        res.webhook = await _webhook_phase(cfg, tag, phase, n, None if cfg.orders else cfg.seconds)
    elif phase == "paced":
        rate = cfg.rate or half_rate(res.webhook.to_voucher if res.webhook else None)
        res.paced_basis = "--rate" if cfg.rate else "half the max"
        if not rate:
            res.skipped["paced"] = "no sustained maximum measured (run the webhook phase, or give --rate)"
            return
        seconds = None if cfg.orders else (cfg.paced_seconds or min(cfg.seconds, 60))
        alone = "webhook" not in cfg.phases  # count mode: half the maximum phase's orders, or all of them
        count = cfg.orders if alone else max(cfg.orders // 2, 1)
        n = count if cfg.orders else pool_size(seconds, rate, 0.05) + cfg.concurrency
        res.paced = await _webhook_phase(cfg, tag, phase, n, seconds, rate)
    elif phase == "rules":
        async with gateway(cfg.url, cfg.api_key) as client:
            res.rules = await run_rules(client, tag, cfg.rules_orders, bootstrap())


async def run_bench(cfg: Config) -> Results:
    tag = f"{random.SystemRandom().randrange(10**6):06d}"
    res = Results(tag, concurrency=cfg.concurrency)
    size = f"{cfg.orders:,} orders" if cfg.orders else f"{cfg.seconds:,.0f} s"
    console.print(
        f"[bold]omni bench[/] run {tag}: phases {', '.join(cfg.phases)}; webhook maximum {size}, "
        f"{cfg.concurrency} in flight; {cfg.kafka_orders:,} via Kafka; hot SKU {cfg.hot_orders:,}; "
        f"rules {cfg.rules_orders:,} × 2; "
        f"gateway {cfg.url}"
    )
    console.print(machine())
    if {"hot", "kafka", "webhook", "paced", "rules"} & set(cfg.phases):
        try:
            async with gateway(cfg.url, cfg.api_key) as client:
                check(await client.get("/health/ready"))
        except Exception as exc:
            console.print(f"[red]the gateway at {cfg.url} is not ready ({exc!r}): is `make up` running?[/]")
            raise SystemExit(1) from None
    for phase in cfg.phases:
        console.rule(f"[bold]{phase}")
        t0 = time.perf_counter()
        try:
            await _phase(res, cfg, tag, phase)
        except Exception as exc:  # a measurement: report what failed, measure the rest
            res.skipped[phase] = f"failed: {type(exc).__name__}: {str(exc)[:160]}"
            console.print(f"[red]{phase} failed:[/] {exc!r}")
            console.print(traceback.format_exc(limit=3), markup=False)
        console.print(f"{phase}: {time.perf_counter() - t0:,.0f} s")
    wide = console if console.is_terminal else Console(width=max(console.width, 140))
    wide.print(render(res))
    console.print(machine())
    return res
