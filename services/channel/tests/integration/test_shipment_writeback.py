"""The shipment write-back end to end: real Kafka (omni.order and omni.fulfillment under a prefix of the
test's own), real PostgreSQL, the channel app with its worker, and the platform simulator in-process. A
shipped task reaches the simulator as `taobao.logistics.offline.send`; a transient failure is retried; a
refusal is shown and not retried."""

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
from test_stock_push import APP_KEY, SECRET, SESSION, consumed_topics, db, settings, sim  # noqa: F401

from omni_channel.app import build
from omni_chassis.kafka import create_topics, make_producer
from omni_chassis.testing import eventually
from omni_contracts import Topic, make_envelope
from omni_contracts.events.common import MaterialQty
from omni_contracts.events.fulfillment import ShippedV1
from omni_contracts.events.order import OrderAcceptedV1, OrderLine, ShipTo

pytestmark = pytest.mark.integration


@pytest.fixture
async def prefix(kafka_bootstrap) -> str:
    p = f"t{uuid.uuid4().hex[:8]}."
    topics = consumed_topics(p)
    await create_topics(kafka_bootstrap, topics)
    # the broker knows them before the app subscribes (a consumer subscribing to a topic missing from its
    # metadata gets no partitions until its next metadata refresh)
    producer = make_producer(kafka_bootstrap, "omni-test-topics")
    await producer.start()
    try:
        for t in topics:
            await eventually(lambda t=t: producer.partitions_for(t), timeout=10)
    finally:
        await producer.stop()
    return p


@pytest.fixture
async def channel(db, sim, prefix) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    app = build(settings(db, sim, prefix))
    ctx = app.router.lifespan_context(app)
    await ctx.__aenter__()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    r = await client.put(
        "/shops/tmall/TM-S", json={"name": "S", "app_key": APP_KEY, "secret": SECRET, "session_key": SESSION}
    )
    assert r.status_code == 201
    yield client
    await client.aclose()
    await ctx.__aexit__(None, None, None)


@pytest.fixture
async def publish(kafka_bootstrap, prefix):
    producer = make_producer(kafka_bootstrap, "omni-test-writeback")
    await producer.start()

    async def accepted(order_id: str, tid: int, channel: str = "tmall") -> None:
        data = OrderAcceptedV1(
            order_id=order_id,
            channel=channel,
            shop_id="TM-S",
            channel_order_id=str(tid),
            ship_to=ShipTo(name="x", phone="1", city="杭州"),
            lines=[
                OrderLine(
                    line_id="l1",
                    channel_line_id="o1",
                    sales_product_code="P",
                    material_code="M",
                    qty=1,
                    amount_cents=100,
                )
            ],
            goods_paid_cents=100,
            paid_cents=100,
        )
        await send(prefix + Topic.ORDER, make_envelope(data, producer="order", key=order_id))

    async def shipped(order_id: str, task_id: str, carrier: str = "SF", tracking_no: str = "SF100") -> None:
        data = ShippedV1(
            task_id=task_id,
            order_id=order_id,
            node_code="WH1",
            reservation_id="r1",
            carrier=carrier,
            tracking_no=tracking_no,
            lines=[MaterialQty(material_code="M", qty=1)],
            shipped_at=datetime.now(UTC),
        )
        await send(prefix + Topic.FULFILLMENT, make_envelope(data, producer="fulfillment", key=order_id))

    async def send(topic: str, env: Any) -> None:
        await producer.send_and_wait(topic, env.to_bytes(), key=env.key.encode(), headers=env.headers())

    yield accepted, shipped
    await producer.stop()


def ids() -> tuple[str, str, int]:
    n = uuid.uuid4().int % 10**12
    return f"O-{n}", f"T-{n}", 3_900_000_000_000 + n


async def state(channel: httpx.AsyncClient, wid: str, want: str) -> dict[str, Any] | None:
    r = await channel.get(f"/shipment-writebacks/{wid}")
    return r.json() if r.status_code == 200 and r.json()["state"] == want else None


async def shipments(sim, tid: int) -> list[dict[str, Any]]:  # noqa: F811
    async with sim.http.get(sim.server.make_url("/_sim/taobao/shipments"), params={"tid": str(tid)}) as r:
        return (await r.json())["shipments"]


