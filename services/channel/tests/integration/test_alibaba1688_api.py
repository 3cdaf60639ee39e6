"""1688 (`alibaba`) through the channel's real webhook and shop routes on PostgreSQL and Kafka: a shop saved
with `accepts_on_account` over REST; an order on credit terms (账期 period) is published on the channel orders
topic with payment on_account and payment_terms period; the same order for a shop that does not accept orders
on account is answered `accepted: false` with the reason and publishes nothing; a cancel publishes
`channel.order.closed`; only alibaba shops may accept orders on account."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text

import omni_channel
from omni_channel import api
from omni_channel.app import Settings, build
from omni_chassis.kafka import create_topics
from omni_contracts import decode
from omni_contracts.topics import Topic
from omni_tools.platform_orders import sample_order, signed_order

pytestmark = pytest.mark.integration

MIGRATIONS = Path(omni_channel.__file__).parent / "migrations"
FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = datetime(2025, 6, 12, 2, 20, 0, tzinfo=UTC)
SECRET, APP_KEY = "ali-platform-secret-0123", "ali-app-key-1"


@pytest.fixture
async def db(make_database):
    return await make_database("channel", migrations=MIGRATIONS)


@pytest.fixture
async def topic(kafka_bootstrap) -> tuple[str, str]:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    await create_topics(kafka_bootstrap, [prefix + Topic.CHANNEL_ORDERS])
    return prefix, prefix + Topic.CHANNEL_ORDERS


@pytest.fixture
async def client(db, topic) -> AsyncIterator[httpx.AsyncClient]:
    prefix, _ = topic
    app = build(Settings(service_database_url=db.url, topic_prefix=prefix, consumer_group_prefix=prefix,
                         push_enabled=False, writeback_enabled=False, pull_enabled=False,
                         consumers_enabled=False))  # fmt: skip
    app.dependency_overrides[api.clock] = lambda: NOW
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            yield c


async def shop(client, shop_id: str, **extra: Any) -> httpx.Response:
    body = {"name": "B2B", "app_key": APP_KEY, "secret": SECRET, **extra}
    return await client.put(f"/shops/alibaba/{shop_id}", json=body)


def on_account(d: dict[str, Any]) -> dict[str, Any]:
    base = d["result"]["baseInfo"]
    base.update(status="waitbuyerpay", tradeTypeCode="period", tradeType="10")
    del base["payTime"]
    d["result"]["tradeTerms"] = [{"payStatus": "1", "payWay": "7"}]
    d["result"]["orderBizInfo"]["accountPeriodTime"] = "2025-07-12 00:00:00"
    return d


async def post(client, shop_id: str, d: dict[str, Any]) -> httpx.Response:
    query, body = signed_order("alibaba", shop_id, d, APP_KEY, SECRET, NOW)
    return await client.post("/channels/alibaba/orders", params=query, content=body,
                             headers={"content-type": "application/json"})  # fmt: skip


async def outbox(db) -> list[tuple[str, Any]]:
    async with db.transaction() as s:
        rows = (await s.execute(text("SELECT key, value, headers FROM outbox ORDER BY id"))).all()
    return [(r.key, decode(r.value, [(k, v) for k, v in r.headers])) for r in rows]


async def from_kafka(bootstrap: str, topic: str, key: str, timeout: float = 60) -> Any:
    """The first event on `topic` with `key` (read from the beginning; the topic is this test's own)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for recs in (await consumer.getmany(timeout_ms=500)).values():
                for r in recs:
                    if r.key and r.key.decode() == key:
                        return decode(r.value, r.headers)
        raise AssertionError(f"no event with key {key} on {topic} within {timeout} s")
    finally:
        await consumer.stop()


async def test_an_order_on_account_is_published_for_a_shop_that_accepts_it(
    client, db, topic, kafka_bootstrap
):
    r = await shop(client, "ALI-B2B", accepts_on_account=True)
    assert r.status_code == 201, r.text
    assert r.json()["accepts_on_account"] is True and SECRET not in r.text
    assert (await client.get("/shops/alibaba/ALI-B2B")).json()["accepts_on_account"] is True

    d, oid = sample_order(FIXTURES, "alibaba")
    r = await post(client, "ALI-B2B", on_account(d))
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] is True and r.json()["channel_order_id"] == oid

    env = await from_kafka(kafka_bootstrap, topic[1], f"alibaba:{oid}")  # the relay published it
    assert (env.event_type, env.event_version) == ("channel.order.received", 2)
    data = env.data
    assert (data.payment, data.payment_terms, data.channel_status) == ("on_account", "period", "waitbuyerpay")
    assert data.due_at == datetime(2025, 7, 11, 16, 0, tzinfo=UTC) and data.paid_at is None
    assert (data.paid_cents, data.goods_cents, data.shop_id) == (329600, 339600, "ALI-B2B")
    assert data.buyer_id == "b2b-2212345678"


async def test_the_same_order_for_a_shop_that_does_not_accept_it_publishes_nothing(client, db):
    assert (await shop(client, "ALI-B2C")).json()["accepts_on_account"] is False  # the default
    d, oid = sample_order(FIXTURES, "alibaba")
    r = await post(client, "ALI-B2C", on_account(d))
    assert r.status_code == 202, r.text
    assert r.json() == {
        "accepted": False,
        "channel_order_id": oid,
        "reason": "status waitbuyerpay: on account (period), and shop ALI-B2C does not accept orders "
        "on account",
    }
    assert await outbox(db) == []
    r = await client.get("/received-orders", params={"channel": "alibaba", "channel_order_id": oid})
    (item,) = r.json()["items"]
    assert item["outcome"] == "ignored" and "does not accept orders on account" in item["reason"]

    d, oid = sample_order(FIXTURES, "alibaba")  # a paid order of the same shop is taken in
    assert (await post(client, "ALI-B2C", d)).json()["accepted"] is True
    ((key, env),) = await outbox(db)
    assert key == f"alibaba:{oid}" and env.data.payment == "paid" and env.data.payment_terms == "fxassure"


async def test_a_cancel_publishes_the_close_once(client, db):
    await shop(client, "ALI-1")
    d, oid = sample_order(FIXTURES, "alibaba")
    d["result"]["baseInfo"].update(status="cancel", closeOperateType="CLOSE_TRADE_BY_BUYER")
    for _ in range(2):
        r = await post(client, "ALI-1", d)
        assert r.status_code == 202 and r.json()["accepted"] is False, r.text
    ((key, env),) = await outbox(db)
    assert key == f"alibaba:{oid}" and env.event_type == "channel.order.closed"
    assert (env.data.reason, env.data.channel_status) == ("buyer_cancel", "cancel")


async def test_only_alibaba_shops_accept_orders_on_account_and_bad_orders_are_422(client, db):
    r = await client.put("/shops/jd/JD-1", json={"name": "J", "app_key": APP_KEY, "secret": SECRET,
                                                  "accepts_on_account": True})  # fmt: skip
    assert r.status_code == 422, r.text
    assert r.json()["problems"][0]["path"] == "body.accepts_on_account"
    assert (await client.get("/shops/jd/JD-1")).status_code == 404
    r = await shop(client, "ALI-1", accepts_on_account="yes")
    assert r.status_code == 422  # a strict boolean

    await shop(client, "ALI-1")
    d, _ = sample_order(FIXTURES, "alibaba")
    d["result"]["baseInfo"]["totalAmount"] = 3297.0
    d["result"]["baseInfo"]["discount"] = -9900
    r = await post(client, "ALI-1", d)
    assert r.status_code == 422, r.text
    paths = {p["path"] for p in r.json()["problems"]}
    assert paths == {"baseInfo.totalAmount", "baseInfo.discount"} and r.json()["platform"] == "alibaba"
    query, body = signed_order("alibaba", "ALI-1", d, APP_KEY, "not-the-secret-00000", NOW)
    r = await client.post("/channels/alibaba/orders", params=query, content=body)
    assert r.status_code == 401 and "signature" in r.json()["detail"]
    assert await outbox(db) == []
