"""Issue #9 (part): for each of the six channels the SIMULATOR pushes a signed order (it reaches `allocated`),
then a refund and a close of it; both arrive as events on the channel orders topic and in
`GET /after-sales`, once each."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

sys.path.insert(0, str(Path(__file__).parent))
from helpers import SHOP, connect_shop, tid_of, wait_status
from test_platform_orders import APP_KEY, FIXTURES, SECRET, shop_with_listings

from omni_contracts import decode
from omni_tools.platform_orders import sample_order
from omni_tools.tmall import Line, trade

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

SIM_NAME = {"tmall": "taobao"}
CLOSE = {"jd": ("orderState", "TRADE_CANCELED"), "douyin": ("order_status", 4),
         "xiaohongshu": ("orderStatus", 9), "youzan": ("status", "TRADE_CLOSED")}  # fmt: skip


@pytest.fixture
async def orders_topic(e2e_stack):
    """A consumer of the channel orders topic from its end now (every partition): what arrives after."""
    env = e2e_stack["env"]
    topic = f"{env['OMNI_TOPIC_PREFIX']}omni.channel.orders"
    consumer = AIOKafkaConsumer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"], enable_auto_commit=False)
    await consumer.start()
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    if not parts:
        await consumer._client.force_metadata_update()
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    consumer.assign(parts)
    await consumer.seek_to_end(*parts)
    for tp in parts:
        await consumer.position(tp)
    yield consumer
    await consumer.stop()


async def events_for(consumer: AIOKafkaConsumer, key: str, types: set[str], timeout: float = 90) -> list[Any]:
    found: list[Any] = []
    deadline = time.monotonic() + timeout
    while {e.event_type for e in found} < types and time.monotonic() < deadline:
        batch = await consumer.getmany(timeout_ms=500)
        for records in batch.values():
            for rec in records:
                if rec.key and rec.key.decode() == key:
                    env = decode(rec.value, [(k, v) for k, v in rec.headers])
                    if env.event_type in types:
                        found.append(env)
    return found


def order_doc(channel: str, close: bool = False, doc: dict | None = None) -> tuple[dict[str, Any], str]:
    if channel == "tmall":
        d = trade([Line("BEAN-ETH-500", 1)], status="TRADE_CLOSED" if close else "WAIT_SELLER_SEND_GOODS",
                  tid=tid_of(doc) if doc else None)  # fmt: skip
        return d, tid_of(d)
    d, oid = (doc, "") if doc else sample_order(FIXTURES, channel)
    if close:
        if channel == "pdd":
            d["order_info_get_response"]["order_info"]["refund_status"] = 4
        else:
            key, value = CLOSE[channel]
            target = {"jd": lambda: d["jingdong_pop_order_get_responce"]["orderDetailInfo"]["orderInfo"],
                      "douyin": lambda: d["data"]["shop_order_detail"], "xiaohongshu": lambda: d["data"],
                      "youzan": lambda: d["full_order_info"]["order_info"]}[channel]()  # fmt: skip
            target[key] = value
    return d, oid


@pytest.mark.parametrize("channel", ["tmall", "jd", "pdd", "douyin", "xiaohongshu", "youzan"])
async def test_the_simulator_pushes_an_order_a_refund_and_a_close(gw, e2e_stack, orders_topic, channel):
    sim, name = e2e_stack["sim"], SIM_NAME.get(channel, channel)
    if channel == "tmall":
        await connect_shop(gw, sim)
        shop_id = SHOP
    else:
        shop_id = await shop_with_listings(gw, channel)
        on_sim = {"shop_id": shop_id, "app_key": APP_KEY, "secret": SECRET, "session": "e2e-token"}
        (await gw.put(f"{sim}/_sim/{name}/shops", json=on_sim)).raise_for_status()

    doc, oid = order_doc(channel)
    oid = oid or tid_of(doc)
    r = await gw.post(f"{sim}/_sim/{name}/push/orders", json={"shop_id": shop_id, "order": doc})
    assert r.status_code == 200 and r.json()["status"] == 202, r.text
    assert r.json()["body"]["accepted"] is True, r.text
    await wait_status(gw, oid, {"allocated"}, timeout=120, channel=channel)

    push = {"shop_id": shop_id, "channel_order_id": oid, "kind": "return_and_refund"}
    r = await gw.post(f"{sim}/_sim/{name}/push/refunds", json=push)
    assert r.status_code == 200 and r.json()["status"] == 202, r.text
    assert r.json()["body"]["published"] is True, r.text
    closed, _ = order_doc(channel, close=True, doc=doc)
    r = await gw.post(f"{sim}/_sim/{name}/push/orders", json={"shop_id": shop_id, "order": closed})
    assert r.status_code == 200 and r.json()["status"] == 202, r.text
    assert r.json()["body"]["accepted"] is False, r.text

    found = await events_for(
        orders_topic, f"{channel}:{oid}", {"channel.refund.received", "channel.order.closed"}
    )
    by_type = {e.event_type: e.data for e in found}
    assert set(by_type) == {"channel.refund.received", "channel.order.closed"}, found
    assert by_type["channel.refund.received"].kind == "return_and_refund"
    assert by_type["channel.refund.received"].refund_cents > 0
    r = await gw.get("/api/channel/after-sales", params={"channel": channel, "channel_order_id": oid})
    assert r.status_code == 200, r.text
    assert sorted(i["kind"] for i in r.json()["items"]) == ["close", "refund"]
