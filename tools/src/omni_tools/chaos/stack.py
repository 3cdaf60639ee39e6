"""A namespaced Omni stack (own databases, ports, topics, consumer groups, run dir) run by services.sh.

The same namespacing as tests-e2e/conftest.py: `make chaos` runs `omni_chaos_<service>` databases on ports
19000+, topics `chaos.omni.*` and groups `chaos.*`, under OMNI_RUN_DIR=.data/chaos, beside a `make up` stack
(8000+) and the e2e stack (18000+) on the same Kafka and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

SERVICES = ["product", "inventory", "order", "fulfillment", "finance", "channel"]
ALL = ["gateway", *SERVICES]
ROOT = Path(__file__).resolve().parents[4]
SERVICES_SH = ROOT / "deploy/local/services.sh"


@dataclass
class Stack:
    env: dict[str, str]

    @classmethod
    def namespaced(cls, name: str, base_port: int, bootstrap: str, pg_server_url: str) -> Stack:
        from omni_chassis.settings import database_for

        run_dir = ROOT / ".data" / name
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "DATABASE_URL": pg_server_url,
            "OMNI_CONSUMER_GROUP_PREFIX": f"{name}.",
            "OMNI_TOPIC_PREFIX": f"{name}.",
            "OMNI_RUN_DIR": str(run_dir),
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
            "GATEWAY_HTTP_PORT": str(base_port),
            "SERVICES_START_TIMEOUT": os.environ.get("SERVICES_START_TIMEOUT", "300"),
        }
        for i, svc in enumerate(SERVICES):
            port = base_port + 1 + i
            env[f"{svc.upper()}_HTTP_PORT"] = str(port)
            env[f"{svc.upper()}_DATABASE_URL"] = database_for(pg_server_url, f"omni_{name}_{svc}")
            env[f"GATEWAY_{svc.upper()}_URL"] = f"http://127.0.0.1:{port}"
        return cls(env)

    # -- what the environment says ------------------------------------------------------------------------
    @property
    def run_dir(self) -> Path:
        return Path(self.env["OMNI_RUN_DIR"])

    @property
    def topic_prefix(self) -> str:
        return self.env.get("OMNI_TOPIC_PREFIX", "")

    @property
    def group_prefix(self) -> str:
        return self.env.get("OMNI_CONSUMER_GROUP_PREFIX", "")

    @property
    def bootstrap(self) -> str:
        return self.env["KAFKA_BOOTSTRAP_SERVERS"]

    def port(self, svc: str) -> int:
        return int(self.env[f"{svc.upper()}_HTTP_PORT"])

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.port('gateway')}"

    def db_url(self, svc: str) -> str:
        from omni_chassis.settings import plain_url

        return plain_url(self.env[f"{svc.upper()}_DATABASE_URL"])

    # -- services.sh --------------------------------------------------------------------------------------
    def sh(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(
            [str(SERVICES_SH), *args], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
        if check and r.returncode != 0:
            raise RuntimeError(
                f"services.sh {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
            )
        return r

    def processes(self) -> dict[str, dict]:
        """services.sh status --json: service -> {pid, state, uptime, port, ready, log}."""
        out = self.sh("status", "--json", check=False).stdout
        return {r["service"]: r for r in json.loads(out or "[]")}

    def all_ready(self) -> bool:
        procs = self.processes()
        return bool(procs) and all(p["ready"] for p in procs.values())

    def live_groups(self) -> set[str]:
        """The consumer groups the running services use: from each log's last "service started" line."""
        groups: set[str] = set()
        for svc in ALL:
            log = self.run_dir / "logs" / f"{svc}.log"
            if not log.exists():
                continue
            for line in reversed(log.read_text(errors="replace").splitlines()):
                if '"service started"' in line:
                    try:
                        groups.update(json.loads(line).get("consumers") or [])
                    except ValueError:
                        continue
                    break
        return groups

    def tool(self, *args: str, timeout: float = 300) -> None:
        r = subprocess.run(
            [str(ROOT / ".venv/bin/omni"), *args], env=self.env, cwd=ROOT, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip
        if r.returncode != 0:
            raise RuntimeError(f"omni {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")


async def bring_up(stack: Stack, db_prefix: str) -> None:
    """Fresh databases, topics, migrations, every service under supervisord, the demo data seeded."""
    from omni_chassis.testing import recreate_database

    from ..client import gateway
    from ..seed import seed
    from ..waits import wait_for_catalog

    stack.sh("stop", check=False)
    server = stack.env["DATABASE_URL"]
    for svc in SERVICES:
        await recreate_database(server, f"{db_prefix}{svc}")
    stack.tool("topics", "create")
    stack.tool("migrate", *SERVICES)
    stack.sh("start", timeout=400)
    async with gateway(stack.gateway, "dev-admin-key") as client:
        await seed(client)
        await wait_for_catalog(client)


async def wait_all_ready(stack: Stack, timeout: float) -> bool:
    """Until every service answers /health/ready (supervisord restarts the killed ones)."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(stack.all_ready):
            return True
        await asyncio.sleep(0.5)
    return False


async def gateway_answers(stack: Stack) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as c:
            return (await c.get(f"{stack.gateway}/health/ready")).status_code == 200
    except httpx.HTTPError:
        return False
