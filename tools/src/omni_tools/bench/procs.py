"""The stack's processes, read from /proc: CPU over a quiet window, RSS, and the load generator's own CPU.

Which processes are the stack: every service process (pids from `deploy/local/services.sh status --json`)
and its children, supervisord (their parent) and its other children, Kafka (a `java` process whose command
line names kafka) and every PostgreSQL process (`postgres`: the postmaster, its helpers and each backend).
CPU = utime + stime (clock ticks) from /proc/<pid>/stat at two instants; a process is known by
(pid, start time), so a reused pid is not mistaken for the old process.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PROC = Path("/proc")
Key = tuple[int, int]  # (pid, start time in ticks since boot)


# -- pure -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stat:
    pid: int
    comm: str
    ppid: int
    ticks: int  # utime + stime
    start: int  # start time, ticks after boot

    @property
    def key(self) -> Key:
        return (self.pid, self.start)


def parse_stat(text: str) -> Stat:
    """One /proc/<pid>/stat line. The command name is in parentheses and may itself hold spaces and ')'."""
    head, _, rest = text.rpartition(")")
    pid, _, comm = head.partition(" (")
    f = rest.split()  # f[0] is field 3 (state): field n is f[n - 3]
    return Stat(int(pid), comm, int(f[1]), int(f[11]) + int(f[12]), int(f[19]))


def parse_vmrss_kb(status: str) -> int | None:
    """VmRSS (kB) from /proc/<pid>/status; None for a process without one (a zombie, a kernel thread)."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def cpu_percent(
    before: dict[Key, int], after: dict[Key, int], seconds: float, hz: int = HZ
) -> dict[Key, float]:
    """% of one core per process between two samples of ticks. A process only in `after` started within
    the window: all its ticks count. One only in `before` ended within it: what it used is not known."""
    if seconds <= 0:
        raise ValueError("the window must be longer than 0 s")
    return {k: max(0, t - before.get(k, 0)) / hz / seconds * 100 for k, t in after.items()}


def by_group(pcts: dict[Key, float], groups: dict[Key, str]) -> dict[str, float]:
    """Sum per group (a process without a group is left out), largest first."""
    out: dict[str, float] = defaultdict(float)
    for k, p in pcts.items():
        if k in groups:
            out[groups[k]] += p
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def classify(stats: dict[int, Stat], cmdlines: dict[int, str], services: dict[str, int]) -> dict[Key, str]:
    """The stack's processes -> their group: a service name, `supervisor`, `kafka` or `postgres`."""
    children: dict[int, list[int]] = defaultdict(list)
    for s in stats.values():
        children[s.ppid].append(s.pid)
    groups: dict[Key, str] = {}

    def claim(pid: int, group: str) -> None:
        todo = [pid]
        while todo:
            p = todo.pop()
            if p in stats and stats[p].key not in groups:
                groups[stats[p].key] = group
                todo.extend(children[p])

    for name, pid in services.items():
        claim(pid, name)
    for parent in {stats[p].ppid for p in services.values() if p in stats}:
        if parent > 1:
            claim(parent, "supervisor")  # supervisord and its helpers (the services are claimed already)
    for s in stats.values():
        if s.key in groups:
            continue
        if s.comm == "java" and "kafka" in cmdlines.get(s.pid, "").lower():
            claim(s.pid, "kafka")
        elif s.comm == "postgres":
            groups[s.key] = "postgres"
    return groups


# -- reading /proc ----------------------------------------------------------------------------------------
def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:  # the process ended
        return None


def snapshot() -> tuple[dict[int, Stat], dict[int, str]]:
    """Every process' stat and command line now."""
    stats, cmdlines = {}, {}
    for d in PROC.iterdir():
        if not d.name.isdigit():
            continue
        text = _read(d / "stat")
        if text is None:
            continue
        s = parse_stat(text)
        stats[s.pid] = s
        if s.comm == "java":
            cmdlines[s.pid] = (_read(d / "cmdline") or "").replace("\0", " ")
    return stats, cmdlines


def services_sh() -> Path:
    here = Path(__file__).resolve()
    for root in (Path.cwd(), *here.parents):
        if (root / "deploy/local/services.sh").exists():
            return root / "deploy/local/services.sh"
    raise FileNotFoundError("deploy/local/services.sh not found (run from the repository)")


def service_pids() -> dict[str, int]:
    """Each running service's pid, as `deploy/local/services.sh status --json` reports it."""
    out = subprocess.run(
        [str(services_sh()), "status", "--json"], capture_output=True, text=True, timeout=60, check=False
    )
    try:
        rows = json.loads(out.stdout or "[]")
    except json.JSONDecodeError:
        return {}
    return {r["service"]: int(r["pid"]) for r in rows if r.get("pid")}


@dataclass
class IdleCpu:
    seconds: float
    total: float  # % of one core, the whole stack
    groups: dict[str, float]  # per group, largest first
    processes: int
    services: int
    started: int = 0  # processes of the stack that started within the window (counted in full)
    restarted: list[str] = field(default_factory=list)  # services whose pid changed within the window


async def idle_cpu(seconds: float) -> IdleCpu:
    """The stack's CPU over `seconds` with no traffic from this bench."""
    services = await asyncio.to_thread(service_pids)
    stats0, cmd0 = snapshot()
    t0 = time.monotonic()
    await asyncio.sleep(seconds)
    stats1, cmd1 = snapshot()
    wall = time.monotonic() - t0
    groups = classify(stats0, cmd0, services) | classify(stats1, cmd1, services)
    before = {s.key: s.ticks for s in stats0.values() if s.key in groups}
    after = {s.key: s.ticks for s in stats1.values() if s.key in groups}
    pcts = cpu_percent(before, after, wall)
    now = await asyncio.to_thread(service_pids)
    restarted = sorted(name for name, pid in services.items() if now.get(name) != pid)
    started = len(after.keys() - before.keys())
    return IdleCpu(
        wall, sum(pcts.values()), by_group(pcts, groups), len(after), len(services), started, restarted
    )


@dataclass
class Rss:
    mb: dict[str, float] = field(default_factory=dict)  # service -> MB (its process and children)
    pids: dict[str, int] = field(default_factory=dict)  # service -> its pid then


def rss_of_services() -> Rss:
    services = service_pids()
    stats, cmdlines = snapshot()
    groups = classify(stats, cmdlines, services)
    out: dict[str, float] = defaultdict(float)
    for s in stats.values():
        name = groups.get(s.key)
        if name in services:
            kb = parse_vmrss_kb(_read(PROC / str(s.pid) / "status") or "")
            out[name] += (kb or 0) / 1024
    return Rss(dict(sorted(out.items())), services)


@dataclass
class Clock:
    wall: float = 0.0
    cpu: float = 0.0

    @property
    def share(self) -> float | None:
        """This process' CPU as a fraction of one core."""
        return self.cpu / self.wall if self.wall > 0 else None


@contextmanager
def own_cpu() -> Iterator[Clock]:
    """The load generator's own CPU (user + system, every thread) and wall time inside the block."""
    clock, t0, c0 = Clock(), time.perf_counter(), os.times()
    try:
        yield clock
    finally:
        c1 = os.times()
        clock.wall = time.perf_counter() - t0
        clock.cpu = (c1.user - c0.user) + (c1.system - c0.system)