async def test_a_shipped_task_is_written_back_to_the_platform(channel, sim, publish):  # noqa: F811
    accepted, shipped = publish
    order_id, task_id, tid = ids()
    await accepted(order_id, tid)
    await shipped(order_id, task_id, carrier="sf", tracking_no="SF1234567890")
    wb = await eventually(lambda: state(channel, task_id, "acknowledged"), timeout=20)
    assert (wb["channel"], wb["channel_order_id"], wb["company_code"]) == ("tmall", str(tid), "SF")
    [s] = await shipments(sim, tid)
    assert (s["out_sid"], s["company_code"], s["shop_id"]) == ("SF1234567890", "SF", "TM-S")
    page = (await channel.get("/shipment-writebacks", params={"order_id": order_id})).json()
    assert page["total"] == 1 and page["items"][0]["writeback_id"] == task_id
    await shipped(order_id, task_id, carrier="sf", tracking_no="SF1234567890")  # a redelivery: nothing new
    assert (await channel.get("/shipment-writebacks", params={"order_id": order_id})).json()["total"] == 1


async def test_a_shipment_before_its_order_waits_then_goes_out(channel, sim, publish):  # noqa: F811
    accepted, shipped = publish
    order_id, task_id, tid = ids()
    await shipped(order_id, task_id)
    wb = await eventually(lambda: state(channel, task_id, "waiting"), timeout=20)
    assert wb["channel"] is None and "order.accepted" in wb["last_error"]
    assert (await channel.post(f"/shipment-writebacks/{task_id}/retry")).status_code == 409
    await accepted(order_id, tid)
    await eventually(lambda: state(channel, task_id, "acknowledged"), timeout=20)
    assert len(await shipments(sim, tid)) == 1


async def test_a_transient_failure_is_retried(channel, sim, publish):  # noqa: F811
    accepted, shipped = publish
    await sim.put("faults", {"failure_rate": 1.0})
    order_id, task_id, tid = ids()
    await accepted(order_id, tid)
    await shipped(order_id, task_id)
    wb = await eventually(lambda: state(channel, task_id, "retrying"), timeout=20)
    assert wb["attempts"] >= 1 and wb["next_attempt_at"] is not None and wb["last_error"]
    await sim.put("faults", {"failure_rate": 0.0})
    wb = await eventually(lambda: state(channel, task_id, "acknowledged"), timeout=20)
    assert len(await shipments(sim, tid)) == 1


async def test_a_refusal_is_shown_and_not_retried(channel, sim, publish):  # noqa: F811
    accepted, shipped = publish
    order_id, task_id, tid = ids()
    await sim.post(f"trades/{tid}/close", {})
    await accepted(order_id, tid)
    await shipped(order_id, task_id)
    wb = await eventually(lambda: state(channel, task_id, "refused"), timeout=20)
    assert wb["next_attempt_at"] is None and wb["sub_code"] == "isv.logistics-offline-service-error:B04"
    assert "交易已关闭" in wb["last_error"]
    calls = [c for c in await sim.calls("taobao.logistics.offline.send") if c["params"]["tid"] == str(tid)]
    assert len(calls) == 1  # not retried
    page = (
        await channel.get("/shipment-writebacks", params={"state": "refused", "channel_order_id": str(tid)})
    ).json()
    assert page["total"] == 1
    # a carrier with no Taobao code is refused locally, before any call
    order2, task2, tid2 = ids()
    await accepted(order2, tid2)
    await shipped(order2, task2, carrier="PIGEON")
    wb = await eventually(lambda: state(channel, task2, "refused"), timeout=20)
    assert "PIGEON" in wb["last_error"] and wb["company_code"] is None and not await shipments(sim, tid2)
    # an own-mall order has no write-back to make
    order3, task3, _ = ids()
    await accepted(order3, 1, channel="ownmall")
    await shipped(order3, task3)
    await eventually(lambda: state(channel, task3, "unsupported"), timeout=20)
    # retry after the cause is fixed: sent again
    assert (await channel.post(f"/shipment-writebacks/{task_id}/retry")).status_code == 202
    await eventually(lambda: state(channel, task_id, "refused"), timeout=20)
    calls = [c for c in await sim.calls("taobao.logistics.offline.send") if c["params"]["tid"] == str(tid)]
    assert len(calls) == 2
    assert (await channel.post("/shipment-writebacks/nope/retry")).status_code == 404
