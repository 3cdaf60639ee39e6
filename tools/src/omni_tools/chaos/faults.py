"""Faults injected during a chaos run: `kill -9` of a service, a Kafka broker restart, a PostgreSQL restart.

Each fault is planned up front at a point of the run (a fraction of the orders sent), from a seeded RNG, so a
run can be repeated with its seed. The injector fires them one after the other as the push reaches them.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass, field

from .stack import ALL, ROOT, Stack


@dataclass
class Fault:
    at: float  # fraction of the orders sent when it fires
    kind: str  # kill | kafka | postgres
    target: str  # a service, "broker" or "cluster"
    fired_at: float | None = None  # monotonic
    done_at: float | None = None
    outcome: str = ""


@dataclass
class Plan:
    faults: list[Fault] = field(default_factory=list)

    @classmethod
    def make(cls, rnd: random.Random, kills_per_service: int, kafka_restarts: int, pg_restarts: int) -> Plan:
        faults = [Fault(rnd.uniform(0.05, 0.9), "kill", svc) for svc in ALL for _ in range(kills_per_service)]
        faults += [Fault(rnd.uniform(0.1, 0.8), "kafka", "broker") for _ in range(kafka_restarts)]
        faults += [Fault(rnd.uniform(0.2, 0.8), "postgres", "cluster") for _ in range(pg_restarts)]
        return cls(sorted(faults, key=lambda f: f.at))

    @property
    def last_done(self) -> float | None:
        done = [f.done_at for f in self.faults if f.done_at is not None]
        return max(done) if done else None


def _run(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 180) -> str:
    r = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> {r.returncode}: {(r.stdout + r.stderr).strip()[-500:]}")
    return r.stdout.strip()


def _own_kafka_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    status = subprocess.run(
        [str(ROOT / "deploy/local/kafka.sh"), "status"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if status.returncode != 0:
        raise RuntimeError("Kafka was not started by deploy/local/kafka.sh: cannot restart it")
    return env


def pg_cluster() -> tuple[str, str]:
    """The Debian cluster to restart: PG_CLUSTER (e.g. 15/main) or the one online on PGPORT (5432)."""
    if os.environ.get("PG_CLUSTER"):
        ver, name = os.environ["PG_CLUSTER"].split("/", 1)
        return ver, name
    port = os.environ.get("PGPORT", "5432")
    for line in _run(["pg_lsclusters", "--no-header"]).splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] == port and parts[3].startswith("online"):
            return parts[0], parts[1]
    raise RuntimeError(f"no online PostgreSQL cluster on port {port} (pg_lsclusters)")


async def fire(fault: Fault, stack: Stack, rnd: random.Random) -> None:
    fault.fired_at = time.monotonic()
    try:
        if fault.kind == "kill":
            pid, state, deadline = None, "?", time.monotonic() + 60
            while not pid and time.monotonic() < deadline:  # between two starts (BACKOFF): wait for one
                procs = await asyncio.to_thread(stack.processes)
                pid = procs.get(fault.target, {}).get("pid")
                state = procs.get(fault.target, {}).get("state", "?")
                if not pid:
                    await asyncio.sleep(0.5)
            if not pid:
                fault.outcome = f"FAILED: no pid to kill within 60 s ({state})"
            else:
                os.kill(pid, signal.SIGKILL)
                fault.outcome = f"pid {pid} killed ({state})"
        elif fault.kind == "kafka":
            env = await asyncio.to_thread(_own_kafka_env)
            kafka_sh = str(ROOT / "deploy/local/kafka.sh")
            await asyncio.to_thread(_run, [kafka_sh, "stop"], env)
            down = rnd.uniform(5, 15)
            await asyncio.sleep(down)
            await asyncio.to_thread(_run, [kafka_sh, "start"], env)
            fault.outcome = f"broker down {down:.0f}s, back after {time.monotonic() - fault.fired_at:.0f}s"
        elif fault.kind == "postgres":
            ver, name = await asyncio.to_thread(pg_cluster)
            await asyncio.to_thread(_run, ["pg_ctlcluster", ver, name, "stop", "-m", "fast"])
            down = rnd.uniform(3, 8)
            await asyncio.sleep(down)
            await asyncio.to_thread(_run, ["pg_ctlcluster", ver, name, "start"])
            fault.outcome = (
                f"{ver}/{name} down {down:.0f}s, back after {time.monotonic() - fault.fired_at:.0f}s"
            )
    except Exception as exc:  # reported in the table; the run goes on
        fault.outcome = f"FAILED: {exc}"
    fault.done_at = time.monotonic()


async def inject(plan: Plan, stack: Stack, rnd: random.Random, progress, on_fault=None) -> None:
    """Fire every fault when progress() (0..1, the share of orders sent) reaches its point: kills in one
    sequence, broker and database restarts in another, so a restart does not hold the kills back."""
    kills = [f for f in plan.faults if f.kind == "kill"]
    infra = [f for f in plan.faults if f.kind != "kill"]
    await asyncio.gather(
        _sequence(kills, stack, random.Random(rnd.random()), progress, on_fault),
        _sequence(infra, stack, random.Random(rnd.random()), progress, on_fault),
    )


async def _sequence(faults: list[Fault], stack: Stack, rnd: random.Random, progress, on_fault) -> None:
    for fault in faults:
        while progress() < fault.at:  # noqa: ASYNC110 (polls a counter the sender bumps)
            await asyncio.sleep(0.05)
        await asyncio.sleep(rnd.uniform(0, 0.5))  # not in lock-step with the sender
        await fire(fault, stack, rnd)
        if on_fault:
            on_fault(fault)
