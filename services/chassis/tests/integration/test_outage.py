"""The relay and the consumers across a Kafka outage, on a broker of the test's own (stopped for 60 s)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from omni_chassis import dlq as dlq_mod
from omni_chassis.testing import eventually

sys.path.insert(0, str(Path(__file__).parent))
from chaos_support import EFFECTS_DDL, private_kafka, probe_service

pytestmark = pytest.mark.integration

OUTAGE_S = 60
KEYS = [f"k{i}" for i in range(5)]


async def _scalar(db, sql, **params):
    async with db.transaction() as s:
        return (await s.execute(text(sql), params)).scalar()


async def test_kafka_stopped_for_a_minute_loses_nothing_keeps_order_and_dead_letters_nothing(make_database):
    db = await make_database("outage")
    async with db.transaction() as s:
        await s.execute(text(EFFECTS_DDL))
    async with private_kafka() as kafka, probe_service(db.dsn, kafka.bootstrap) as svc:
        sent: list[int] = []
        stop_writing = asyncio.Event()
        refused: list[str] = []

        async def writer() -> None:
            seq = 0
            async with httpx.AsyncClient(base_url=svc.url, timeout=10) as c:
                while not stop_writing.is_set():
                    r = await c.post("/probes", json={"seq": seq, "key": KEYS[seq % len(KEYS)]})
                    if r.status_code == 202:
                        sent.append(seq)
                    else:
                        refused.append(r.text)
                    seq += 1
                    await asyncio.sleep(0.05)

        async def ready() -> tuple[int, dict]:
            async with httpx.AsyncClient(base_url=svc.url, timeout=10) as c:
                r = await c.get("/health/ready")
                return r.status_code, r.json()

        task = asyncio.create_task(writer())
        try:
            await eventually(lambda: _scalar(db, "SELECT count(*) >= 20 FROM effects"), timeout=30)
            assert (await ready())[0] == 200
            await kafka.stop()
            down_at = time.monotonic()
            written_before = len(sent)
            seen_unready: dict = {}

            async def unready_for_the_relay():
                code, body = await ready()
                if code == 503 and body["checks"].get("outbox_relay") not in (None, "active", "standby"):
                    seen_unready.update(body)
                    return True
                return False

            await eventually(unready_for_the_relay, timeout=OUTAGE_S, interval=1)
            await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
            assert len(sent) > written_before + 100, (
                "the service stopped accepting writes while Kafka was down"
            )
            assert await _scalar(db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") > 100
            await kafka.start()
            await asyncio.sleep(3)
        finally:
            stop_writing.set()
            await task
        assert not refused, refused[:3]
        total = len(sent)
        await eventually(
            lambda: _scalar(db, "SELECT count(DISTINCT seq) = :n FROM effects", n=total),
            timeout=120,
            interval=0.5,
        )
        await eventually(lambda: ready_ok(svc.url), timeout=60, interval=0.5)

    # every event applied once (inbox), in order per key
    rows = await _all(db, "SELECT key, seq FROM effects ORDER BY pos")
    assert sorted(s for _, s in rows) == sorted(sent)
    for key in KEYS:
        seqs = [s for k, s in rows if k == key]
        assert seqs == sorted(seqs), f"key {key} out of order: {seqs[:20]}"
    assert await _scalar(db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
    assert seen_unready["checks"]["outbox_relay"].startswith(("failing", "behind", "down")), seen_unready


async def ready_ok(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        async with httpx.AsyncClient(base_url=url, timeout=5) as c:
            return (await c.get("/health/ready")).status_code == 200
    return False


async def _all(db, sql):
    async with db.transaction() as s:
        return [tuple(r) for r in await s.execute(text(sql))]


async def test_nothing_dead_lettered_across_the_outage_is_checked_on_the_dlq_itself(make_database):
    """A consumer whose database connections are cut (as a PostgreSQL restart does) retries; nothing reaches
    its DLQ, and every event is applied once."""
    db = await make_database("pgcut")
    async with db.transaction() as s:
        await s.execute(text(EFFECTS_DDL))
    async with private_kafka() as kafka, probe_service(db.dsn, kafka.bootstrap) as svc:
        dbname = db.dsn.rsplit("/", 1)[1].split("?")[0]
        n = 300
        async with httpx.AsyncClient(base_url=svc.url, timeout=10) as c:

            async def cut() -> None:
                for _ in range(6):
                    await asyncio.sleep(0.7)
                    async with db.transaction() as s:
                        await s.execute(
                            text(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = :d AND pid <> pg_backend_pid()"
                            ),
                            {"d": dbname},
                        )

            cutter = asyncio.create_task(cut())
            sent = 0
            for seq in range(n):
                for _ in range(50):  # a cut connection may fail this request: the client retries it
                    r = await c.post("/probes", json={"seq": seq, "key": KEYS[seq % len(KEYS)]})
                    if r.status_code == 202:
                        sent += 1
                        break
                    await asyncio.sleep(0.1)
                await asyncio.sleep(0.01)
            await cutter
        await eventually(lambda: _scalar(db, "SELECT count(DISTINCT seq) = :n FROM effects", n=n), timeout=90)
        assert await _scalar(db, "SELECT count(*) = count(DISTINCT event_id) FROM effects"), "applied twice"
        dead = await dlq_mod.read_all(kafka.bootstrap, svc.group, timeout_s=5)
        assert dead == [], [d.info for d in dead]
    assert _counted("omni_outbox_errors_total", service="probe") > 0, "the cuts never reached the relay"


def _counted(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    return sum(
        s.value
        for m in REGISTRY.collect()
        for s in m.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )
