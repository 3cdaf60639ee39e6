"""Refunds and closes of every channel over HTTP on the real PostgreSQL: a signed refund publishes
`channel.refund.received` once per (refund id, status) (read from the outbox), a close publishes
`channel.order.closed` once per order, `GET /after-sales` lists them with their delivery counts; a bad
signature, a stale timestamp, an unknown platform or a bad refund publishes nothing."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

import omni_channel
from omni_channel import api
from omni_channel.app import Settings, build
from omni_contracts import decode
from omni_tools.platform_orders import sample_order, signed_order
from omni_tools.platform_refunds import CHANNELS, sample_refund, signed_refund

pytestmark = pytest.mark.integration

MIGRATIONS = Path(omni_channel.__file__).parent / "migrations"
FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = datetime(2025, 6, 12, 2, 20, 0, tzinfo=UTC)
SECRET = "platform-secret-0123456789"
APP_KEY = "12345678"


@pytest.fixture
async def db(make_database):
    return await make_database("channel", migrations=MIGRATIONS)


@pytest.fixture
async def client(db, kafka_bootstrap):
    app = build(Settings(service_database_url=db.url))
    app.dependency_overrides[api.clock] = lambda: NOW
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            yield c


async def make_shop(client, platform: str) -> str:
    shop_id = (
        str(random.randint(10**6, 10**7)) if platform == "youzan" else f"{platform}-{uuid.uuid4().hex[:8]}"
    )
    r = await client.put(
        f"/shops/{platform}/{shop_id}", json={"name": "S", "app_key": APP_KEY, "secret": SECRET}
    )
    assert r.status_code == 201, r.text
    return shop_id


async def post_refund(client, platform, shop_id, doc, secret=SECRET, now=NOW) -> httpx.Response:
    query, body = signed_refund(platform, shop_id, doc, APP_KEY, secret, now)
    return await client.post(f"/channels/{platform}/refunds", params=query, content=body,
                             headers={"content-type": "application/json"})  # fmt: skip


async def outbox(db) -> list[Any]:
    async with db.transaction() as s:
        rows = (await s.execute(text("SELECT key, value, headers FROM outbox ORDER BY id"))).all()
    return [decode(r.value, [(k, v) for k, v in r.headers]) for r in rows]


def order_id_for(platform: str) -> str:
    if platform == "tmall":
        return str(random.randint(10**15, 9 * 10**15))
    return sample_order(FIXTURES, platform)[1]


@pytest.mark.parametrize("platform", CHANNELS)
async def test_a_refund_publishes_once_per_status_and_is_listed(client, db, platform):
    shop_id = await make_shop(client, platform)
    order_id = order_id_for(platform)
    doc, refund_id = sample_refund(FIXTURES, platform, order_id)

    r = await post_refund(client, platform, shop_id, doc, secret="not-the-secret-00000")
    assert r.status_code == 401, r.text
    if platform != "youzan":  # a Youzan push carries no timestamp (its msg is signed, and deduped)
        r = await post_refund(client, platform, shop_id, doc, now=NOW - timedelta(hours=1))
        assert r.status_code == 401 and "stale" in r.json()["detail"], r.text
    assert await outbox(db) == []

    r = await post_refund(client, platform, shop_id, doc)
    assert r.status_code == 202, r.text
    assert r.json()["published"] is True and r.json()["channel_refund_id"] == refund_id
    r = await post_refund(client, platform, shop_id, doc)
    assert r.status_code == 202 and r.json()["published"] is False and r.json()["deliveries"] == 2

    events = [e for e in await outbox(db) if e.event_type == "channel.refund.received"]
    assert len(events) == 1
    e = events[0].data
    assert (e.channel, e.shop_id, e.channel_order_id, e.channel_refund_id) == (platform, shop_id, order_id,
                                                                               refund_id)  # fmt: skip
    assert e.refund_cents > 0 and e.status == "requested"

    r = await client.get("/after-sales", params={"channel": platform, "kind": "refund", "shop_id": shop_id})
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 1 and r.json()["items"][0]["deliveries"] == 2
    r = await client.get(f"/after-sales/{platform}/refund/{refund_id}")
    assert r.status_code == 200, r.text
    assert [(s["channel_status"], s["deliveries"]) for s in r.json()["statuses"]] == [(e.channel_status, 2)]


async def test_an_unknown_platform_is_a_404_naming_the_known_ones(client):
    r = await client.post("/channels/amazon/refunds", content=b"{}")
    assert r.status_code == 404 and "tmall, jd, pdd, douyin, xiaohongshu, youzan" in r.json()["detail"]


@pytest.mark.parametrize("platform", ["jd", "pdd", "douyin", "xiaohongshu", "youzan"])
async def test_a_bad_refund_is_a_422_naming_the_field_and_publishes_nothing(client, db, platform):
    shop_id = await make_shop(client, platform)
    doc, _ = sample_refund(FIXTURES, platform, order_id_for(platform))
    inner = {"jd": lambda d: d["jingdong_pop_afs_soa_refundapply_queryPageList_responce"]["queryResult"][
                 "result"][0], "pdd": lambda d: d["refund_information_get_response"],
             "douyin": lambda d: d["data"]["process_info"]["after_sale_info"],
             "xiaohongshu": lambda d: d["data"], "youzan": lambda d: d}[platform](doc)  # fmt: skip
    key = {
        "jd": "id",
        "pdd": "id",
        "douyin": "aftersale_id",
        "xiaohongshu": "returnsId",
        "youzan": "refund_id",
    }
    inner[key[platform]] = 2**60 + 1  # an id beyond 2^53 as a JSON number
    r = await post_refund(client, platform, shop_id, doc)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["platform"] == platform and any("2^53" in p["message"] for p in body["problems"])
    assert await outbox(db) == []


def closed_order(platform: str) -> tuple[dict[str, Any], str, str]:
    doc, oid = sample_order(FIXTURES, platform)
    if platform == "jd":
        doc["jingdong_pop_order_get_responce"]["orderDetailInfo"]["orderInfo"]["orderState"] = (
            "TRADE_CANCELED"
        )
        return doc, oid, "unknown"
    if platform == "pdd":
        doc["order_info_get_response"]["order_info"]["refund_status"] = 4
        return doc, oid, "refunded"
    if platform == "douyin":
        doc["data"]["shop_order_detail"]["order_status"] = 4
        return doc, oid, "unknown"
    if platform == "xiaohongshu":
        doc["data"]["orderStatus"] = 9
        return doc, oid, "buyer_cancel"
    doc["full_order_info"]["order_info"].update(status="TRADE_CLOSED", close_type=5)
    return doc, oid, "seller_cancel"


@pytest.mark.parametrize("platform", ["jd", "pdd", "douyin", "xiaohongshu", "youzan"])
async def test_a_close_publishes_channel_order_closed_once(client, db, platform):
    shop_id = await make_shop(client, platform)
    doc, oid, reason = closed_order(platform)
    for _ in range(2):
        query, body = signed_order(platform, shop_id, doc, APP_KEY, SECRET, NOW)
        r = await client.post(f"/channels/{platform}/orders", params=query, content=body,
                              headers={"content-type": "application/json"})  # fmt: skip
        assert r.status_code == 202 and r.json()["accepted"] is False, r.text
    closes = [e.data for e in await outbox(db) if e.event_type == "channel.order.closed"]
    assert [(c.channel, c.channel_order_id, c.reason) for c in closes] == [(platform, oid, reason)]
    r = await client.get("/after-sales", params={"kind": "close", "channel_order_id": oid})
    assert r.json()["total"] == 1 and r.json()["items"][0]["deliveries"] == 2
