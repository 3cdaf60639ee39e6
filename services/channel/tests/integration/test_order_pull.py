"""The durable order pull end to end: real PostgreSQL (the timers and the cursor), real Kafka (the
`channel.order.received` events, read back), the channel app with its timer loop, and the platform
simulator in-process with 10,000 orders. The service is stopped in the middle of a page (fetched, not yet
recorded) and started again; every order is published exactly once, across overlapping windows, platform
failures and the restart; a changed order is published again."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp.test_utils import TestServer
from aiokafka import AIOKafkaConsumer, TopicPartition

import omni_channel
from omni_channel.app import Settings, build
from omni_chassis.kafka import create_topics
from omni_chassis.testing import eventually
from omni_contracts import Topic, decode
from omni_tools.sim.server import build as build_sim

pytestmark = pytest.mark.integration

MIGRATIONS = Path(omni_channel.__file__).parent / "migrations"
SHOPS = {
    "jd": {"shop_id": "JD-P", "app_key": "jd-pull-app", "secret": "jd-pull-secret-1", "session": "jd-tok"},
    "pdd": {"shop_id": "PDD-P", "app_key": "pdd-pull-app", "secret": "pdd-pull-secret-1", "session": "pdd-t"},
}


@pytest.fixture
async def sim() -> AsyncIterator[tuple[TestServer, aiohttp.ClientSession]]:
    server = TestServer(build_sim(seed=3))
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield server, http
    await server.close()


@pytest.fixture
async def db(make_database):
    return await make_database("channel", migrations=MIGRATIONS)


def settings(db, base: str, prefix: str) -> Settings:
    return Settings(
        service_database_url=db.url,
        jd_router_url=f"{base}/jd/routerjson",
        pdd_router_url=f"{base}/pdd/api/router",
        topic_prefix=prefix,
        consumer_group_prefix=prefix,
        push_enabled=False,
        writeback_enabled=False,
        consumers_enabled=False,  # the pull publishes; nothing here consumes
        pull_lookback_s=7200,
        pull_interval_s=0.5,
        push_timeout_s=2.0,
    )


class Channel:
    """The channel app started on the test's database; `stop` is its shutdown (a firing in progress is
    cancelled: its transaction never commits)."""

    def __init__(self, db, base: str, prefix: str, hang_at_page: int | None = None) -> None:
        self.app = build(settings(db, base, prefix))
        self.hang_at_page, self.pages, self.hanging = hang_at_page, 0, asyncio.Event()

    async def start(self) -> httpx.AsyncClient:
        self.ctx = self.app.router.lifespan_context(self.app)
        await self.ctx.__aenter__()
        runner = self.app.state.pull_runner
        runner.schedule = dataclasses.replace(runner.schedule, backoff_first=timedelta(seconds=0.05))
        real = runner.fetcher

        def fetcher(channel: str, keys: Any) -> Any:
            fetch = real(channel, keys)

            async def page(window: Any, n: int, size: int) -> Any:
                got = await fetch(window, n, size)
                self.pages += 1
                if self.hang_at_page is not None and self.pages >= self.hang_at_page:
                    self.hanging.set()
                    await asyncio.Event().wait()  # fetched, never recorded: the process dies here
                return got

            return page

        runner.set_fetcher(fetcher)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://t")
        return self.client

    async def stop(self) -> None:
        await self.client.aclose()
        await self.ctx.__aexit__(None, None, None)


async def read_events(bootstrap: str, topic: str, want: int, timeout: float = 120) -> list[Any]:
    """The topic's events from the beginning until at least `want` have arrived."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        out: list[Any] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while len(out) < want:
            assert asyncio.get_running_loop().time() < deadline, f"{len(out)} of {want} events arrived"
            for recs in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(decode(r.value, r.headers) for r in recs)
        return out
    finally:
        await consumer.stop()


async def cursor_of(client: httpx.AsyncClient, channel: str, shop_id: str) -> dict[str, Any]:
    r = await client.get(f"/pull-cursors/{channel}/{shop_id}")
    return r.json() if r.status_code == 200 else {}


