"""JD, Pinduoduo, Douyin, Xiaohongshu and Youzan outbound end to end: real Kafka and PostgreSQL, the channel
app with its workers, the simulator in-process. For each platform, a listing's stock change reaches the
platform's item and is acknowledged, a shipped task is written back with the platform's carrier code, and a
second parcel of the same order is held as not sent."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_shipment_writeback import prefix  # noqa: F401
from test_stock_push import db, settings, sim  # noqa: F401

from omni_channel.app import build
from omni_channel.platforms import carriers
from omni_chassis.kafka import make_producer
from omni_chassis.testing import eventually
from omni_contracts import Topic, make_envelope
from omni_contracts.events.common import MaterialQty
from omni_contracts.events.fulfillment import ShippedV1
from omni_contracts.events.inventory import ListingStockChangedV1
from omni_contracts.events.order import OrderAcceptedV1, OrderLine, ShipTo

pytestmark = pytest.mark.integration
CHANNELS = ("jd", "pdd", "douyin", "xiaohongshu", "youzan")
BASES = {"jd_router_url": "/jd/routerjson", "pdd_router_url": "/pdd/api/router", "douyin_api_url": "/douyin",
         "xiaohongshu_api_url": "/xiaohongshu/api/open", "youzan_api_url": "/youzan/api"}  # fmt: skip
SECRET, TOKEN = "platform-secret-0123", "platform-token-1"


@pytest.fixture
async def channel(db, sim, prefix) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    urls = {k: str(sim.server.make_url(v)) for k, v in BASES.items()}
    app = build(settings(db, sim, prefix).model_copy(update=urls))
    ctx = app.router.lifespan_context(app)
    await ctx.__aenter__()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    for ch in CHANNELS:
        shop = {"shop_id": "S1", "app_key": f"{ch}-app", "secret": SECRET, "session": TOKEN}
        async with sim.http.put(sim.server.make_url(f"/_sim/{ch}/shops"), json=shop) as r:
            assert r.status == 200
        body = {"name": ch, "app_key": f"{ch}-app", "secret": SECRET, "session_key": TOKEN}
        assert (await client.put(f"/shops/{ch}/S1", json=body)).status_code == 201
    yield client
    await client.aclose()
    await ctx.__aexit__(None, None, None)


@pytest.fixture
async def send(kafka_bootstrap, prefix):  # noqa: F811
    producer = make_producer(kafka_bootstrap, "omni-test-outbound")
    await producer.start()

    async def go(topic: Topic, data: Any, key: str) -> None:
        env = make_envelope(data, producer="test", key=key)
        await producer.send_and_wait(prefix + topic, env.to_bytes(), key=key.encode(), headers=env.headers())

    yield go
    await producer.stop()


async def sim_get(sim, path: str) -> Any:  # noqa: F811
    async with sim.http.get(sim.server.make_url(path)) as r:
        return await r.json()


async def _state(client: httpx.AsyncClient, path: str, want: str) -> dict[str, Any] | None:
    r = await client.get(path)
    return r.json() if r.status_code == 200 and r.json()["state"] == want else None


@pytest.mark.parametrize("ch", CHANNELS)
async def test_stock_and_shipments_reach_the_platform(channel, sim, send, ch):  # noqa: F811
    item = {"num_iid": 7001, "shop_id": "S1", "skus": [{"sku_id": 8001, "quantity": 3}]}
    async with sim.http.put(sim.server.make_url(f"/_sim/{ch}/items"), json=item) as r:
        assert r.status == 200
    lid = f"L-{uuid.uuid4().hex[:8]}"
    stock = ListingStockChangedV1(listing_id=lid, channel=ch, shop_id="S1", channel_item_id="7001",
                                  channel_sku_id="8001", quantity=17, previous=None, seq=1, rules_version=1,
                                  computed_at=datetime.now(UTC))  # fmt: skip
    await send(Topic.LISTING_STOCK, stock, lid)
    await eventually(lambda: _state(channel, f"/push-status/{lid}", "acknowledged"), timeout=20)
    assert (await sim_get(sim, f"/_sim/{ch}/items/7001"))["skus"][0]["quantity"] == 17

    n = uuid.uuid4().int % 10**9
    order_id, platform_order = (
        f"O-{n}",
        {"jd": str(400_000_000_000 + n), "pdd": f"261203-{n:015d}"}.get(ch, f"{ch[:2].upper()}{n}"),
    )
    line = OrderLine(line_id="l1", channel_line_id="o1", sales_product_code="P", material_code="M", qty=1,
                     amount_cents=100)  # fmt: skip
    accepted = OrderAcceptedV1(
        order_id=order_id, channel=ch, shop_id="S1", ship_to=ShipTo(), lines=[line],
        channel_order_id=platform_order, goods_paid_cents=100, paid_cents=100,
    )  # fmt: skip
    await send(Topic.ORDER, accepted, order_id)
    for task, tracking in (("A", "SF-1"), ("B", "SF-2")):
        shipped = ShippedV1(task_id=f"T-{n}-{task}", order_id=order_id, node_code="WH", reservation_id="r",
                            carrier="SF", tracking_no=tracking, lines=[MaterialQty(material_code="M", qty=1)],
                            shipped_at=datetime.now(UTC))  # fmt: skip
        await send(Topic.FULFILLMENT, shipped, order_id)
        want = "acknowledged" if task == "A" else "unsupported"
        path = f"/shipment-writebacks/{shipped.task_id}"
        wb = await eventually(lambda p=path, w=want: _state(channel, p, w), timeout=20)
    assert "not sent" in wb["last_error"]
    [s] = (await sim_get(sim, f"/_sim/{ch}/shipments"))["shipments"]
    assert (s["tid"], s["out_sid"], s["company_code"]) == (
        platform_order,
        "SF-1",
        carriers.load().code_for(ch, "SF"),
    )
