"""The stock push end to end: real Kafka (the listing-stock topic under a prefix of its own), real PostgreSQL,
the channel app with its worker, and the platform simulator (in-process, on a free port). Every test follows
the flow to its end state on the simulator and in the push status."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp.test_utils import TestServer

import omni_channel
from omni_channel import consumers
from omni_channel.app import Settings, build
from omni_chassis.kafka import create_topics, make_producer
from omni_chassis.testing import eventually
from omni_contracts import Topic, make_envelope
from omni_contracts.events.inventory import ListingStockChangedV1
from omni_tools.sim.server import build as build_sim

pytestmark = pytest.mark.integration

MIGRATIONS = Path(omni_channel.__file__).parent / "migrations"
APP_KEY, SECRET, SESSION = "app-stock-1", "stock-secret-0123", "session-1"


def consumed_topics(prefix: str) -> list[str]:
    """Every topic the channel's consumer groups read, under the test's prefix (a group subscribing to a topic
    the broker does not have gets no partitions until its next metadata refresh)."""
    return sorted({prefix + t for spec in consumers.specs() for t in spec.topics})


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Sim:
    def __init__(self, server: TestServer, http: aiohttp.ClientSession) -> None:
        self.server, self.http = server, http

    @property
    def router(self) -> str:
        return str(self.server.make_url("/taobao/router/rest"))

    async def put(self, path: str, body: dict[str, Any]) -> Any:
        async with self.http.put(self.server.make_url(f"/_sim/taobao/{path}"), json=body) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        async with self.http.post(self.server.make_url(f"/_sim/taobao/{path}"), json=body) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async def quantity(self, num_iid: int, sku_id: int | None = None) -> int:
        async with self.http.get(self.server.make_url(f"/_sim/taobao/items/{num_iid}")) as r:
            item = await r.json()
        if sku_id is None:
            return item["num"]
        return next(s["quantity"] for s in item["skus"] if s["sku_id"] == sku_id)

    async def calls(self, method: str = "taobao.item.quantity.update") -> list[dict[str, Any]]:
        async with self.http.get(self.server.make_url("/_sim/taobao/calls"), params={"method": method}) as r:
            return (await r.json())["calls"]


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    server = TestServer(build_sim(seed=7))
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        s = Sim(server, http)
        await s.put("shops", {"shop_id": "TM-S", "app_key": APP_KEY, "secret": SECRET, "session": SESSION})
        yield s
    await server.close()


@pytest.fixture
async def db(make_database):
    return await make_database("channel", migrations=MIGRATIONS)


@pytest.fixture
async def prefix(kafka_bootstrap) -> str:
    p = f"t{uuid.uuid4().hex[:8]}."
    await create_topics(kafka_bootstrap, consumed_topics(p))
    return p


def settings(db, sim: Sim, prefix: str) -> Settings:
    return Settings(
        service_database_url=db.url,
        taobao_router_url=sim.router,
        topic_prefix=prefix,
        consumer_group_prefix=prefix,
        push_poll_s=0.2,
        push_backoff_first_s=0.05,
        push_backoff_max_s=0.4,
        push_timeout_s=1.0,
        drift_interval_s=0,
    )


class Channel:
    def __init__(self, app: Any, client: httpx.AsyncClient) -> None:
        self.app, self.client = app, client

    async def status(self, listing_id: str) -> dict[str, Any]:
        r = await self.client.get(f"/push-status/{listing_id}")
        return r.json() if r.status_code == 200 else {}


async def start(db, sim: Sim, prefix: str) -> tuple[Any, Any, httpx.AsyncClient]:
    app = build(settings(db, sim, prefix))
    ctx = app.router.lifespan_context(app)
    await ctx.__aenter__()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    return app, ctx, client


@pytest.fixture
async def channel(db, sim, prefix) -> AsyncIterator[Channel]:
    app, ctx, client = await start(db, sim, prefix)
    r = await client.put(
        "/shops/tmall/TM-S", json={"name": "S", "app_key": APP_KEY, "secret": SECRET, "session_key": SESSION}
    )
    assert r.status_code == 201 and SESSION not in r.text and r.json()["has_session_key"] is True
    yield Channel(app, client)
    await client.aclose()
    await ctx.__aexit__(None, None, None)


@pytest.fixture
async def publish(kafka_bootstrap, prefix):
    producer = make_producer(kafka_bootstrap, "omni-test-stock")
    await producer.start()

    async def send(listing_id: str, num_iid: int, quantity: int, seq: int, sku_id: int | None = None) -> None:
        data = ListingStockChangedV1(
            listing_id=listing_id,
            channel="tmall",
            shop_id="TM-S",
            channel_item_id=str(num_iid),
            channel_sku_id=str(sku_id) if sku_id else None,
            quantity=quantity,
            previous=None,
            seq=seq,
            rules_version=1,
            computed_at=datetime.now(UTC),
        )
        env = make_envelope(data, producer="inventory", key=listing_id)
        await producer.send_and_wait(
            prefix + Topic.LISTING_STOCK, env.to_bytes(), key=env.key.encode(), headers=env.headers()
        )

    yield send
    await producer.stop()


async def item(sim: Sim, num_iid: int, skus: list[int] | None = None, quantity: int = 0) -> None:
    body: dict[str, Any] = {"num_iid": num_iid, "shop_id": "TM-S", "quantity": quantity}
    if skus:
        body["skus"] = [{"sku_id": s, "outer_id": f"SKU-{s}", "quantity": quantity} for s in skus]
    await sim.put("items", body)


async def test_an_event_reaches_the_platform_and_is_acknowledged(channel, sim, publish):
    await item(sim, 5001, skus=[51, 52])
    lid = uid("L")
    await publish(lid, 5001, 17, seq=1, sku_id=52)
    await eventually(lambda: _eq(sim.quantity(5001, 52), 17), timeout=15)
    st = await eventually(lambda: _state(channel, lid, "acknowledged"), timeout=15)
    assert (st["pushed_qty"], st["pushed_seq"], st["platform_qty"], st["desired_qty"]) == (17, 1, 17, 17)
    assert st["history"][0]["outcome"] == "acknowledged"
    assert await sim.quantity(5001, 51) == 0  # the other SKU untouched
    page = (
        await channel.client.get("/push-status", params={"state": "acknowledged", "listing_id": lid})
    ).json()
    assert page["total"] == 1 and page["items"][0]["listing_id"] == lid


async def test_an_older_seq_is_ignored(channel, sim, publish):
    await item(sim, 5002)
    lid = uid("L")
    await publish(lid, 5002, 8, seq=5)
    await eventually(lambda: _state(channel, lid, "acknowledged"), timeout=15)
    await publish(lid, 5002, 3, seq=4)  # older: ignored
    sent = time.time()
    await publish(lid, 5002, 9, seq=6)  # a later marker, in order on the same partition
    st = await eventually(lambda: _pushed(channel, lid, 6), timeout=15)
    assert st["pushed_qty"] == 9 and await sim.quantity(5002) == 9
    calls = [c for c in await sim.calls() if c["params"]["num_iid"] == "5002"]
    assert [c["params"]["quantity"] for c in calls] == ["8", "9"]
    # on the event, not on a poll: the published number reaches the platform well within a second
    assert calls[-1]["at"] - sent < 1.0, calls[-1]["at"] - sent


async def test_thirty_percent_failures_every_listing_converges(channel, sim, publish):
    await sim.put("faults", {"failure_rate": 0.3})
    listings = {uid("L"): (6000 + i, 10 + i) for i in range(20)}
    for num_iid, _ in listings.values():
        await item(sim, num_iid)
    for lid, (num_iid, qty) in listings.items():
        await publish(lid, num_iid, qty, seq=1)

    async def converged() -> bool:
        shown = [await sim.quantity(n) for n, _ in listings.values()]
        states = [(await channel.status(lid)).get("state") for lid in listings]
        return shown == [q for _, q in listings.values()] and set(states) == {"acknowledged"}

    await eventually(converged, timeout=45, interval=0.3)
    outcomes = {c.get("outcome") for c in await sim.calls()}
    assert "failure" in outcomes  # the faults did happen


async def test_a_refusal_is_shown_and_not_retried(channel, sim, publish):
    await item(sim, 5003, skus=[31])
    lid = uid("L")
    await publish(lid, 5003, 4, seq=1, sku_id=99)  # no such SKU on the platform
    st = await eventually(lambda: _state(channel, lid, "refused"), timeout=15)
    assert "isv.sku-not-exist" in st["last_error"] and st["next_attempt_at"] is None
    # a marker pushed after it: once it is acknowledged the worker has been round more than once, and a
    # blind retry (backoff 0.05 s) would have gone out by then
    await item(sim, 5013)
    marker = uid("M")
    await publish(marker, 5013, 1, seq=1)
    await eventually(lambda: _state(channel, marker, "acknowledged"), timeout=15)
    await channel.app.state.push_worker.drain()
    assert len([c for c in await sim.calls() if c["params"]["num_iid"] == "5003"]) == 1
    listed = await channel.client.get("/push-status", params={"state": "refused", "listing_id": lid})
    assert listed.json()["total"] == 1
    # resync (the operator) sends it again, once
    r = await channel.client.post(f"/push-status/{lid}/resync")
    assert (r.status_code, r.json()) == (202, {"listing_id": lid, "state": "pending"})
    st = await eventually(lambda: _refused_again(channel, lid), timeout=10)
    assert len([c for c in await sim.calls() if c["params"]["num_iid"] == "5003"]) == 2
    assert (await channel.client.post("/push-status/nope/resync")).status_code == 404


async def test_drift_is_detected_and_resynced(channel, sim, publish):
    await item(sim, 5004)
    lid = uid("L")
    await publish(lid, 5004, 12, seq=1)
    await eventually(lambda: _state(channel, lid, "acknowledged"), timeout=15)
    await sim.post("items/5004/drift", {"quantity": 40})  # behind Omni's back
    r = await channel.client.post("/drift-checks")
    assert r.status_code == 200, r.text
    assert r.json()["drifted"] >= 1
    await eventually(lambda: _eq(sim.quantity(5004), 12), timeout=15)
    st = await eventually(lambda: _state(channel, lid, "acknowledged"), timeout=15)
    assert (st["drift_qty"], st["drifts"]) == (40, 1) and st["drift_seen_at"] is not None
    assert [h["kind"] for h in st["history"]] == ["push", "drift", "push"]
    assert (await sim.calls("taobao.item.seller.get"))[-1]["params"]["num_iid"] == "5004"


async def test_bad_credentials_show_on_the_shop_and_resume_after_put(channel, sim, publish):
    await item(sim, 5005)
    await channel.client.put(
        "/shops/tmall/TM-S",
        json={"name": "S", "app_key": APP_KEY, "secret": SECRET, "session_key": "expired-token"},
    )
    lid = uid("L")
    await publish(lid, 5005, 6, seq=1)
    st = await eventually(lambda: _state(channel, lid, "credentials"), timeout=15)
    assert "27" in st["last_error"]
    shop = (await channel.client.get("/shops/tmall/TM-S")).json()
    assert "Invalid Session" in shop["credentials_error"] and "expired-token" not in str(shop)
    r = await channel.client.put(
        "/shops/tmall/TM-S", json={"name": "S", "app_key": APP_KEY, "secret": SECRET, "session_key": SESSION}
    )
    assert r.json()["credentials_error"] is None
    await eventually(lambda: _eq(sim.quantity(5005), 6), timeout=15)
    await eventually(lambda: _state(channel, lid, "acknowledged"), timeout=15)


async def test_a_restart_mid_retry_still_converges(db, sim, prefix, publish):
    app, ctx, client = await start(db, sim, prefix)
    await client.put(
        "/shops/tmall/TM-S", json={"name": "S", "app_key": APP_KEY, "secret": SECRET, "session_key": SESSION}
    )
    await item(sim, 5006)
    await sim.put("faults", {"failure_rate": 1.0})
    lid = uid("L")
    await publish(lid, 5006, 21, seq=1)
    await eventually(lambda: _retrying(client, lid), timeout=15)
    await client.aclose()
    await ctx.__aexit__(None, None, None)  # the service stops while the push is failing
    await sim.put("faults", {"failure_rate": 0.0})
    app, ctx, client = await start(db, sim, prefix)  # a new process: everything is in the table
    try:
        await eventually(lambda: _eq(sim.quantity(5006), 21), timeout=20)
        st = await eventually(lambda: _state(Channel(app, client), lid, "acknowledged"), timeout=15)
        assert st["pushed_qty"] == 21
    finally:
        await client.aclose()
        await ctx.__aexit__(None, None, None)


async def test_push_status_inputs_are_validated(channel):
    r = await channel.client.get("/push-status", params={"state": "bogus", "limit": 0})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert {p["path"] for p in r.json()["problems"]} == {"query.state", "query.limit"}
    missing = await channel.client.get("/push-status/no-such-listing")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


async def _eq(value: Any, want: int) -> bool:
    return (await value) == want


async def _state(channel: Channel, lid: str, state: str) -> dict[str, Any] | None:
    st = await channel.status(lid)
    return st if st.get("state") == state else None


async def _pushed(channel: Channel, lid: str, seq: int) -> dict[str, Any] | None:
    st = await channel.status(lid)
    return st if st.get("pushed_seq") == seq and st.get("state") == "acknowledged" else None


async def _retrying(client: httpx.AsyncClient, lid: str) -> bool:
    r = await client.get(f"/push-status/{lid}")
    return r.status_code == 200 and r.json()["state"] == "retrying" and r.json()["attempts"] >= 2


async def _refused_again(channel: Channel, lid: str) -> bool:
    st = await channel.status(lid)
    return st.get("state") == "refused" and len(st["history"]) == 2