@pytest.mark.parametrize(("channel", "count"), [("jd", 10_000), ("pdd", 2_000)])
async def test_every_order_is_published_once_across_windows_failures_and_a_restart_mid_page(
    db, sim, kafka_bootstrap, channel, count
) -> None:
    server, http = sim
    base, shop = str(server.make_url("")).rstrip("/"), SHOPS[channel]
    prefix = f"t{uuid.uuid4().hex[:8]}."
    topic = prefix + Topic.CHANNEL_ORDERS
    await create_topics(kafka_bootstrap, [topic])
    assert (await http.put(f"{base}/_sim/{channel}/shops", json=shop)).status == 200
    made = await http.post(
        f"{base}/_sim/{channel}/orders/generate",
        json={"shop_id": shop["shop_id"], "count": count, "spread_s": 3000},
    )
    assert (await made.json())["count"] == count
    generated_at = datetime.now(UTC)
    await http.put(f"{base}/_sim/{channel}/faults", json={"failure_rate": 0.05})

    first = Channel(db, base, prefix, hang_at_page=count // 100 // 2)
    client = await first.start()
    body = {
        "name": "pull",
        "app_key": shop["app_key"],
        "secret": shop["secret"],
        "session_key": shop["session"],
    }
    assert (await client.put(f"/shops/{channel}/{shop['shop_id']}", json=body)).status_code == 201
    await asyncio.wait_for(first.hanging.wait(), timeout=120)  # half way, in the middle of a page
    before = await cursor_of(client, channel, shop["shop_id"])
    assert 0 < before["published"] < count and before["window_start"] is not None
    await first.stop()

    second = Channel(db, base, prefix)
    client = await second.start()  # the timer survived: the sync resumes at the page that was lost
    try:

        async def caught_up() -> dict[str, Any] | None:
            c = await cursor_of(client, channel, shop["shop_id"])
            done = c.get("cursor") and c["cursor"] >= generated_at.isoformat() and c["window_start"] is None
            return c if done else None

        state = await eventually(caught_up, timeout=180, interval=0.2)
        assert state["published"] == count and state["fetched"] > count  # overlaps fetched some twice
        events = await read_events(kafka_bootstrap, topic, count)
        ids = Counter(e.data.channel_order_id for e in events if e.event_type == "channel.order.received")
        assert len(ids) == count and set(ids.values()) == {1}  # each exactly once
        assert {e.data.shop_id for e in events} == {shop["shop_id"]}

        changed = next(iter(ids))
        await http.put(f"{base}/_sim/{channel}/faults", json={})
        assert (await http.post(f"{base}/_sim/{channel}/orders/{changed}/modify")).status == 200
        assert (await client.post(f"/pull-cursors/{channel}/{shop['shop_id']}/run")).status_code == 202
        again = await read_events(kafka_bootstrap, topic, count + 1)
        twice = Counter(e.data.channel_order_id for e in again)  # partitions interleave: count, don't index
        assert len(again) == count + 1 and twice[changed] == 2 and len(twice) == count
        listed = (await client.get("/pull-cursors", params={"channel": channel})).json()
        assert listed["total"] == 1 and listed["items"][0]["failures"] == 0
    finally:
        await second.stop()


async def test_a_platform_that_refuses_the_keys_is_shown_and_retried_not_dropped(db, sim) -> None:
    server, http = sim
    base = str(server.make_url("")).rstrip("/")
    prefix = f"t{uuid.uuid4().hex[:8]}."
    shop = SHOPS["jd"]
    assert (await http.put(f"{base}/_sim/jd/shops", json=shop)).status == 200
    app = Channel(db, base, prefix)
    client = await app.start()
    try:
        body = {"name": "pull", "app_key": shop["app_key"], "secret": "the-wrong-secret", "session_key": "x"}
        assert (await client.put(f"/shops/jd/{shop['shop_id']}", json=body)).status_code == 201

        async def failing() -> dict[str, Any] | None:
            c = await cursor_of(client, "jd", shop["shop_id"])
            return c if c.get("failures", 0) >= 2 else None

        state = await eventually(failing, timeout=30)
        assert "error_response" in state["last_error"] and state["cursor"] is None
        assert "the-wrong-secret" not in str(state)
        listed = (await client.get("/pull-cursors", params={"failing": "true"})).json()
        assert [c["shop_id"] for c in listed["items"]] == [shop["shop_id"]]
        # fixed: saving the shop runs the sync at once
        body |= {"secret": shop["secret"], "session_key": shop["session"]}
        assert (await client.put(f"/shops/jd/{shop['shop_id']}", json=body)).status_code == 200

        async def recovered() -> dict[str, Any] | None:
            c = await cursor_of(client, "jd", shop["shop_id"])
            return c if c.get("failures") == 0 and c.get("cursor") else None

        assert (await eventually(recovered, timeout=30))["last_error"] is None
        assert (await client.post("/pull-cursors/jd/NOPE/run")).status_code == 404
        assert (await client.post("/pull-cursors/tmall/X/run")).status_code == 422  # no pull
    finally:
        await app.stop()
