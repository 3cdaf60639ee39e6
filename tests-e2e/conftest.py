"""The whole platform for the end-to-end tests: every service its own process, real Kafka and PostgreSQL.

The stack gets its own databases (`omni_e2e_<service>`, recreated per run), its own ports (18000+), its own
topics (`e2e.omni.*`) and consumer groups (`e2e.<group>`), so it runs beside a `make up` stack on one Kafka.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import connect_shop

from omni_chassis.settings import database_for
from omni_chassis.testing import recreate_database, repo_root
from omni_tools.seed import seed

SERVICES = ["product", "inventory", "order", "fulfillment", "finance", "channel"]
PORTS = {"gateway": 18000, **{s: 18001 + i for i, s in enumerate(SERVICES)}}
SIM_PORT = 18090  # the stack's own platform simulator (deploy/local/sim.sh)
ROOT = repo_root()
RUN_DIR = ROOT / ".data" / "e2e"


@pytest.fixture(scope="session")
def e2e_env(kafka_bootstrap: str, pg_server_url: str) -> dict[str, str]:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": pg_server_url,
        "OMNI_CONSUMER_GROUP_PREFIX": "e2e.",
        "OMNI_TOPIC_PREFIX": "e2e.",
        "OMNI_RUN_DIR": str(RUN_DIR),
        "OTEL_TRACES_FILE": str(RUN_DIR / "traces.jsonl"),
        "LOG_LEVEL": "INFO",
        "OMNI_SIM_PORT": str(SIM_PORT),
        "OMNI_SIM_DIR": str(RUN_DIR / "sim"),
        "OMNI_SIM_OMNI_URL": f"http://127.0.0.1:{PORTS['gateway']}",  # where the simulator pushes
        "OMNI_TAOBAO_ROUTER_URL": f"http://127.0.0.1:{SIM_PORT}/taobao/router/rest",
        "OMNI_JD_ROUTER_URL": f"http://127.0.0.1:{SIM_PORT}/jd/routerjson",
        "OMNI_PDD_ROUTER_URL": f"http://127.0.0.1:{SIM_PORT}/pdd/api/router",
        "OMNI_DOUYIN_API_URL": f"http://127.0.0.1:{SIM_PORT}/douyin",
        "OMNI_XIAOHONGSHU_API_URL": f"http://127.0.0.1:{SIM_PORT}/xiaohongshu/api/open",
        "OMNI_YOUZAN_API_URL": f"http://127.0.0.1:{SIM_PORT}/youzan/api",
        "OMNI_PUSH_BACKOFF_FIRST_S": "0.2",
        "OMNI_PUSH_BACKOFF_MAX_S": "2",
        "OMNI_DRIFT_INTERVAL_S": "2",
    }
    for svc, port in PORTS.items():
        env[f"{svc.upper()}_HTTP_PORT"] = str(port)
        if svc != "gateway":
            env[f"{svc.upper()}_DATABASE_URL"] = database_for(pg_server_url, f"omni_e2e_{svc}")
            env[f"GATEWAY_{svc.upper()}_URL"] = f"http://127.0.0.1:{port}"
    return env


def _run(cmd: list[str], env: dict[str, str], timeout: float = 300) -> None:
    result = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )


@pytest.fixture(scope="session")
def e2e_stack(e2e_env: dict[str, str], pg_server_url: str) -> Iterator[dict[str, object]]:
    services_sh = str(ROOT / "deploy/local/services.sh")
    sim_sh = str(ROOT / "deploy/local/sim.sh")
    subprocess.run([services_sh, "stop"], env=e2e_env, cwd=ROOT, capture_output=True)
    subprocess.run([sim_sh, "stop"], env=e2e_env, cwd=ROOT, capture_output=True)

    async def fresh_databases() -> None:
        for svc in SERVICES:
            await recreate_database(pg_server_url, f"omni_e2e_{svc}")

    asyncio.run(fresh_databases())
    traces = Path(e2e_env["OTEL_TRACES_FILE"])
    traces.unlink(missing_ok=True)
    _run([str(ROOT / ".venv/bin/omni"), "topics", "create"], e2e_env)
    _run([str(ROOT / ".venv/bin/omni"), "migrate", *SERVICES], e2e_env)
    _run([sim_sh, "start"], e2e_env, timeout=60)
    _run([services_sh, "start"], e2e_env, timeout=180)
    gateway = f"http://127.0.0.1:{PORTS['gateway']}"
    sim = f"http://127.0.0.1:{SIM_PORT}"

    async def load() -> None:
        async with httpx.AsyncClient(
            base_url=gateway, headers={"X-API-Key": "dev-admin-key"}, timeout=30
        ) as c:
            await seed(c)
            await connect_shop(c, sim)

    try:
        asyncio.run(load())
        yield {
            "gateway": gateway,
            "env": e2e_env,
            "traces": traces,
            "ports": PORTS,
            "log": RUN_DIR / "logs",  # one <service>.log per service (supervisord)
            "sim": sim,
        }
    finally:
        subprocess.run([services_sh, "stop"], env=e2e_env, cwd=ROOT, capture_output=True)
        subprocess.run([sim_sh, "stop"], env=e2e_env, cwd=ROOT, capture_output=True)


@pytest.fixture
async def gw(e2e_stack: dict[str, object]) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the e2e stack's gateway with the admin key (what most tests act as)."""
    async with httpx.AsyncClient(
        base_url=str(e2e_stack["gateway"]), headers={"X-API-Key": "dev-admin-key"}, timeout=30
    ) as c:
        yield c
