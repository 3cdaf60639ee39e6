"""Tmall after-sales over HTTP on the real PostgreSQL: a signed refund publishes channel.refund.received
(read from the outbox), a repeat of the same status publishes nothing, a new status publishes again; a closed
trade publishes channel.order.closed once; a bad signature is a 401 and publishes nothing."""

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
from omni_channel.domain import format_china_time, sign_tmall
from omni_contracts import decode

pytestmark = pytest.mark.integration

MIGRATIONS = Path(omni_channel.__file__).parent / "migrations"
FIXTURE = Path(__file__).parents[1] / "fixtures" / "tmall_trade.json"
NOW = datetime(2025, 6, 12, 2, 20, 0, tzinfo=UTC)
SECRET = "tmall-secret-0123456789abcdef"
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


@pytest.fixture
async def shop(client) -> str:
    shop_id = f"tm-{uuid.uuid4().hex[:8]}"
    r = await client.put(f"/shops/tmall/{shop_id}", json={"name": "S", "app_key": APP_KEY, "secret": SECRET})
    assert r.status_code == 201, r.text
    return shop_id


def signed(shop_id: str, body: bytes, secret: str = SECRET) -> list[tuple[str, str]]:
    params = {
        "shop_id": shop_id,
        "app_key": APP_KEY,
        "timestamp": format_china_time(NOW),
        "sign_method": "hmac-sha256",
    }
    return [*params.items(), ("sign", sign_tmall(params, body, secret, "hmac-sha256"))]


async def post(client, path: str, shop_id: str, doc: dict[str, Any], secret: str = SECRET) -> httpx.Response:
    body = json.dumps(doc).encode()
    return await client.post(
        path, params=signed(shop_id, body, secret), content=body, headers={"content-type": "application/json"}
    )


async def outbox(db) -> list[Any]:
    async with db.transaction() as s:
        rows = (await s.execute(text("SELECT key, value, headers FROM outbox ORDER BY id"))).all()
    return [(r.key, decode(r.value, [(k, v) for k, v in r.headers])) for r in rows]


def refund(status: str) -> dict[str, Any]:
    tid = random.randint(10**18, 9 * 10**18)
    return {"refund": {"refund_id": str(tid + 7), "tid_str": str(tid), "oid_str": str(tid + 1),
                       "refund_fee": "288.25", "status": status, "has_good_return": False,
                       "reason": "七天无理由", "num": 1}}  # fmt: skip


async def test_a_refund_publishes_once_per_status(client, db, shop):
    doc = refund("WAIT_SELLER_AGREE")
    tid, rid = doc["refund"]["tid_str"], doc["refund"]["refund_id"]
    r = await post(client, "/channels/tmall/refunds", shop, doc)
    assert r.status_code == 202, r.text
    assert r.json()["published"] is True and r.json()["channel_refund_id"] == rid
    ((key, env),) = await outbox(db)
    assert key == f"tmall:{tid}"
    assert (env.event_type, env.event_version) == ("channel.refund.received", 1)
    assert (env.data.kind, env.data.status, env.data.refund_cents, env.data.shop_id) == (
        "refund_only", "requested", 28825, shop)  # fmt: skip
    assert [ln.refund_cents for ln in env.data.lines] == [28825]

    r = await post(client, "/channels/tmall/refunds", shop, doc)  # the same status again: nothing new
    assert r.status_code == 202 and r.json()["published"] is False and r.json()["deliveries"] == 2
    assert r.json()["event_id"] == str(env.event_id)
    assert len(await outbox(db)) == 1

    doc["refund"]["status"] = "SUCCESS"  # a new status publishes again
    r = await post(client, "/channels/tmall/refunds", shop, doc)
    assert r.json()["published"] is True
    events = await outbox(db)
    assert [e.data.status for _, e in events] == ["requested", "refunded"]


async def test_a_bad_signature_or_field_publishes_nothing(client, db, shop):
    r = await post(client, "/channels/tmall/refunds", shop, refund("SUCCESS"), secret="not-the-secret-0000")
    assert r.status_code == 401 and "signature" in r.json()["detail"]
    bad = refund("SUCCESS")
    bad["refund"]["refund_fee"] = "12.345"
    r = await post(client, "/channels/tmall/refunds", shop, bad)
    assert r.status_code == 422, r.text
    assert "refund_fee" in r.json()["detail"] and r.json()["platform"] == "tmall"
    assert await outbox(db) == []


@pytest.mark.parametrize("status", ["TRADE_CLOSED", "TRADE_CLOSED_BY_TAOBAO"])
async def test_a_closed_trade_publishes_channel_order_closed_once(client, db, shop, status):
    doc = json.loads(FIXTURE.read_text())
    trade = doc["trade_fullinfo_get_response"]["trade"]
    tid = random.randint(10**18, 9 * 10**18)
    trade["tid"], trade["tid_str"], trade["status"] = tid, str(tid), status
    for i, o in enumerate(trade["orders"]["order"], start=1):
        o["oid"], o["oid_str"] = tid + i, str(tid + i)
    r = await post(client, "/channels/tmall/orders", shop, doc)
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] is False  # not for fulfilment, as before
    ((key, env),) = await outbox(db)
    assert key == f"tmall:{tid}"
    assert (env.event_type, env.data.channel_status, env.data.channel_order_id) == (
        "channel.order.closed", status, str(tid))  # fmt: skip
    r = await post(client, "/channels/tmall/orders", shop, doc)  # a repeat publishes nothing
    assert r.status_code == 202
    assert len(await outbox(db)) == 1


async def test_a_second_close_status_of_the_same_trade_publishes_nothing(client, db, shop):
    doc = json.loads(FIXTURE.read_text())
    trade = doc["trade_fullinfo_get_response"]["trade"]
    tid = random.randint(10**18, 9 * 10**18)
    trade["tid"], trade["tid_str"] = tid, str(tid)
    for i, o in enumerate(trade["orders"]["order"], start=1):
        o["oid"], o["oid_str"] = tid + i, str(tid + i)
    for status in ("TRADE_CLOSED_BY_TAOBAO", "TRADE_CLOSED"):
        trade["status"] = status
        r = await post(client, "/channels/tmall/orders", shop, doc)
        assert r.status_code == 202, r.text
    closes = [env for _, env in await outbox(db) if env.event_type == "channel.order.closed"]
    assert [c.data.channel_status for c in closes] == ["TRADE_CLOSED_BY_TAOBAO"]  # the first close wins
    r = await client.get(f"/after-sales/tmall/close/{tid}")
    assert r.status_code == 200, r.text
    assert [(s["channel_status"], s["deliveries"]) for s in r.json()["statuses"]] == [
        ("TRADE_CLOSED_BY_TAOBAO", 2)
    ]
