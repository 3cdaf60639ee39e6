"""What the outage tests share: a Kafka broker of their own (so stopping it disturbs nobody else), a probe
service built with the real app factory and served by uvicorn in this process, and small DB helpers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import text

from omni_chassis.app import Uow, create_app
from omni_chassis.consumer import ConsumerSpec
from omni_chassis.settings import ServiceSettings
from omni_chassis.testing import repo_root
from omni_contracts import Topic
from omni_contracts.events.diagnostics import ProbeV1

EFFECTS_DDL = (
    "CREATE TABLE IF NOT EXISTS effects ("
    " pos bigserial PRIMARY KEY, consumer text NOT NULL, event_id uuid NOT NULL,"
    " key text NOT NULL, seq int NOT NULL)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PrivateKafka:
    """A broker on its own ports and data directory, started and stopped with deploy/local/kafka.sh."""

    port: int
    controller_port: int
    data_dir: Path

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
        env |= {
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "KAFKA_DATA_DIR": str(self.data_dir),
            "KAFKA_HEAP_OPTS": "-Xms128m -Xmx384m",
        }
        return env

    def _run(self, cmd: str) -> None:
        script = repo_root() / "deploy/local/kafka.sh"
        r = subprocess.run([str(script), cmd], env=self._env(), capture_output=True, text=True, timeout=180)
        if r.returncode != 0:
            raise RuntimeError(f"kafka.sh {cmd} failed: {r.stdout[-2000:]} {r.stderr[-2000:]}")

    async def start(self) -> None:
        await asyncio.to_thread(self._run, "start")

    async def stop(self) -> None:
        await asyncio.to_thread(self._run, "stop")


@contextlib.asynccontextmanager
async def private_kafka() -> AsyncIterator[PrivateKafka]:
    data = Path(tempfile.mkdtemp(prefix="omni-kafka-"))
    k = PrivateKafka(free_port(), free_port(), data)
    await k.start()
    try:
        yield k
    finally:
        with contextlib.suppress(Exception):
            await k.stop()
        shutil.rmtree(data, ignore_errors=True)


class ProbeIn(BaseModel):
    seq: int = Field(ge=0)
    key: str


async def record(uow: Any, consumer: str, env: Any) -> None:
    await uow.session.execute(
        text("INSERT INTO effects (consumer, event_id, key, seq) VALUES (:c, :e, :k, :s)"),
        {"c": consumer, "e": env.event_id, "k": env.key, "s": env.data.seq},
    )


async def accept_probe(uow: Any, body: ProbeIn) -> dict[str, Any]:
    """The probe service's one use case: accept a write, stage its event."""
    async with uow:
        env = uow.emit(ProbeV1(seq=body.seq, sent_at_ns=0), key=body.key)
    return {"event_id": str(env.event_id)}


def probe_router() -> APIRouter:
    r = APIRouter()

    @r.post("/probes", status_code=202)
    async def post_probe(body: ProbeIn, uow: Uow) -> dict[str, Any]:
        return await accept_probe(uow, body)

    return r


@dataclass
class ProbeService:
    url: str
    group: str
    prefix: str
    app: Any

    @property
    def topic(self) -> str:
        return self.prefix + Topic.DIAGNOSTICS


@contextlib.asynccontextmanager
async def probe_service(db_url: str, bootstrap: str, **settings: Any) -> AsyncIterator[ProbeService]:
    """The probe service on the real chassis (relay, consumers, parking, health), served on a free port."""
    prefix = f"chaos{uuid.uuid4().hex[:8]}."
    group = "probe-sink"

    async def handle(uow: Any, env: Any) -> None:
        await record(uow, prefix + group, env)

    port = free_port()
    cfg = ServiceSettings(
        service_name="probe",
        http_port=port,
        service_database_url=db_url,
        KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        OMNI_TOPIC_PREFIX=prefix,
        OMNI_CONSUMER_GROUP_PREFIX=prefix,
        **settings,
    )
    spec = ConsumerSpec(group, [Topic.DIAGNOSTICS], handler=handle, session_timeout_ms=6000)
    app = create_app(cfg, title="probe", routers=[probe_router()], consumers=[spec])
    from omni_chassis.kafka import create_topics

    await create_topics(bootstrap, [prefix + Topic.DIAGNOSTICS])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=5) as c:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if (await c.get("/health/live")).status_code == 200 and server.started:
                    break
            await asyncio.sleep(0.1)
    try:
        yield ProbeService(url, prefix + group, prefix, app)
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 30)
