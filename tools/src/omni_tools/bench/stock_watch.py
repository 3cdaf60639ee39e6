"""What `make bench-stock` watches while it runs: the simulator's update calls (merged in the background:
its log keeps the last 10,000), the channel service's CPU and RSS per phase (/proc, procs.py), and the
pipeline's counters from every replica's /metrics (inventory-listings, channel-stock, the pushes)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

import httpx
from rich.console import Console

from ..client import check
from .procs import PROC, _read, classify, cpu_percent, parse_vmrss_kb, service_pids, services_sh, snapshot
from .stock_report import Usage, merge_calls, metric_sum

console = Console()


class Watch:
    """In the background: the simulator's update calls (merged: its log holds the last 10,000) and the
    channel service's RSS, sampled every `every` seconds."""

    def __init__(self, sim: httpx.AsyncClient, every: float = 1.0) -> None:
        self.sim, self.every, self.calls, self.rss = sim, every, {}, []
        self.pids: list[int] = []
        self._task: asyncio.Task | None = None

    async def poll_calls(self) -> None:
        r = await self.sim.get(
            "/_sim/taobao/calls", params={"method": "taobao.item.quantity.update", "limit": "10000"}
        )
        merge_calls(self.calls, check(r)["calls"])

    def channel_rss_mb(self) -> float | None:
        kbs = [parse_vmrss_kb(_read(PROC / str(p) / "status") or "") for p in self.pids]
        return sum(k or 0 for k in kbs) / 1024 if kbs else None

    async def _run(self) -> None:
        while True:
            try:
                await self.poll_calls()
            except (httpx.HTTPError, Exception) as exc:  # a measurement: keep watching
                console.print(f"[yellow]simulator calls: {exc!r}[/]")
            mb = self.channel_rss_mb()
            if mb is not None:
                self.rss.append(mb)
            await asyncio.sleep(self.every)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.poll_calls()

    def all_calls(self) -> list[dict[str, Any]]:
        return list(self.calls.values())


class Meter:
    """CPU per process group and the channel's RSS peak over one phase (`async with Meter(watch) as m`)."""

    def __init__(self, watch: Watch) -> None:
        self.watch, self.usage = watch, Usage(0)

    async def __aenter__(self) -> Meter:
        self.services = await asyncio.to_thread(service_pids)
        self.stats0, self.cmd0 = await asyncio.to_thread(snapshot)
        groups = classify(self.stats0, self.cmd0, self.services)
        self.watch.pids = [k[0] for k, g in groups.items() if g == "channel"]
        self.watch.rss.clear()
        self.t0 = time.monotonic()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        stats1, cmd1 = await asyncio.to_thread(snapshot)
        wall = time.monotonic() - self.t0
        groups = classify(self.stats0, self.cmd0, self.services) | classify(stats1, cmd1, self.services)
        before = {s.key: s.ticks for s in self.stats0.values() if s.key in groups}
        after = {s.key: s.ticks for s in stats1.values() if s.key in groups}
        cpu: dict[str, float] = Counter()
        for k, pct in cpu_percent(before, after, wall).items():
            cpu[groups[k]] += pct
        end = self.watch.channel_rss_mb()
        peak = max([*self.watch.rss, end or 0]) or None
        self.usage = Usage(wall, dict(cpu), peak, end)


async def service_ports() -> dict[str, list[int]]:
    proc = await asyncio.create_subprocess_exec(
        str(services_sh()), "status", "--json", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    ports: dict[str, list[int]] = {}
    for r in json.loads(out or b"[]"):
        if r.get("port"):
            ports.setdefault(r["of"], []).append(int(r["port"]))
    return ports


async def counters(http: httpx.AsyncClient, ports: dict[str, list[int]]) -> dict[str, float]:
    """Pipeline-wide counters, summed over every replica's /metrics."""
    text = {svc: "" for svc in ("inventory", "channel")}
    for svc in text:
        for port in ports.get(svc, []):
            text[svc] += (await http.get(f"http://127.0.0.1:{port}/metrics")).text + "\n"
    handled = "omni_events_handled_total"
    return {
        "stock_changed": metric_sum(
            text["inventory"], handled, consumer="inventory-listings", event_type="inventory.stock-changed"
        ),
        "listing_events": metric_sum(
            text["channel"], handled, consumer="channel-stock", event_type="inventory.listing-stock-changed"
        ),
        "acknowledged": metric_sum(text["channel"], "omni_channel_pushes_total", outcome="acknowledged"),
        "push_latency_sum": metric_sum(text["channel"], "omni_channel_push_latency_seconds_sum"),
        "push_latency_count": metric_sum(text["channel"], "omni_channel_push_latency_seconds_count"),
    }
