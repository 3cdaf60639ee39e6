"""JD, Pinduoduo, Douyin, Xiaohongshu and Youzan order webhooks over HTTP on the real PostgreSQL: a signed
order publishes `channel.order.received` v2 (read from the service's own outbox), a bad signature or a bad
payload publishes nothing."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

import omni_channel
from omni_channel import api
from omni_channel.app import Settings, build
from omni_channel.domain import platform_signing as sig
from omni_contracts import decode
from omni_tools.platform_orders import sample_order, signed_order

pytestmark = pytest.mark.integration

MIGRATIONS = Path(omni_channel.__file__).parent / "migrations"
FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = datetime(2025, 6, 12, 2, 20, 0, tzinfo=UTC)
TS = str(int(NOW.timestamp()))
SECRET = "platform-secret-0123456789"
APP_KEY = "app-key-1"
PLATFORMS = ["jd", "pdd", "douyin", "xiaohongshu", "youzan", "alibaba"]


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


def order(platform: str) -> tuple[dict[str, Any], str]:
    """The fixture order with a fresh id (the relay publishes it to the shared topic)."""
    return sample_order(FIXTURES, platform)


def signed(
    platform: str, shop_id: str, d: dict[str, Any], secret: str = SECRET
) -> tuple[dict[str, str], bytes]:
    """(query, body) signed the platform's way."""
    return signed_order(platform, shop_id, d, APP_KEY, secret, NOW)


async def post(client, platform: str, query: dict[str, str], body: bytes) -> httpx.Response:
    return await client.post(
        f"/channels/{platform}/orders",
        params=query,
        content=body,
        headers={"content-type": "application/json"},
    )


async def outbox(db) -> list[Any]:
    async with db.transaction() as s:
        rows = (await s.execute(text("SELECT key, value, headers FROM outbox ORDER BY id"))).all()
    return [(r.key, decode(r.value, [(k, v) for k, v in r.headers])) for r in rows]


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_signed_order_publishes_v2_and_a_repeat_is_deduped(client, db, platform):
    shop_id = await make_shop(client, platform)
    d, oid = order(platform)
    query, body = signed(platform, shop_id, d)
    r = await post(client, platform, query, body)
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] is True and r.json()["channel_order_id"] == oid
    ((key, env),) = await outbox(db)
    assert key == f"{platform}:{oid}"
    assert (env.event_type, env.event_version) == ("channel.order.received", 2)
    assert (env.data.channel, env.data.shop_id, env.data.paid_cents, env.data.goods_cents) == (
        platform, shop_id, 329600, 339600)  # fmt: skip
    assert [ln.paid_cents for ln in env.data.lines] == [300775, 28825]
    r = await post(client, platform, query, body)  # the same delivery again: recorded once more, same path
    assert r.status_code == 202
    async with db.transaction() as s:
        deliveries = (await s.execute(text("SELECT deliveries FROM received_orders"))).scalar_one()
    assert deliveries == 2


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_bad_signature_is_401_and_publishes_nothing(client, db, platform):
    shop_id = await make_shop(client, platform)
    d, _ = order(platform)
    query, body = signed(platform, shop_id, d, secret="not-the-secret-at-all")
    r = await post(client, platform, query, body)
    assert r.status_code == 401, r.text
    assert "signature" in r.json()["detail"]
    assert await outbox(db) == []


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_bad_payload_is_422_naming_the_field_and_platform(client, db, platform):
    shop_id = await make_shop(client, platform)
    d, _ = order(platform)
    bad = json.loads(json.dumps(d).replace("SET-COFFEE-PRO", "X" * 300))  # outer sku code beyond its cap
    query, body = signed(platform, shop_id, bad)
    r = await post(client, platform, query, body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["platform"] == platform and platform in problem["title"]
    assert any("too long" in p["message"] for p in problem["problems"])
    assert await outbox(db) == []


async def test_stale_timestamp_and_unknown_platform(client, db):
    shop_id = await make_shop(client, "douyin")
    d, _ = order("douyin")
    body = json.dumps(d).encode()
    old = str(int(NOW.timestamp()) - 3600)
    q = {"shop_id": shop_id, "app_key": APP_KEY, "timestamp": old, "sign_method": "md5",
         "sign": sig.sign_douyin(APP_KEY, body.decode(), old, SECRET, "md5")}  # fmt: skip
    r = await post(client, "douyin", q, body)
    assert r.status_code == 401 and "stale timestamp" in r.json()["detail"]
    assert (await post(client, "kuaishou", {}, b"{}")).status_code == 404
    assert await outbox(db) == []


async def test_a_youzan_redelivery_is_the_same_delivery(client, db):
    """As for Tmall, a repeat is published again (the order service dedupes per channel order) and counted on
    one receipt: for Youzan the receipt is keyed by the msg, not the envelope (sendCount and msg_id vary)."""
    shop_id = await make_shop(client, "youzan")
    d, _ = order("youzan")
    _, body = signed("youzan", shop_id, d)
    push = json.loads(body)
    assert (await post(client, "youzan", {}, body)).status_code == 202
    again = json.dumps({**push, "sendCount": 2, "msg_id": "m-2"}).encode()  # the same msg, sent again
    assert (await post(client, "youzan", {}, again)).status_code == 202
    keys = [key for key, _ in await outbox(db)]
    assert len(keys) == 2 and keys[0] == keys[1]
    async with db.transaction() as s:
        deliveries = (await s.execute(text("SELECT deliveries FROM received_orders"))).scalar_one()
    assert deliveries == 2
